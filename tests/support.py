"""Helpers tests share: acting as the citizen who owns a conversation."""

from typing import Any

from conversations import access
from conversations import service as conversation_service
from conversations.enums import Channel


def as_citizen(client: Any, conversation_id: str, channel: Channel = Channel.api) -> dict[str, str]:
    """Opens (if new) the conversation on the REST channel and returns its owner's Authorization header.

    Tests name their conversations for readability; the product draws ids itself
    (``POST /api/conversations``), which tests/conversations/test_access.py covers.
    """
    app = client.app
    with app.state.database.session() as db_session:
        conversation_service.get_or_create(db_session=db_session, conversation_id=conversation_id, channel=channel)
    return {"Authorization": f"Bearer {access.issue_token(app.state.settings.secret_key, channel, conversation_id)}"}


def open_live_conversation(base_url: str, api_key: str) -> tuple[str, dict[str, str]]:
    """Opens a conversation on a running service as an integration does; returns its id and owner's headers."""
    import httpx

    response = httpx.post(f"{base_url}/api/conversations", headers={"X-API-Key": api_key}, timeout=10)
    assert response.status_code == 201, response.text
    body = response.json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['access_token']}"}
