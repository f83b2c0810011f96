"""HTTP routes of the handoff domain: the bot's internal API, the console's JSON API, ratings, canned replies."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, Response

from conversations import access
from conversations import service as conversation_service
from conversations.enums import ConversationMode
from conversations.flows import clean_citizen_text
from conversations.models import MessageRead
from handoff import flows
from handoff import service as handoff_service
from handoff.console.views import install_console
from handoff.enums import OPEN_STATUSES, TicketStatus
from handoff.models import (
    MAX_ROW_ID,
    CannedReplyIn,
    CannedReplyRead,
    CloseIn,
    HandoffTicket,
    NoteIn,
    NoteRead,
    RatingCreate,
    RatingRead,
    ReplyIn,
    TicketCreate,
    TicketCreated,
    TicketRead,
    TransferIn,
    as_utc,
)
from service.background import run_with_app
from service.database import SessionDep, TransactionalRoute
from service.errors import NotFoundError, ServiceError
from service.internal import InternalAuth
from service.openapi import error_responses
from service.pii import mask_text
from staff.auth import Staff, staff_api
from staff.enums import Area
from staff.models import StaffMemberRead
from staff.views import on_sign_in, on_sign_out

router = APIRouter(route_class=TransactionalRoute, tags=["handoff"])

TicketId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
CannedId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# The console API: no session (401); a change also needs the session's CSRF token and, on a chat, that the
# chat is the agent's own (403); unknown ticket (404); a ticket no longer in that state or taken (409).
SIGNED_IN = error_responses(401)
TICKET_CHANGE = error_responses(401, 403, 404, 409)
# Canned replies: any workspace member reads them; only supervisors write (403), titles are unique (409).
CANNED_CHANGE = error_responses(401, 403, 404, 409, 422)


# Reads and changes alike: staff_api checks the session, the role and, on a change, the CSRF token.
StaffDep = Annotated[Staff, Depends(staff_api(Area.workspace))]
SupervisorDep = Annotated[Staff, Depends(staff_api(Area.dashboard))]


def ticket_read(ticket: HandoffTicket, position: int | None = None) -> TicketRead:
    """Adds the queue place and the time waited to a ticket."""
    read = TicketRead.model_validate(ticket)
    read.position = position
    started = as_utc(ticket.created_at) or datetime.now(UTC)
    read.waiting_seconds = int(((as_utc(ticket.claimed_at) or datetime.now(UTC)) - started).total_seconds())
    return read


@router.post("/internal/handoff/tickets", response_model=TicketCreated, dependencies=[InternalAuth],
             responses=error_responses(401))
async def create_ticket(body: TicketCreate, request: Request) -> TicketCreated:
    """Hands a conversation to people; a repeated call returns the open ticket."""
    return await flows.open_ticket(request.app, body)


@router.post("/internal/handoff/ratings", response_model=RatingRead, status_code=201, dependencies=[InternalAuth],
             responses=error_responses(401, 404, 409))
def rate_from_bot(body: RatingCreate, request: Request, db_session: SessionDep) -> RatingRead:
    """Stores the rating the citizen gave the bot after a chat."""
    ticket = flows.store_rating(request.app, db_session=db_session, rating=body.rating,
                                comment=_clean_comment(body.comment), ticket_id=body.ticket_id,
                                conversation_id=body.conversation_id)
    return _rating_read(db_session, ticket.id)


@router.post("/api/handoff/ratings", response_model=RatingRead, status_code=201,
             responses=error_responses(401, 404, 409, 422))
def rate_from_widget(body: RatingCreate, request: Request, db_session: SessionDep,
                     authorization: Annotated[str | None, Header()] = None) -> RatingRead:
    """Stores a citizen's rating; the conversation's access token proves whose chat it was."""
    if body.conversation_id is None:
        raise ServiceError("conversation_id is required", code="invalid_request", status_code=422)
    token = access.bearer_token(authorization)
    if token is None:
        raise ServiceError("the conversation's access token is required", code="unauthorized", status_code=401)
    secret_key = request.app.state.settings.secret_key
    if not any(access.token_matches(secret_key, channel, body.conversation_id, token)
               for channel in access.TOKEN_CHANNELS):
        raise access.not_found()
    ticket = flows.store_rating(request.app, db_session=db_session, rating=body.rating,
                                comment=_clean_comment(body.comment), ticket_id=body.ticket_id,
                                conversation_id=body.conversation_id)
    return _rating_read(db_session, ticket.id)


def _clean_comment(comment: str | None) -> str | None:
    if comment is None or not comment.strip():
        return None
    return clean_citizen_text(comment, 500)


def _rating_read(db_session: Any, ticket_id: int) -> RatingRead:
    return RatingRead.model_validate(handoff_service.get_rating(db_session=db_session, ticket_id=ticket_id))


@router.get("/api/handoff/queue", responses=SIGNED_IN)
def get_queue(agent: StaffDep, request: Request, db_session: SessionDep) -> dict[str, Any]:
    """Returns the waiting tickets in serving order, the callbacks, and the agent's own chats."""
    queued = handoff_service.get_queue(db_session=db_session)
    callbacks = handoff_service.get_queue(db_session=db_session, status=TicketStatus.callback)
    mine = handoff_service.get_for_agent(db_session=db_session, agent_id=agent.account_id)
    return {
        "queued": [ticket_read(t, i).model_dump(mode="json") for i, t in enumerate(queued, start=1)],
        "callbacks": [ticket_read(t).model_dump(mode="json") for t in callbacks],
        "mine": [ticket_read(t).model_dump(mode="json") for t in mine],
        "agents_online": flows.count_online(request.app, db_session),
        "working_time": flows.is_working_time(request.app.state.settings.handoff,
                                              request.app.state.settings.timezone, datetime.now(UTC)),
    }


