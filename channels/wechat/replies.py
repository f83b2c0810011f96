"""Turns transcript messages into WeChat text: buttons become a numbered list the citizen answers by number."""

from dataclasses import dataclass, field
from typing import Any

from conversations.models import MessageRead
from service.texts import text as t


@dataclass
class RenderedReplies:
    """One text per message (numbered continuously) and the buttons behind the numbers."""

    texts: list[str] = field(default_factory=list)
    buttons: list[dict[str, Any]] = field(default_factory=list)

    def passive(self) -> str:
        """Joins every message into the single text of a passive reply."""
        return "\n\n".join(self.texts)


def render_one(body: str | None, buttons: list[dict[str, Any]], image: str | None, first_number: int) -> str:
    """Renders one message's text, image link and numbered buttons."""
    lines = [body] if body else []
    if image:
        lines.append(t("channels.wechat", "image", url=image))
    for offset, button in enumerate(buttons):
        lines.append(f"{first_number + offset}. {button['title']}")
    if buttons:
        lines.append(t("channels.wechat", "numbered_hint"))
    return "\n".join(lines)


def render_messages(messages: list[MessageRead]) -> RenderedReplies:
    """Renders transcript messages for WeChat."""
    rendered = RenderedReplies()
    for message in messages:
        buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
        body = render_one(message.text, buttons, message.image, len(rendered.buttons) + 1)
        rendered.buttons.extend(buttons)
        if body:
            rendered.texts.append(body)
    return rendered


def render_prompt(intro: str, buttons: list[dict[str, Any]]) -> RenderedReplies:
    """Renders a channel-made message (welcome, common questions) with its numbered choices."""
    return RenderedReplies(texts=[render_one(intro, buttons, None, 1)], buttons=list(buttons))
