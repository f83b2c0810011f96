"""WeChat's callback protocol: signatures, freshness, AES envelopes, hostile-XML refusal, passive replies."""

import hmac
import time
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from channels.wechat.enums import EncryptionMode
from channels.wechat.settings import WeChatSettings
from service.errors import ServiceError


class ForbiddenCallback(ServiceError):
    """The request does not carry a valid, fresh WeChat signature."""

    status_code = 403
    code = "invalid_signature"


def sign(token: str, *parts: str) -> str:
    """Computes WeChat's SHA-1 signature over the sorted parts (token, timestamp, nonce[, encrypt])."""
    signer = WeChatSigner()
    signer.add_data(token, *parts)
    signature: str = signer.signature
    return signature


def verify_signature(settings: WeChatSettings, params: dict[str, str], *, now: float | None = None) -> None:
    """Refuses requests whose signature is missing, forged or stale."""
    signature = params.get("signature", "")
    timestamp = params.get("timestamp", "")
    nonce = params.get("nonce", "")
    if not (settings.token and signature and timestamp.isdigit() and nonce):
        raise ForbiddenCallback("missing or malformed signature parameters")
    if not hmac.compare_digest(sign(settings.token, timestamp, nonce), signature):
        raise ForbiddenCallback("signature does not match")
    if abs((now or time.time()) - int(timestamp)) > settings.max_clock_skew_seconds:
        raise ForbiddenCallback("signature timestamp is stale")


def parse_xml_fields(body: bytes) -> dict[str, str]:
    """Parses a flat WeChat XML document, refusing DTDs, entities and external references."""
    try:
        root = safe_xml.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ServiceError("XML with DTDs or entities is refused", code="hostile_xml") from exc
    except (ParseError, ValueError) as exc:
        raise ServiceError("request body is not well-formed XML", code="malformed_xml") from exc
    if root.tag != "xml":
        raise ServiceError("root element must be <xml>", code="malformed_xml")
    return {child.tag: (child.text or "") for child in root}


@dataclass
class Callback:
    """A verified, decrypted callback: the parsed message and how to answer it."""

    message: BaseMessage
    fields: dict[str, str]
    encrypted: bool


class CallbackCodec:
    """Opens verified callbacks and seals passive replies according to the account's mode."""

    def __init__(self, settings: WeChatSettings) -> None:
        self.settings = settings
        self.crypto = (
            WeChatCrypto(settings.token, settings.encoding_aes_key, settings.app_id)
            if settings.mode != EncryptionMode.plaintext and settings.encoding_aes_key else None
        )

    def open(self, params: dict[str, str], body: bytes) -> Callback:
        """Verifies, decrypts if needed and parses one POSTed callback."""
        verify_signature(self.settings, params)
        fields = parse_xml_fields(body)
        encrypted = params.get("encrypt_type", "raw").lower() == "aes"
        if self.settings.mode == EncryptionMode.safe and not encrypted:
            raise ForbiddenCallback("this account accepts encrypted messages only")
        if encrypted:
            fields = self._decrypt(params, fields)
        if not fields.get("MsgType") or not fields.get("FromUserName"):
            raise ServiceError("message lacks MsgType or FromUserName", code="malformed_xml")
        message = parse_message(self._as_xml(fields))
        return Callback(message=message, fields=fields, encrypted=encrypted)

    def _decrypt(self, params: dict[str, str], envelope: dict[str, str]) -> dict[str, str]:
        """Checks msg_signature over the ciphertext and decrypts the inner message."""
        if self.crypto is None:
            raise ForbiddenCallback("encrypted messages are not enabled for this account")
        if not envelope.get("Encrypt"):
            raise ServiceError("encrypted message lacks <Encrypt>", code="malformed_xml")
        try:
            inner = self.crypto.decrypt_message(
                {"Encrypt": envelope["Encrypt"]}, params.get("msg_signature", ""),
                params.get("timestamp", ""), params.get("nonce", ""),
            )
        except (InvalidSignatureException, InvalidAppIdException) as exc:
            raise ForbiddenCallback("msg_signature or AppID does not match") from exc
        except (ValueError, TypeError, IndexError) as exc:
            raise ServiceError("encrypted message cannot be decrypted", code="malformed_ciphertext") from exc
        return parse_xml_fields(inner.encode("utf-8"))

    @staticmethod
    def _as_xml(fields: dict[str, str]) -> str:
        """Re-serialises checked fields so wechatpy never parses the raw, untrusted body."""
        inner = "".join(f"<{tag}>{escape(value)}</{tag}>" for tag, value in fields.items() if tag.isidentifier())
        return f"<xml>{inner}</xml>"

    def reply(self, callback: Callback, content: str, params: dict[str, str]) -> str:
        """Builds the passive text reply, encrypted when the request was."""
        xml = TextReply(message=callback.message, content=content).render()
        if callback.encrypted and self.crypto is not None:
            sealed: str = self.crypto.encrypt_message(xml, params.get("nonce", ""), params.get("timestamp"))
            return sealed
        rendered: str = xml
        return rendered


def echo_for_verification(settings: WeChatSettings, params: dict[str, str]) -> str:
    """Answers WeChat's server verification GET with the echostr once the signature checks out."""
    verify_signature(settings, params)
    echostr = params.get("echostr", "")
    if not echostr:
        raise ServiceError("echostr is missing", code="missing_echostr")
    return echostr


def message_fields(message: BaseMessage) -> dict[str, Any]:
    """Returns the raw fields of a parsed message (wechatpy keeps them in ``_data``)."""
    data: dict[str, Any] = getattr(message, "_data", {})
    return data
