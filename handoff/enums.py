"""Statuses and reasons of the handoff domain."""

from enum import StrEnum


class HandoffReason(StrEnum):
    """Why the bot handed the conversation to a person; the order is the queue priority."""

    urgent = "urgent"
    emotional = "emotional"
    explicit = "explicit"
    complex = "complex"

    @property
    def priority(self) -> int:
        """Lower numbers are served first."""
        return list(HandoffReason).index(self)


class TicketStatus(StrEnum):
    """Where a handoff ticket stands."""

    queued = "queued"
    callback = "callback"
    active = "active"
    closed = "closed"
    cancelled = "cancelled"


OPEN_STATUSES = (TicketStatus.queued, TicketStatus.callback, TicketStatus.active)
CLAIMABLE_STATUSES = (TicketStatus.queued, TicketStatus.callback)


class Disposition(StrEnum):
    """How an agent closed a ticket."""

    resolved = "resolved"
    referred = "referred"
    callback_done = "callback_done"
    no_response = "no_response"
    invalid = "invalid"
    returned_to_bot = "returned_to_bot"


class NoteKind(StrEnum):
    """What an internal note on a ticket records; notes are for staff and never reach the citizen."""

    note = "note"
    transfer = "transfer"
