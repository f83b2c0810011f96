"""The service as the browser tests run it: the real app plus a route that publishes hub events.

Started by ``uvicorn tests.channels.web.served_app:build --factory`` in a subprocess; settings come
from the environment. The process exits by itself when the test process that started it is gone.
"""

import os
import threading
import time
from typing import Any

from fastapi import FastAPI

from service.app import create_app


def exit_with_parent(parent_pid: int) -> None:
    """Ends this server when the test run that started it has ended."""
    while True:
        time.sleep(1)
        try:
            os.kill(parent_pid, 0)
        except OSError:
            os._exit(0)


def build() -> FastAPI:
    """Creates the app with a publishing route the tests use to play the handoff domain's events."""
    app = create_app()

    @app.post("/_test/publish/{conversation_id}", include_in_schema=False)
    async def publish(conversation_id: str, event: dict[str, Any]) -> dict[str, int]:
        app.state.router.publish_event(conversation_id, event)
        return {"subscribers": app.state.hub.subscriber_count(f"conversation:{conversation_id}")}

    parent = os.environ.get("WEB_TEST_PARENT_PID")
    if parent:
        threading.Thread(target=exit_with_parent, args=(int(parent),), daemon=True).start()
    return app
