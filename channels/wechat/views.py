"""HTTP routes of the WeChat channel: the callback WeChat calls, verified and answered within its window."""

from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from channels.wechat.access_token import AccessTokenStore
from channels.wechat.customer_service import WeChatApi
from channels.wechat.flows import SUCCESS, WeChatChannel
from channels.wechat.outbox import Outbox
from channels.wechat.protocol import CallbackCodec, echo_for_verification
from conversations.enums import Channel
from service.database import TransactionalRoute
from service.errors import ServiceError
from service.openapi import error_responses

router = APIRouter(route_class=TransactionalRoute, tags=["wechat"])


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": description}


# WeChat signs every callback in its query string; the routes read it whole, so the spec lists it here.
SIGNATURE_PARAMETERS = [
    _query("signature", "SHA-1 over the token, timestamp and nonce"),
    _query("timestamp", "Unix seconds when WeChat signed the request"),
    _query("nonce", "random string of the signature"),
]
VERIFY_EXTRA = {"parameters": [*SIGNATURE_PARAMETERS, _query("echostr", "echoed back once the signature checks out")]}
CALLBACK_EXTRA = {
    "parameters": [*SIGNATURE_PARAMETERS, _query("openid", "the sender"),
                   _query("encrypt_type", "aes when the message is encrypted"),
                   _query("msg_signature", "signature of an encrypted message")],
    "requestBody": {"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}},
}
# Bad signature or a channel without a token (403); unreadable or hostile XML (400).
CALLBACK_REFUSED = error_responses(400, 403)


def _channel(request: Request) -> WeChatChannel:
    """Returns the app's WeChat channel."""
    channel: WeChatChannel = request.app.state.wechat
    return channel


@router.get("/wechat/callback", response_class=PlainTextResponse,
            summary="WeChat server verification: echoes echostr when the signature is valid",
            openapi_extra=VERIFY_EXTRA, responses=CALLBACK_REFUSED)
async def verify_server(request: Request) -> PlainTextResponse:
    """Answers WeChat's URL verification."""
    echostr = echo_for_verification(_channel(request).settings, dict(request.query_params))
    return PlainTextResponse(echostr)


@router.post("/wechat/callback", summary="Messages and events from WeChat; answers a passive reply or success",
             openapi_extra=CALLBACK_EXTRA, response_class=PlainTextResponse, responses={
                 200: {"description": "success, or a passive reply",
                       "content": {"text/plain": {"schema": {"type": "string"}},
                                   "application/xml": {"schema": {"type": "string"}}}},
                 **CALLBACK_REFUSED, **error_responses(413)})
async def receive_callback(request: Request) -> Response:
    """Handles one message or event pushed by WeChat."""
    channel = _channel(request)
    limit = channel.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ServiceError(f"request body exceeds {limit} bytes", code="payload_too_large", status_code=413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ServiceError(f"request body exceeds {limit} bytes", code="payload_too_large", status_code=413)
    answer = await channel.handle(dict(request.query_params), body)
    if answer == SUCCESS:
        return PlainTextResponse(SUCCESS)
    return Response(content=answer, media_type="application/xml; charset=utf-8")


def install(app: FastAPI) -> None:
    """Mounts the callback, registers the pusher, and starts/stops the API client and outbox sweep."""
    settings = app.state.settings.wechat
    http = httpx.AsyncClient(base_url=settings.api_base_url.rstrip("/"), timeout=settings.api_timeout_seconds)
    tokens = AccessTokenStore(settings=settings, database=app.state.database, http=http)
    api = WeChatApi(http=http, tokens=tokens)
    channel = WeChatChannel(
        settings=settings, database=app.state.database, router=app.state.router,
        codec=CallbackCodec(settings), outbox=Outbox(database=app.state.database, api=api),
    )
    app.state.wechat = channel
    app.state.wechat_api = api
    app.state.router.register_pusher(Channel.wechat, channel.push)
    sweeper: dict[str, Any] = {}

    async def start(_app: FastAPI) -> None:
        if settings.enabled and settings.app_id:
            sweeper["task"] = channel.spawn(channel.sweep_forever())

    async def stop(_app: FastAPI) -> None:
        task = sweeper.pop("task", None)
        if task is not None:
            task.cancel()
        await channel.drain(timeout=settings.api_timeout_seconds)
        await http.aclose()

    app.state.startup_tasks.append(start)
    app.state.shutdown_tasks.append(stop)
    app.include_router(router)
