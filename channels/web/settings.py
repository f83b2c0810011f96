"""Settings of the web chat channel (composed into service.settings.Settings as ``web``)."""

from pydantic import BaseModel, Field


class WebSettings(BaseModel):
    """Limits of the widget's websocket; set as ``WEB__MAX_FRAME_BYTES=...`` etc."""

    # A frame carries one message (max_message_chars) plus host-page metadata; anything larger is hostile.
    max_frame_bytes: int = Field(default=16 * 1024, ge=1024)
    max_metadata_chars: int = Field(default=4000, ge=100)
    # Frames a single socket may send per minute before being told to slow down.
    max_frames_per_minute: int = Field(default=60, ge=1)
    # Client ids remembered per conversation to drop re-sent messages (a reconnect re-sends the unacknowledged ones).
    remembered_client_ids: int = Field(default=200, ge=10)
    # Messages a reconnecting widget gets back when it asks for its transcript.
    sync_limit: int = Field(default=100, ge=1, le=500)
    # Other sites allowed to embed the widget (e.g. ["https://www.example.gov.cn"]); the service's own pages
    # (the demo portal) are always allowed, any other browser origin is refused.
    allowed_origins: list[str] = []