@router.get("/api/handoff/tickets/{ticket_id}", responses={**SIGNED_IN, **error_responses(404)})
def get_ticket(ticket_id: TicketId, agent: StaffDep, db_session: SessionDep) -> dict[str, Any]:
    """Returns a ticket's context and the conversation's transcript (PII masked before the handoff)."""
    ticket = handoff_service.get_or_404(db_session=db_session, ticket_id=ticket_id)
    if not handoff_service.may_see(agent, ticket):
        # The same answer as an unknown ticket: an agent learns nothing of colleagues' finished chats.
        raise NotFoundError(f"handoff ticket {ticket_id} not found", code="ticket_not_found")
    messages = []
    for message in conversation_service.recent_messages(db_session=db_session,
                                                        conversation_id=ticket.conversation_id, limit=200):
        read = MessageRead.from_message(message)
        if read.seq <= ticket.opened_seq and read.text:
            read.text = mask_text(read.text)
        messages.append(read.model_dump(mode="json"))
    owner = handoff_service.get_agent(db_session=db_session, agent_id=ticket.agent_id) if ticket.agent_id else None
    position = handoff_service.get_position(db_session=db_session, ticket=ticket)
    conversation = conversation_service.get_or_404(db_session=db_session, conversation_id=ticket.conversation_id)
    return {"ticket": ticket_read(ticket, position).model_dump(mode="json"), "messages": messages,
            "agent_name": owner.display_name if owner else None, "mode": ConversationMode(conversation.mode),
            "is_mine": ticket.agent_id == agent.id,
            "notes": [NoteRead.model_validate(n).model_dump(mode="json")
                      for n in handoff_service.get_notes(db_session=db_session, ticket_id=ticket.id)],
            "may_note": ticket.status in OPEN_STATUSES and (ticket.agent_id == agent.id or agent.is_supervisor)}


