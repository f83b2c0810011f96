"""The action server: rasa-sdk's app behind a shared secret, on the loopback interface by default.

Run from the project root in the bot environment::

    .venv-bot/bin/python -m bot.actions.server [--host 127.0.0.1] [--port 5055]

Rasa presents ``Authorization: Bearer <ACTION_SERVER_TOKEN>`` on every call (see
``endpoints.yml``); every request without that token is answered 401, except
``GET /health``, which health checks use and which reveals nothing. The server
refuses to start when ACTION_SERVER_TOKEN or INTERNAL_API_TOKEN (the actions'
token for the service's ``/internal/*`` API) is missing, short or a placeholder.

Environment: ACTION_SERVER_TOKEN and INTERNAL_API_TOKEN (required),
ACTION_SERVER_HOST (default 127.0.0.1), ACTION_SERVER_PORT (default 5055),
ACTION_SERVER_SANIC_WORKERS (rasa-sdk's, default 1). Secrets are read from the
environment only, never from the command line.
"""

import argparse
import hmac
import logging
import os
import sys
from typing import Dict, List, Mapping, Optional
from unittest import mock

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from service.secrets import secret_problem

logger = logging.getLogger("bot.actions.server")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
ACTIONS_PACKAGE = "bot.actions"
# The one request answered without the token: the health check.
OPEN_ROUTES = {("GET", "/health")}
UNAUTHORIZED_BODY = {"error": "unauthorized", "message": "missing or invalid bearer token"}


class StartupError(Exception):
    """The server must not start with this configuration."""


def required_secrets(environ: Mapping[str, str]) -> Dict[str, str]:
    """The secrets the server needs, read from the environment; raises StartupError naming every bad one."""
    values = {name: environ.get(name, "") for name in ("ACTION_SERVER_TOKEN", "INTERNAL_API_TOKEN")}
    problems = [f"{name} {problem}" for name, value in values.items() if (problem := secret_problem(value))]
    if problems:
        raise StartupError(
            "refusing to start: " + "; ".join(problems)
            + ". Set them in the environment (`make run` generates local ones under var/secrets.json)."
        )
    return values


def bearer_token(request: Request) -> Optional[str]:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def is_authorized(request: Request, expected: bytes) -> bool:
    """Whether the request carries the shared token (compared in constant time)."""
    offered = bearer_token(request)
    return offered is not None and hmac.compare_digest(offered.encode("utf-8", "surrogateescape"), expected)


def unauthorized() -> HTTPResponse:
    """The 401 answer: JSON, nothing about the server."""
    return response.json(UNAUTHORIZED_BODY, status=401, headers={"WWW-Authenticate": 'Bearer realm="actions"'})


def create_app(token: str, actions_package: str = ACTIONS_PACKAGE) -> Sanic:
    """rasa-sdk's app for the actions package, with every route but GET /health behind the token."""
    if secret_problem(token):
        raise StartupError(f"ACTION_SERVER_TOKEN {secret_problem(token)}")
    from rasa_sdk import endpoint

    # Only Rasa calls the action server, never a browser: without CORS, because
    # sanic-cors would answer OPTIONS requests itself, before any middleware.
    with mock.patch.object(endpoint, "configure_cors", lambda *_args, **_kwargs: None):
        app = endpoint.create_app(actions_package, cors_origins=None)
    expected = token.encode("utf-8", "surrogateescape")

    @app.listener("after_server_stop")
    async def close_pool(_app: Sanic, _loop: object) -> None:
        from bot.actions.service_client import close_shared_session

        await close_shared_session()

    @app.middleware("request")
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if (request.method, request.path) in OPEN_ROUTES or is_authorized(request, expected):
            return None
        return unauthorized()

    # Routing errors (unknown path, wrong method) happen before middleware runs:
    # answer them 401 too unless the caller has the token, and never echo the request.
    @app.exception(SanicException)
    async def sanic_error(request: Request, exception: SanicException) -> HTTPResponse:
        if request is None or not is_authorized(request, expected):
            return unauthorized()
        status = getattr(exception, "status_code", 500) or 500
        return response.json({"error": str(exception)}, status=status)

    return app


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Command-line options (never secrets); defaults come from the environment."""
    parser = argparse.ArgumentParser(description="Runs the project's action server behind a shared token.")
    parser.add_argument("--host", default=os.environ.get("ACTION_SERVER_HOST") or DEFAULT_HOST,
                        help="interface to bind (ACTION_SERVER_HOST, default %(default)s)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_SERVER_PORT") or DEFAULT_PORT),
                        help="port (ACTION_SERVER_PORT, default %(default)s)")
    parser.add_argument("--actions", default=ACTIONS_PACKAGE, help="actions package (default %(default)s)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry: checks the secrets, then serves until stopped."""
    args = parse_args(argv)
    try:
        secrets = required_secrets(os.environ)
    except StartupError as exc:
        print(f"action server: {exc}", file=sys.stderr, flush=True)
        return 2

    from rasa_sdk import utils

    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = create_app(secrets["ACTION_SERVER_TOKEN"], args.actions)
    logger.info("Action server listening on http://%s:%d (every route but GET /health needs the token)",
                args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
