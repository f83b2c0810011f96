"""Long-running tasks a domain runs beside the app (re-alerts, overdue checks, live figures)."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from fastapi import FastAPI


def run_with_app(app: FastAPI, name: str, run: Callable[[FastAPI], Awaitable[None]]) -> None:
    """Runs ``run(app)`` as a task from start-up to shutdown; the task is ``app.state.background_tasks[name]``."""

    async def start(app: FastAPI) -> None:
        app.state.background_tasks[name] = asyncio.create_task(run(app))

    async def stop(app: FastAPI) -> None:
        task = app.state.background_tasks.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    if not hasattr(app.state, "background_tasks"):
        app.state.background_tasks = {}
    app.state.startup_tasks.append(start)
    app.state.shutdown_tasks.append(stop)
