"""The OpenAPI spec documents the answers the service really gives, in the shapes it really sends."""

from typing import Any

from fastapi import FastAPI

ERROR_REF = {"$ref": "#/components/schemas/ErrorRead"}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, operations in spec["paths"].items()
            for method, operation in operations.items()]


def test_validation_errors_are_documented_as_the_error_envelope(app: FastAPI) -> None:
    spec = app.openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "ValidationError" not in spec["components"]["schemas"]
    for path, method, operation in _operations(spec):
        if "422" in operation["responses"]:
            assert operation["responses"]["422"]["content"] == {"application/json": {"schema": ERROR_REF}}, \
                (method, path)


def test_every_body_may_be_refused_as_too_large(app: FastAPI) -> None:
    for path, method, operation in _operations(app.openapi()):
        if "requestBody" in operation:
            assert "413" in operation["responses"], (method, path)


def test_error_answers_are_json_even_on_html_and_text_routes(app: FastAPI) -> None:
    spec = app.openapi()
    export = spec["paths"]["/api/appointments/export.csv"]["get"]["responses"]
    assert set(export["200"]["content"]) == {"text/csv"}
    assert export["401"]["content"] == {"application/json": {"schema": ERROR_REF}}
    wechat = spec["paths"]["/wechat/callback"]["get"]["responses"]
    assert wechat["403"]["content"] == {"application/json": {"schema": ERROR_REF}}


def test_guarded_routes_document_their_refusals(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path, operations in paths.items():
        if path.startswith("/internal/"):
            for method, operation in operations.items():
                assert "401" in operation["responses"], (method, path)
    assert {"401", "404", "413", "422", "429", "503"} <= set(
        paths["/api/conversations/{conversation_id}/messages"]["post"]["responses"])
    assert {"404", "429"} <= set(paths["/internal/appointments/bookings/lookup"]["post"]["responses"])
    assert {"404", "429"} <= set(paths["/internal/complaints/lookup"]["post"]["responses"])
    assert {"401", "403", "404", "409"} <= set(paths["/api/handoff/tickets/{ticket_id}/claim"]["post"]["responses"])
    assert "503" in paths["/healthz"]["get"]["responses"]


def test_open311_documents_its_own_error_format(app: FastAPI) -> None:
    spec = app.openapi()
    listing = spec["paths"]["/open311/v2/requests.{fmt}"]["get"]
    for status in ("400", "403", "404"):
        content = listing["responses"][status]["content"]
        assert set(content) == {"application/json", "application/xml"}
        items = content["application/json"]["schema"]["items"]
        assert set(items["properties"]) == {"code", "description"}
    assert {p["name"] for p in listing["parameters"]} >= {"api_key", "service_request_id", "start_date", "status"}


def test_hidden_routes_stay_out_of_the_spec(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    # Console pages answer with HTML or a redirect to the sign-in page, not with API shapes.
    assert not any(path.startswith("/console") for path in paths)
    assert "/" not in paths and "/widget.js" not in paths
