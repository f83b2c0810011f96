"""Forged, stale, malformed, oversized and hostile callbacks are refused and nothing is processed."""

import time

import httpx
from sqlalchemy import func, select

from channels.wechat.models import WeChatInbound
from channels.wechat.protocol import sign


def _signed_params(token: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(timestamp or int(time.time()))
    return {"signature": sign(token, stamp, "n0nce"), "timestamp": stamp, "nonce": "n0nce"}


def _nothing_processed(stack) -> None:
    assert stack.bot.received == []
    with stack.database.session() as db_session:
        assert db_session.scalar(select(func.count()).select_from(WeChatInbound)) == 0


def test_forged_and_stale_signatures_are_refused(start_stack):
    stack = start_stack()
    url = stack.platform.callback_url
    body = stack.platform.message_xml(stack.platform.text_fields("oForger", "你好")).encode()
    forged = {**_signed_params(stack.platform.token), "signature": "0" * 40}
    assert httpx.post(url, params=forged, content=body).status_code == 403
    assert httpx.post(url, params=_signed_params("wrong-token"), content=body).status_code == 403
    stale = _signed_params(stack.platform.token, int(time.time()) - 3600)
    response = httpx.post(url, params=stale, content=body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert httpx.post(url, content=body).status_code == 403
    assert httpx.get(url, params={**forged, "echostr": "x"}).status_code == 403
    _nothing_processed(stack)


def test_malformed_xml_is_refused(start_stack):
    stack = start_stack()
    params = _signed_params(stack.platform.token)
    for body in [b"<xml><ToUserName>unclosed", b"not xml at all", b"", b"<other><a>1</a></other>",
                 b"<xml><MsgType>text</MsgType></xml>", "<xml>\udc00</xml>".encode("utf-8", "surrogatepass")]:
        response = httpx.post(stack.platform.callback_url, params=params, content=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "malformed_xml"
    _nothing_processed(stack)


def test_oversized_body_is_refused(start_stack):
    stack = start_stack()
    fields = stack.platform.text_fields("oBig", "长" * 20000)
    response = httpx.post(stack.platform.callback_url, params=_signed_params(stack.platform.token),
                          content=stack.platform.message_xml(fields).encode())
    assert response.status_code == 413
    _nothing_processed(stack)


def test_entity_expansion_and_external_entities_are_refused(start_stack):
    stack = start_stack()
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
              '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
              '<xml><ToUserName>gh</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>'
              '<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>')
    external = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                '<xml><ToUserName>gh</ToUserName><FromUserName>oX</FromUserName><CreateTime>1</CreateTime>'
                '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>')
    for body in (laughs, external):
        response = httpx.post(stack.platform.callback_url, params=_signed_params(stack.platform.token),
                              content=body.encode())
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "hostile_xml"
    _nothing_processed(stack)


def test_tampered_ciphertext_is_refused_in_safe_mode(start_stack):
    from channels.wechat.enums import EncryptionMode

    stack = start_stack(EncryptionMode.safe)
    params, body = stack.platform.signed_request(stack.platform.text_fields("oTamper", "你好"), encrypted=True)
    tampered = body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[AAAA")
    assert httpx.post(stack.platform.callback_url, params=params, content=tampered).status_code == 403
    _nothing_processed(stack)
