"""Request bodies that are no text at all get the same clear 422 as any other malformed JSON."""

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("body", [b"\x6a\xff\x18", b'{"text": "\xe4\xbd"}', b'{"text": "\xc3\x28"}'])
def test_json_body_that_is_not_utf8_is_refused_with_422(client: TestClient, internal_headers, body: bytes) -> None:
    """Found by the OpenAPI fuzz: invalid UTF-8 escaped FastAPI's JSON decoding as a bare 400 "http_error"."""
    response = client.post("/internal/faq/answer", content=body,
                           headers={**internal_headers, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_unicode"


def test_utf8_and_utf16_json_are_still_read(client: TestClient, internal_headers) -> None:
    for encoding in ("utf-8", "utf-16"):
        body = '{"text": "办护照要带什么材料"}'.encode(encoding)
        response = client.post("/internal/faq/answer", content=body,
                               headers={**internal_headers, "Content-Type": "application/json"})
        assert response.status_code == 200, (encoding, response.text)
