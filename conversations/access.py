"""Who may read, post to and subscribe to a conversation.

A conversation belongs to the citizen who opened it. The server picks its id and
signs an access token over the channel and the id (HMAC-SHA256 with a key derived
from ``SECRET_KEY``); the client keeps the token (the widget in localStorage) and
presents it on every read, post and socket subscription. A token opens one
conversation of one channel only, so a web token cannot post into a WeChat
conversation, and WeChat conversations get no token at all (their only door is
the signed callback). An unknown id and a wrong token get the same answer.
"""

import base64
import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Header, Request

from conversations.enums import Channel
from conversations.models import CONVERSATION_ID_PATTERN
from service.errors import ServiceError
from service.secrets import matches_any

TOKEN_VERSION = "v1"
# Channels whose clients hold access tokens; WeChat is reached only through its signed callback.
TOKEN_CHANNELS = (Channel.web, Channel.api)


def _key(secret_key: str) -> bytes:
    # A key of its own, so a conversation token can never double as a console cookie signature.
    return hmac.new(secret_key.encode(), b"conversation-access-token", hashlib.sha256).digest()


def new_conversation_id(channel: Channel) -> str:
    """Draws an unguessable conversation id (24 random URL-safe characters after the channel)."""
    return f"{channel.value}-{secrets.token_urlsafe(18)}"


def issue_token(secret_key: str, channel: Channel, conversation_id: str) -> str:
    """Signs the access token of one conversation."""
    if channel not in TOKEN_CHANNELS:
        raise ValueError(f"{channel} conversations have no access token")
    digest = hmac.new(_key(secret_key), f"{channel.value}:{conversation_id}".encode(), hashlib.sha256).digest()
    return f"{TOKEN_VERSION}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def token_matches(secret_key: str, channel: Channel, conversation_id: str, token: str | None) -> bool:
    """True when the token opens this conversation on this channel."""
    if not token or len(token) > 200 or not CONVERSATION_ID_PATTERN.match(conversation_id):
        return False
    return matches_any(token, [issue_token(secret_key, channel, conversation_id)])


def not_found() -> ServiceError:
    """The one answer for an unknown conversation and for a token that does not open it."""
    return ServiceError("no conversation matches this id and access token", code="conversation_not_found",
                        status_code=404)


def bearer_token(authorization: str | None) -> str | None:
    """Extracts the token of an ``Authorization: Bearer`` header."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def require_conversation_token(
    request: Request, conversation_id: str, authorization: Annotated[str | None, Header()] = None,
) -> str:
    """Dependency of the REST channel's conversation routes: the caller must hold the conversation's token."""
    token = bearer_token(authorization)
    if token is None:
        raise ServiceError("this conversation needs its access token (Authorization: Bearer <token>)",
                           code="unauthorized", status_code=401)
    if not token_matches(request.app.state.settings.secret_key, Channel.api, conversation_id, token):
        raise not_found()
    return conversation_id


def require_integration_key(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Dependency: the caller is an integration with one of the configured API keys."""
    if not matches_any(x_api_key, request.app.state.settings.integration_api_keys):
        raise ServiceError("a valid integration API key is required (X-API-Key)", code="unauthorized",
                           status_code=401)


ConversationAccess = Annotated[str, Depends(require_conversation_token)]
IntegrationAuth = Depends(require_integration_key)
