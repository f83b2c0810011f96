"""The emotion labels, spelled once for the bot and the service.

The bot's emotion component (bot/components/emotion.py) emits these labels,
the bot's actions send them on handoff tickets, and the service validates them
(handoff/models.py) and words them for agents (handoff/briefing.py,
handoff/console/texts.zh.yml). Both environments import this module: the bot
runs Python 3.10 without the service's packages, so it uses the standard
library only (``str`` + ``Enum`` rather than 3.11's ``StrEnum``).
"""

from enum import Enum


class Emotion(str, Enum):  # noqa: UP042 - StrEnum is 3.11-only; the bot runs 3.10
    """What the citizen's message shows: nothing in particular, anger, distress, or danger to a person."""

    neutral = "neutral"
    angry = "angry"
    distressed = "distressed"
    # Real danger to a person: self-harm, violence, a medical emergency, a missing child or elder, threats.
    urgent = "urgent"

    def __str__(self) -> str:
        return self.value


# Every label, in the classifier's class order.
LABELS: tuple[str, ...] = tuple(emotion.value for emotion in Emotion)
# Upset citizens: offered a person (with empathy) rather than sent the emergency numbers.
EMOTIONAL: tuple[str, ...] = (Emotion.angry.value, Emotion.distressed.value)