@router.post("/api/handoff/tickets/{ticket_id}/claim", responses=TICKET_CHANGE)
async def claim(ticket_id: TicketId, agent: StaffDep, request: Request) -> dict[str, Any]:
    """Takes a waiting ticket (atomic: a ticket another agent took answers 409)."""
    ticket = await flows.claim_ticket(request.app, ticket_id=ticket_id, agent=agent)
    return {"ticket": ticket_read(ticket).model_dump(mode="json")}


@router.post("/api/handoff/tickets/{ticket_id}/messages", status_code=201, responses=TICKET_CHANGE)
async def reply(ticket_id: TicketId, body: ReplyIn, agent: StaffDep, request: Request) -> dict[str, Any]:
    """Sends the agent's message to the citizen."""
    text = clean_citizen_text(body.text, 2000)
    await flows.send_agent_reply(request.app, ticket_id=ticket_id, agent=agent, text=text)
    return {"ok": True}


@router.post("/api/handoff/tickets/{ticket_id}/transfer", responses=TICKET_CHANGE)
async def transfer(ticket_id: TicketId, body: TransferIn, agent: StaffDep, request: Request) -> dict[str, Any]:
    """Hands the chat to another agent, with an optional note only the receiving agent reads."""
    ticket = await flows.transfer_ticket(request.app, ticket_id=ticket_id, agent=agent, to_agent_id=body.agent_id,
                                         note=body.note)
    return {"ticket": ticket_read(ticket).model_dump(mode="json")}


@router.post("/api/handoff/tickets/{ticket_id}/notes", status_code=201, response_model=NoteRead,
             responses={**TICKET_CHANGE, **error_responses(422)})
async def add_note(ticket_id: TicketId, body: NoteIn, agent: StaffDep, request: Request) -> NoteRead:
    """Keeps an internal note on the ticket (its agent or a supervisor); the citizen never sees it."""
    note = await flows.add_note(request.app, ticket_id=ticket_id, author=agent, text=body.text)
    return NoteRead.model_validate(note)


@router.post("/api/handoff/tickets/{ticket_id}/close", responses=TICKET_CHANGE)
async def close(ticket_id: TicketId, body: CloseIn, agent: StaffDep, request: Request) -> dict[str, Any]:
    """Closes the chat with a disposition; the bot resumes and asks for a rating."""
    note = clean_citizen_text(body.note, 2000) if body.note and body.note.strip() else None
    ticket = await flows.end_chat(request.app, ticket_id=ticket_id, agent=agent, disposition=body.disposition,
                                  note=note)
    return {"ticket": ticket_read(ticket).model_dump(mode="json")}


@router.get("/api/handoff/agents", responses=SIGNED_IN)
def get_agents(agent: StaffDep, request: Request, db_session: SessionDep) -> dict[str, Any]:
    """Lists colleagues online, with their open chats (for transfers)."""
    online = handoff_service.get_online_agents(
        db_session=db_session, now=datetime.now(UTC),
        timeout_seconds=request.app.state.settings.handoff.presence_timeout_seconds)
    return {"agents": [{**StaffMemberRead.model_validate(a).model_dump(mode="json"),
                        "active_chats": len(handoff_service.get_for_agent(db_session=db_session, agent_id=a.id))}
                       for a in online]}


@router.get("/api/handoff/canned", response_model=list[CannedReplyRead], responses=error_responses(401, 403))
def list_canned(agent: StaffDep, db_session: SessionDep,
                include_inactive: Annotated[bool, Query()] = False) -> list[CannedReplyRead]:
    """The canned replies agents insert into a chat; supervisors may ask for the inactive ones too."""
    if include_inactive and not agent.is_supervisor:
        raise ServiceError("only supervisors see inactive canned replies", code="forbidden", status_code=403)
    replies = handoff_service.get_all_canned(db_session=db_session, include_inactive=include_inactive)
    return [CannedReplyRead.model_validate(r) for r in replies]


