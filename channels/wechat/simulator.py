"""A local stand-in for the WeChat platform, speaking its real protocol, for tests, demos and benchmarks.

It plays both sides WeChat plays: it calls the service's callback like WeChat
(signed, AES-encrypted in safe mode, a 5-second timeout and three retries),
and it serves the REST API the service calls (cgi-bin/token,
cgi-bin/message/custom/send, cgi-bin/menu/create), recording everything and
answering with WeChat's error codes on request. ``ScriptedRestBot`` answers
Rasa's REST webhook protocol with a configurable delay, so the channel can be
exercised without a trained model.
"""

import asyncio
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as safe_xml
import httpx
import uvicorn
from fastapi import FastAPI, Request
from wechatpy.crypto import WeChatCrypto

from channels.wechat.protocol import sign

CALLBACK_TIMEOUT_SECONDS = 5.0
CALLBACK_RETRIES = 3


def free_port() -> int:
    """Asks the OS for a free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerThread:
    """Runs an ASGI app under uvicorn on 127.0.0.1 in a daemon thread; stops on exit."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class CallbackResult:
    """What WeChat saw when pushing one message: each attempt and the passive reply, if any."""

    attempts: int = 0
    statuses: list[int | None] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    body: str = ""
    reply: dict[str, str] | None = None

    @property
    def reply_text(self) -> str | None:
        """The passive reply's text content."""
        return self.reply.get("Content") if self.reply else None


