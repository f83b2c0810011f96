"""Routes of the web chat channel: the widget's assets, its websocket, and the demo portal at ``/``."""

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, WebSocket
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from channels.web.flows import WidgetSocket
from conversations import access
from conversations import service as conversation_service
from conversations.enums import Channel
from service.database import TransactionalRoute
from service.texts import load_texts

router = APIRouter(route_class=TransactionalRoute, tags=["web"])

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEXTS_PLACEHOLDER = "__GOVCHAT_TEXTS__"
STYLES_PLACEHOLDER = "__GOVCHAT_STYLES__"
PARTS_PLACEHOLDER = "/* __GOVCHAT_PARTS__ */"
# Inserted into widget.js's closure, in this order; they only declare functions and methods.
WIDGET_PARTS = ("widget-dom.js", "widget-view.js")
templates = Environment(loader=FileSystemLoader(WEB_DIR / "templates"), autoescape=select_autoescape())


@dataclass(frozen=True)
class WidgetAsset:
    """A widget file prepared once: its bytes, gzip bytes and ETag."""

    body: bytes
    gzipped: bytes
    etag: str
    media_type: str


def build_widget_script() -> str:
    """Assembles widget.js with its parts, Chinese UI texts and styles, so embedding costs one request."""
    source = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    parts = "\n".join((STATIC_DIR / name).read_text(encoding="utf-8") for name in WIDGET_PARTS)
    texts = json.dumps(load_texts("channels.web")["widget"], ensure_ascii=False)
    styles = json.dumps((STATIC_DIR / "widget.css").read_text(encoding="utf-8"), ensure_ascii=False)
    return (source.replace(PARTS_PLACEHOLDER, parts).replace(TEXTS_PLACEHOLDER, texts)
            .replace(STYLES_PLACEHOLDER, styles))


def build_asset(source: str, media_type: str) -> WidgetAsset:
    """Prepares a served file once: bytes, gzip bytes and ETag."""
    body = source.encode("utf-8")
    return WidgetAsset(body=body, gzipped=gzip.compress(body, compresslevel=9, mtime=0),
                       etag=f'"{hashlib.sha256(body).hexdigest()[:20]}"', media_type=media_type)


def asset_response(request: Request, asset: WidgetAsset) -> Response:
    """Answers with the asset, gzipped when the browser accepts it, 304 when it already has it."""
    headers = {"ETag": asset.etag, "Cache-Control": "public, max-age=300", "Vary": "Accept-Encoding",
               # Government pages on other origins embed the widget.
               "Access-Control-Allow-Origin": "*"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(asset.gzipped, media_type=asset.media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/widget.js", include_in_schema=False)
def widget_script(request: Request) -> Response:
    """Serves the embeddable chat widget."""
    return asset_response(request, request.app.state.widget_assets["widget.js"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def demo_portal() -> HTMLResponse:
    """Shows the demo service-centre portal with the widget embedded."""
    return HTMLResponse(templates.get_template("portal.html").render())


def origin_allowed(websocket: WebSocket) -> bool:
    """Same-origin pages, the configured embedding sites and non-browser clients (no Origin) may connect."""
    origin = websocket.headers.get("origin")
    if origin is None:
        # Browsers always send Origin on a websocket; without one it is a script, which still needs the token.
        return True
    settings = websocket.app.state.settings
    own = f"{'https' if websocket.url.scheme == 'wss' else 'http'}://{websocket.headers.get('host', '')}"
    allowed = {own.rstrip("/"), settings.public_url.rstrip("/"), *(o.rstrip("/") for o in settings.web.allowed_origins)}
    return origin.rstrip("/") in allowed


@router.websocket("/ws/conversations")
async def new_conversation_socket(websocket: WebSocket) -> None:
    """Starts a widget conversation: the first frame gives its id and access token, then it is served."""
    if not origin_allowed(websocket):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    await websocket.accept()
    conversation_id = access.new_conversation_id(Channel.web)
    token = access.issue_token(websocket.app.state.settings.secret_key, Channel.web, conversation_id)
    # The row is created with the first message, so opening the widget writes nothing.
    await websocket.send_json({"type": "session", "conversation_id": conversation_id, "access_token": token})
    await WidgetSocket(websocket, conversation_id).serve()


@router.websocket("/ws/conversations/{conversation_id}")
async def conversation_socket(websocket: WebSocket, conversation_id: str) -> None:
    """Reconnects a widget to its conversation (``?token=``): live events out, citizen frames in."""
    if not origin_allowed(websocket):
        await websocket.close(code=1008, reason="origin not allowed")
        return
    await websocket.accept()
    token = websocket.query_params.get("token")
    secret_key = websocket.app.state.settings.secret_key
    if not access.token_matches(secret_key, Channel.web, conversation_id, token) or not is_web_conversation(
            websocket.app, conversation_id):
        # One answer for an unknown id, a wrong token and another channel's conversation.
        error = access.not_found()
        await websocket.send_json({"type": "error", "code": error.code, "message": error.message})
        await websocket.close(code=1008)
        return
    await WidgetSocket(websocket, conversation_id).serve()


def is_web_conversation(app: FastAPI, conversation_id: str) -> bool:
    """Tells whether the id is free or already a web conversation."""
    with app.state.database.session() as db_session:
        conversation = conversation_service.get(db_session=db_session, conversation_id=conversation_id)
        return conversation is None or conversation.channel == Channel.web


def install(app: FastAPI) -> None:
    """Mounts the channel's routes and prepares the widget's assets."""
    app.state.widget_assets = {"widget.js": build_asset(build_widget_script(), "application/javascript; charset=utf-8")}
    app.include_router(router)
