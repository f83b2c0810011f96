"""Statuses of FAQ answers."""

from enum import StrEnum


class AnswerStatus(StrEnum):
    """How the assistant replied to a question."""

    answered = "answered"
    clarify = "clarify"
    unknown = "unknown"
