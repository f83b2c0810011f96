"""Rate limit of the public message API: per conversation and per client address.

Mount as a dependency of the citizen message route, e.g.
``dependencies=[Depends(limit_citizen_messages)]`` on
``POST /api/conversations/{conversation_id}/messages``. The limits come from
``settings.attempts`` (``messages_per_conversation``, ``messages_per_address``
per ``message_window_seconds``); counters are shared by every instance on the
same database (service.attempts).
"""

from fastapi import FastAPI, Request
from starlette.requests import HTTPConnection

from conversations.models import CONVERSATION_ID_PATTERN
from service.attempts import AttemptSettings, attempts_for, client_address, retry_headers
from service.database import Database
from service.errors import ServiceError


async def check_message_rate(app: FastAPI, connection: HTTPConnection, conversation_id: str) -> None:
    """Refuses a citizen message over the limits with 429 ``rate_limited`` and Retry-After.

    Used by the REST route and by the widget socket, so a conversation has one budget whichever way
    its messages arrive. An id that is not a valid conversation id counts against the address only.
    """
    limits: AttemptSettings = app.state.settings.attempts
    database: Database = app.state.database
    window = limits.message_window_seconds
    async with database.async_session() as db_session:
        attempts = attempts_for(app, db_session)
        wait = attempts.hit(f"messages:ip:{client_address(connection)}", limits.messages_per_address, window)
        if CONVERSATION_ID_PATTERN.match(conversation_id):
            wait = max(wait, attempts.hit(f"messages:conversation:{conversation_id}",
                                          limits.messages_per_conversation, window))
    if wait:
        raise ServiceError("too many messages, please slow down", code="rate_limited", status_code=429,
                           details={"retry_after_seconds": wait}, headers=retry_headers(wait))


async def limit_citizen_messages(request: Request, conversation_id: str) -> None:
    """Dependency of the REST message route; every request counts, accepted or not."""
    await check_message_rate(request.app, request, conversation_id)
