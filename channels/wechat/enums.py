"""Modes and statuses of the WeChat channel."""

from enum import StrEnum


class EncryptionMode(StrEnum):
    """How the account's messages travel: in clear, AES-encrypted, or either (compatible)."""

    plaintext = "plaintext"
    compatible = "compatible"
    safe = "safe"


class InboundStatus(StrEnum):
    """Where the handling of one WeChat callback stands (shared by every service instance)."""

    processing = "processing"
    # A passive reply was produced; retries get the same reply.
    replied = "replied"
    # The bot was too slow: `success` was answered and the reply goes through the customer-service API.
    deferred = "deferred"
    # Nothing to answer (unsubscribe, unknown event).
    ignored = "ignored"


class DeliveryStatus(StrEnum):
    """State of one customer-service message in the outbox."""

    pending = "pending"
    # WeChat refused with 45015 (48-hour window closed): waits for the citizen's next message.
    window_closed = "window_closed"
    delivered = "delivered"
    # WeChat refused for good (e.g. unknown OpenID); kept for staff to see.
    rejected = "rejected"
