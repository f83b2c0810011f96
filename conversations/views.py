"""HTTP entry of the conversation router (the plain API channel) and transcript reads."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from conversations import service as conversation_service
from conversations.enums import Channel, ConversationMode
from conversations.flows import ConversationRouter
from conversations.models import CitizenMessageIn, ExchangeRead, MessageRead, TranscriptRead
from service.database import SessionDep, TransactionalRoute

router = APIRouter(route_class=TransactionalRoute, prefix="/api/conversations", tags=["conversations"])

ConversationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def get_router(request: Request) -> ConversationRouter:
    """Returns the app's conversation router."""
    conversation_router: ConversationRouter = request.app.state.router
    return conversation_router


@router.post("/{conversation_id}/messages", response_model=ExchangeRead, responses={503: {"model": ExchangeRead}})
async def post_message(
    conversation_id: ConversationId, body: CitizenMessageIn, request: Request
) -> ExchangeRead | JSONResponse:
    """Stores a citizen message, routes it, and returns the replies."""
    exchange = await get_router(request).receive(
        conversation_id=conversation_id, channel=Channel.api, text=body.text, metadata=body.metadata,
    )
    if exchange.error:
        # The message and the apology are stored; the status tells clients the bot was down.
        return JSONResponse(exchange.model_dump(mode="json"), status_code=503)
    return exchange


@router.get("/{conversation_id}/messages", response_model=TranscriptRead)
def get_messages(
    conversation_id: ConversationId,
    db_session: SessionDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> TranscriptRead:
    """Returns a conversation's transcript after a sequence number."""
    conversation = conversation_service.get_or_404(db_session=db_session, conversation_id=conversation_id)
    messages = conversation_service.list_messages(
        db_session=db_session, conversation_id=conversation_id, after_seq=after, limit=limit
    )
    return TranscriptRead(
        conversation_id=conversation.id, mode=ConversationMode(conversation.mode),
        messages=[MessageRead.from_message(m) for m in messages],
    )