class WeChatPlatform:
    """The simulated WeChat platform for one Official Account."""

    def __init__(self, *, token: str, app_id: str, app_secret: str, encoding_aes_key: str = "",
                 account: str = "gh_simulated", token_lifetime: int = 7200) -> None:
        self.token = token
        self.app_id = app_id
        self.app_secret = app_secret
        self.account = account
        self.token_lifetime = token_lifetime
        self.crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self.callback_url = ""
        self.valid_tokens: set[str] = set()
        self.token_requests = 0
        self.custom_messages: list[dict[str, Any]] = []
        self.refused_messages: list[dict[str, Any]] = []
        self.menus: list[dict[str, Any]] = []
        self.forced_errors: list[int] = []
        self.closed_windows: set[str] = set()
        self._lock = threading.Lock()
        self._msg_ids = int(time.time() * 1000)
        self.api = self._build_api()

    # --- the REST API the service calls ---------------------------------------------------------

    def _build_api(self) -> FastAPI:
        """Builds the cgi-bin endpoints."""
        api = FastAPI()

        @api.get("/cgi-bin/token")
        async def issue_token(grant_type: str = "", appid: str = "", secret: str = "") -> dict[str, Any]:
            with self._lock:
                self.token_requests += 1
                if grant_type != "client_credential" or appid != self.app_id or secret != self.app_secret:
                    return {"errcode": 40125, "errmsg": "invalid appsecret"}
                issued = f"tok-{self.token_requests}-{secrets.token_hex(8)}"
                # Like WeChat: a new token replaces the old one.
                self.valid_tokens = {issued}
            return {"access_token": issued, "expires_in": self.token_lifetime}

        @api.post("/cgi-bin/message/custom/send")
        async def custom_send(request: Request, access_token: str = "") -> dict[str, Any]:
            body = await request.json()
            return self._answer_api("custom_send", access_token, body)

        @api.post("/cgi-bin/menu/create")
        async def create_menu(request: Request, access_token: str = "") -> dict[str, Any]:
            body = await request.json()
            return self._answer_api("menu", access_token, body)

        return api

    def _answer_api(self, kind: str, access_token: str, body: dict[str, Any]) -> dict[str, Any]:
        """Checks the token, applies injected errors and records the call."""
        with self._lock:
            if access_token not in self.valid_tokens:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            if self.forced_errors:
                errcode = self.forced_errors.pop(0)
                if errcode in (40001, 42001):
                    self.valid_tokens.discard(access_token)
                self.refused_messages.append({"errcode": errcode, **body})
                return {"errcode": errcode, "errmsg": "simulated error"}
            if kind == "menu":
                self.menus.append(body)
                return {"errcode": 0, "errmsg": "ok"}
            touser = str(body.get("touser", ""))
            if touser in self.closed_windows:
                self.refused_messages.append({"errcode": 45015, **body})
                return {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            self.custom_messages.append({"touser": touser, "content": body.get("text", {}).get("content"),
                                         "at": time.time()})
            return {"errcode": 0, "errmsg": "ok"}

    def fail_next(self, *errcodes: int) -> None:
        """Makes the next API calls answer these errcodes (40001, 42001, 45015...)."""
        with self._lock:
            self.forced_errors.extend(errcodes)

    def expire_access_tokens(self) -> None:
        """Invalidates every issued token, as when it expires or another party fetches a new one."""
        with self._lock:
            self.valid_tokens.clear()

    def close_window(self, openid: str) -> None:
        """The citizen has not written for 48 hours: customer-service messages get 45015."""
        with self._lock:
            self.closed_windows.add(openid)

    def messages_to(self, openid: str) -> list[str]:
        """Texts delivered to a citizen through the customer-service API."""
        with self._lock:
            return [str(m["content"]) for m in self.custom_messages if m["touser"] == openid]

    # --- calling the service like WeChat ---------------------------------------------------------

    def next_msg_id(self) -> str:
        """A fresh 64-bit-like MsgId."""
        with self._lock:
            self._msg_ids += 1
            return str(self._msg_ids)

    def message_xml(self, fields: dict[str, str]) -> str:
        """Serialises message fields the way WeChat does."""
        parts = []
        for tag, value in fields.items():
            numeric = tag in {"CreateTime", "MsgId"}
            parts.append(f"<{tag}>{escape(value)}</{tag}>" if numeric else f"<{tag}><![CDATA[{value}]]></{tag}>")
        return "<xml>" + "".join(parts) + "</xml>"

    def text_fields(self, openid: str, content: str, msg_id: str | None = None) -> dict[str, str]:
        """Fields of a text message from a citizen."""
        return {"ToUserName": self.account, "FromUserName": openid, "CreateTime": str(int(time.time())),
                "MsgType": "text", "Content": content, "MsgId": msg_id or self.next_msg_id()}

    def event_fields(self, openid: str, event: str, key: str = "", create_time: int | None = None) -> dict[str, str]:
        """Fields of an event (subscribe, unsubscribe, CLICK...)."""
        fields = {"ToUserName": self.account, "FromUserName": openid,
                  "CreateTime": str(create_time or int(time.time())), "MsgType": "event", "Event": event}
        if key:
            fields["EventKey"] = key
        return fields

    def signed_request(self, fields: dict[str, str], *, encrypted: bool) -> tuple[dict[str, str], bytes]:
        """Builds the query string and body of one push, signed (and sealed) like WeChat."""
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(5)
        params = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                  "openid": fields.get("FromUserName", "")}
        xml = self.message_xml(fields)
        if not encrypted:
            return params, xml.encode("utf-8")
        assert self.crypto is not None, "safe mode needs an EncodingAESKey"
        sealed = safe_xml.fromstring(self.crypto.encrypt_message(xml, nonce, timestamp))
        ciphertext = sealed.findtext("Encrypt") or ""
        params.update(encrypt_type="aes", msg_signature=sign(self.token, timestamp, nonce, ciphertext))
        body = (f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                f"<Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>")
        return params, body.encode("utf-8")

    def push(self, fields: dict[str, str], *, encrypted: bool = False, retries: int = CALLBACK_RETRIES,
             timeout: float = CALLBACK_TIMEOUT_SECONDS, url: str | None = None) -> CallbackResult:
        """Pushes one message to the callback (or ``url``); retries after a timeout as WeChat does."""
        result = CallbackResult()
        # The citizen writing reopens their 48-hour customer-service window.
        if not (fields.get("MsgType") == "event" and fields.get("Event") == "unsubscribe"):
            with self._lock:
                self.closed_windows.discard(fields.get("FromUserName", ""))
        with httpx.Client(timeout=timeout) as client:
            for _ in range(retries + 1):
                params, body = self.signed_request(fields, encrypted=encrypted)
                result.attempts += 1
                started = time.perf_counter()
                try:
                    response = client.post(url or self.callback_url, params=params, content=body,
                                           headers={"Content-Type": "text/xml"})
                except httpx.TimeoutException:
                    result.statuses.append(None)
                    result.latencies.append(time.perf_counter() - started)
                    continue
                result.statuses.append(response.status_code)
                result.latencies.append(time.perf_counter() - started)
                result.body = response.text
                if response.status_code == 200:
                    result.reply = self.open_reply(response.text, encrypted=encrypted)
                break
        return result

    def open_reply(self, body: str, *, encrypted: bool) -> dict[str, str] | None:
        """Reads a passive reply (checking its signature in safe mode); `success` or empty means none."""
        if body.strip() in {"", "success"}:
            return None
        root = safe_xml.fromstring(body.encode("utf-8"))
        fields = {child.tag: child.text or "" for child in root}
        if encrypted:
            assert self.crypto is not None
            expected = sign(self.token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
            if expected != fields["MsgSignature"]:
                raise AssertionError("passive reply carries a wrong MsgSignature")
            inner = self.crypto.decrypt_message({"Encrypt": fields["Encrypt"]}, fields["MsgSignature"],
                                                fields["TimeStamp"], fields["Nonce"])
            fields = {child.tag: child.text or "" for child in safe_xml.fromstring(inner.encode("utf-8"))}
        return fields

    def verify_url(self, echostr: str = "echo-check") -> httpx.Response:
        """Performs WeChat's server-URL verification GET."""
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(5)
        params = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp,
                  "nonce": nonce, "echostr": echostr}
        return httpx.get(self.callback_url, params=params, timeout=CALLBACK_TIMEOUT_SECONDS)


class ScriptedRestBot:
    """Answers Rasa's REST webhook (POST /webhooks/rest/webhook) after a configurable delay.

    ``/intent`` payloads are acknowledged by name, ``选项`` gets buttons, other
    text is echoed in two messages, so multi-message and button rendering show.
    """

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.received: list[dict[str, Any]] = []
        self.app = FastAPI()

        @self.app.post("/webhooks/rest/webhook")
        async def webhook(request: Request) -> list[dict[str, Any]]:
            body = await request.json()
            self.received.append(body)
            await asyncio.sleep(self.delay_seconds)
            message = str(body.get("message", ""))
            if message.startswith("/"):
                return [{"recipient_id": body.get("sender"), "text": f"intent:{message[1:]}"}]
            if message == "选项":
                return [{"recipient_id": body.get("sender"), "text": "请选择业务：", "buttons": [
                    {"title": "居住证", "payload": "/ask_residence_permit"},
                    {"title": "社保卡", "payload": "/ask_social_security_card"},
                ]}]
            return [{"recipient_id": body.get("sender"), "text": f"收到：{message}"},
                    {"recipient_id": body.get("sender"), "text": "还有什么可以帮您？"}]

        @self.app.get("/status")
        async def status() -> dict[str, str]:
            return {"model_file": "scripted"}
