"""Statuses and roles of conversations and messages."""

from enum import StrEnum


class ConversationMode(StrEnum):
    """Who answers the citizen: the bot, nobody yet (queued for a person), or an agent."""

    bot = "bot"
    waiting = "waiting"
    agent = "agent"


class Sender(StrEnum):
    """Author of a transcript message."""

    citizen = "citizen"
    bot = "bot"
    agent = "agent"
    system = "system"


class Channel(StrEnum):
    """Where a citizen reaches the assistant."""

    web = "web"
    wechat = "wechat"
    api = "api"
