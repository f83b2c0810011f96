"""The staff-wide live channel: events every open console receives over /console/ws as topic "staff".

Domains publish here what any member of staff on duty should see at once: an
overdue complaint, figures that moved on the dashboard. The event is a dict
with a ``type``; each page's script picks the types it shows.
"""

from typing import Any

from fastapi import FastAPI

STAFF_TOPIC = "staff"


def publish_staff_event(app: FastAPI, event: dict[str, Any]) -> None:
    """Sends an event to every open console, on every service instance."""
    app.state.router.hub.publish(STAFF_TOPIC, event)
