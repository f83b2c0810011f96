"""Calls to WeChat's REST API with the shared access_token: customer-service messages, the custom menu."""

import json
from typing import Any

import httpx

from channels.wechat.access_token import AccessTokenStore, WeChatApiError

# The token was invalidated (another fetch, or expiry): refresh once and retry.
TOKEN_ERRORS = {40001, 40014, 42001}
# The citizen has not written within 48 hours: customer-service messages are refused.
WINDOW_CLOSED = 45015
# Text messages are capped by WeChat at 2048 bytes of UTF-8.
MAX_TEXT_BYTES = 2048


def split_for_wechat(content: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Splits a long text into pieces WeChat accepts, in order, on line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in content.splitlines(keepends=True):
        if current and len((current + line).encode("utf-8")) > limit:
            pieces.append(current)
            current = ""
        for char in line:
            # A single line longer than the limit is cut wherever the bytes run out.
            if len((current + char).encode("utf-8")) > limit:
                pieces.append(current)
                current = ""
            current += char
    if current or not pieces:
        pieces.append(current)
    return [piece.rstrip("\n") for piece in pieces]


class WeChatApi:
    """An async client of api.weixin.qq.com (or the configured base URL)."""

    def __init__(self, *, http: httpx.AsyncClient, tokens: AccessTokenStore) -> None:
        self.http = http
        self.tokens = tokens

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POSTs JSON with the access_token; an expired token is refreshed once and the call retried."""
        token = await self.tokens.get()
        result = await self._post(path, body, token)
        if int(result.get("errcode", 0)) in TOKEN_ERRORS:
            token = await self.tokens.get(stale=token)
            result = await self._post(path, body, token)
        errcode = int(result.get("errcode", 0))
        if errcode != 0:
            raise WeChatApiError(errcode, str(result.get("errmsg", "")))
        return result

    async def _post(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        """One POST; WeChat wants UTF-8 JSON without \\u escapes."""
        try:
            response = await self.http.post(
                path, params={"access_token": token},
                content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            result = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WeChatApiError(-1, f"WeChat API unreachable: {exc.__class__.__name__}") from exc
        if not isinstance(result, dict):
            raise WeChatApiError(-1, "unexpected answer from WeChat API")
        return result

    async def send_text(self, openid: str, content: str) -> None:
        """Sends one customer-service text message."""
        await self.call("/cgi-bin/message/custom/send",
                        {"touser": openid, "msgtype": "text", "text": {"content": content}})

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Replaces the account's custom menu."""
        await self.call("/cgi-bin/menu/create", menu)