@router.post("/api/handoff/canned", status_code=201, response_model=CannedReplyRead, responses=CANNED_CHANGE)
def create_canned(body: CannedReplyIn, supervisor: SupervisorDep, db_session: SessionDep) -> CannedReplyRead:
    """Adds a canned reply (supervisors only)."""
    reply = handoff_service.create_canned(db_session=db_session, canned_in=body, updated_by=supervisor.display_name)
    return CannedReplyRead.model_validate(reply)


@router.put("/api/handoff/canned/{reply_id}", response_model=CannedReplyRead, responses=CANNED_CHANGE)
def update_canned(reply_id: CannedId, body: CannedReplyIn, supervisor: SupervisorDep,
                  db_session: SessionDep) -> CannedReplyRead:
    """Rewrites a canned reply (supervisors only)."""
    reply = handoff_service.get_canned_or_404(db_session=db_session, reply_id=reply_id)
    reply = handoff_service.update_canned(db_session=db_session, reply=reply, canned_in=body,
                                          updated_by=supervisor.display_name)
    return CannedReplyRead.model_validate(reply)


@router.delete("/api/handoff/canned/{reply_id}", status_code=204, response_class=Response,
               responses=error_responses(401, 403, 404, 422))
def delete_canned(reply_id: CannedId, supervisor: SupervisorDep, db_session: SessionDep) -> Response:
    """Deletes a canned reply (supervisors only)."""
    reply = handoff_service.get_canned_or_404(db_session=db_session, reply_id=reply_id)
    handoff_service.delete_canned(db_session=db_session, reply=reply)
    return Response(status_code=204)


@router.get("/api/handoff/overview", responses=error_responses(401, 403))
def overview(agent: SupervisorDep, request: Request, db_session: SessionDep) -> dict[str, Any]:
    """The supervisor's board: queue with waiting times, chats in progress, agents online, ratings."""
    queued = handoff_service.get_queue(db_session=db_session)
    callbacks = handoff_service.get_queue(db_session=db_session, status=TicketStatus.callback)
    active = handoff_service.get_active(db_session=db_session)
    agents = get_agents(agent, request, db_session)["agents"]
    names = {a.id: a.display_name for a in handoff_service.get_agents(db_session=db_session)}
    waits = [ticket_read(t).waiting_seconds or 0 for t in queued]
    return {
        "queued": [ticket_read(t, i).model_dump(mode="json") for i, t in enumerate(queued, start=1)],
        "callbacks": [ticket_read(t).model_dump(mode="json") for t in callbacks],
        "active": [{**ticket_read(t).model_dump(mode="json"), "agent_name": names.get(t.agent_id or 0)}
                   for t in active],
        "agents": agents,
        "longest_wait_seconds": max(waits, default=0),
        "ratings": handoff_service.rating_summary(db_session=db_session),
        "latest_ratings": [RatingRead.model_validate(r).model_dump(mode="json")
                           for r in handoff_service.get_ratings(db_session=db_session, limit=20)],
    }


def install(app: FastAPI) -> None:
    """Mounts the handoff API and console, the router's mode handlers, staff login and the re-alert task."""
    async def waiting(router: Any, conversation_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        return await flows.handle_waiting_message(router, conversation_id, text, metadata, app=app)

    async def with_agent(router: Any, conversation_id: str, text: str,
                         metadata: dict[str, Any]) -> list[dict[str, Any]]:
        return await flows.handle_agent_message(router, conversation_id, text, metadata, app=app)

    app.include_router(router)
    install_console(app)
    app.state.router.register_mode_handler(ConversationMode.waiting, waiting)
    app.state.router.register_mode_handler(ConversationMode.agent, with_agent)
    app.state.router.register_mode_state(ConversationMode.waiting,
                                         lambda conversation_id: flows.describe_waiting(app, conversation_id))
    on_sign_in(app, lambda app, staff_id: flows.mark_presence(app, staff_id, online=True))
    on_sign_out(app, lambda app, staff_id: flows.mark_presence(app, staff_id, online=False))
    run_with_app(app, "handoff_realerts", flows.run_realerts)
