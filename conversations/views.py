"""HTTP entry of the conversation router (the REST channel for integrations) and transcript reads.

An integration opens a conversation with its API key and gets the conversation's
id and access token; every later read or post presents that token.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from conversations import access
from conversations import service as conversation_service
from conversations.access import ConversationAccess, IntegrationAuth
from conversations.enums import Channel, ConversationMode
from conversations.flows import ConversationRouter
from conversations.rate_limit import limit_citizen_messages
from conversations.models import (
    CitizenMessageIn,
    ConversationOpened,
    ExchangeRead,
    MessageRead,
    TranscriptRead,
)
from service.database import SessionDep, TransactionalRoute
from service.openapi import error_responses

router = APIRouter(route_class=TransactionalRoute, prefix="/api/conversations", tags=["conversations"])

# Sequence numbers are per conversation; anything beyond a 32-bit range cannot exist.
MAX_SEQ = 2**31 - 1


def get_router(request: Request) -> ConversationRouter:
    """Returns the app's conversation router."""
    conversation_router: ConversationRouter = request.app.state.router
    return conversation_router


@router.post("", response_model=ConversationOpened, status_code=201, dependencies=[IntegrationAuth],
             responses=error_responses(401))
def open_conversation(request: Request, db_session: SessionDep) -> ConversationOpened:
    """Opens a conversation for an integration; the access token is shown only in this answer."""
    conversation_id = access.new_conversation_id(Channel.api)
    conversation_service.get_or_create(db_session=db_session, conversation_id=conversation_id, channel=Channel.api)
    token = access.issue_token(request.app.state.settings.secret_key, Channel.api, conversation_id)
    return ConversationOpened(conversation_id=conversation_id, access_token=token)


@router.post("/{conversation_id}/messages", response_model=ExchangeRead, dependencies=[Depends(limit_citizen_messages)],
             responses={503: {"model": ExchangeRead, "description": "The message is stored; the bot is down"},
                        **error_responses(401, 404, 413, 422, 429)})
async def post_message(conversation_id: ConversationAccess, body: CitizenMessageIn, request: Request
                       ) -> ExchangeRead | JSONResponse:
    """Stores a citizen message, routes it, and returns the replies."""
    with request.app.state.database.session() as db_session:
        conversation = conversation_service.get(db_session=db_session, conversation_id=conversation_id)
        if conversation is None or conversation.channel != Channel.api:
            raise access.not_found()
    exchange = await get_router(request).receive(
        conversation_id=conversation_id, channel=Channel.api, text=body.text, metadata=body.metadata,
    )
    if exchange.error:
        # The message and the apology are stored; the status tells clients the bot was down.
        return JSONResponse(exchange.model_dump(mode="json"), status_code=503)
    return exchange


@router.get("/{conversation_id}/messages", response_model=TranscriptRead,
            responses=error_responses(401, 404, 422))
def get_messages(
    conversation_id: ConversationAccess,
    db_session: SessionDep,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> TranscriptRead:
    """Returns a conversation's transcript after a sequence number."""
    conversation = conversation_service.get(db_session=db_session, conversation_id=conversation_id)
    if conversation is None or conversation.channel != Channel.api:
        raise access.not_found()
    messages = conversation_service.list_messages(
        db_session=db_session, conversation_id=conversation_id, after_seq=after, limit=limit
    )
    return TranscriptRead(
        conversation_id=conversation.id, mode=ConversationMode(conversation.mode),
        messages=[MessageRead.from_message(m) for m in messages],
    )
