"""Start-up refuses empty and placeholder secrets, with a message that says which and what to do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from faq.settings import FaqSettings
from service.secrets import secret_problem
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"rasa_token": "r" * 8 + "-rasa-token", "internal_api_token": "internal-token-0001",
        "secret_key": "s3cr3t-key-of-enough-length"}


@pytest.mark.parametrize("value", ["", "   ", "change-me-internal-token", "change-me-faq-operator-token",
                                   "CHANGEME12345678901", "replace-me-please-0001", "secret", "token", "short"])
def test_placeholder_or_empty_secrets_are_refused(value: str) -> None:
    assert secret_problem(value) is not None
    with pytest.raises(ValidationError, match="INTERNAL_API_TOKEN"):
        Settings(**{**GOOD, "internal_api_token": value})


def test_every_bad_secret_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(rasa_token="", internal_api_token="change-me-internal-token", secret_key="")
    message = str(refused.value)
    assert "RASA_TOKEN is empty" in message and "SECRET_KEY is empty" in message
    assert "INTERNAL_API_TOKEN is a placeholder" in message and "make run" in message


def test_optional_secrets_may_be_off_but_never_a_placeholder() -> None:
    assert Settings(**GOOD).faq.operator_token == ""
    with pytest.raises(ValidationError, match="FAQ__OPERATOR_TOKEN"):
        Settings(**GOOD, faq=FaqSettings(operator_token="change-me-faq-operator-token"))
    with pytest.raises(ValidationError, match="INTEGRATION_API_KEYS"):
        Settings(**GOOD, integration_api_keys=["change-me"])


def test_an_empty_operator_token_opens_nothing(client) -> None:
    # With no operator token configured, "Bearer " (nothing after it) must not match the empty value.
    for header in ("Bearer ", "Bearer", ""):
        assert client.post("/api/faq/reload", headers={"Authorization": header}).status_code == 401


def test_the_service_does_not_start_with_the_shipped_placeholders(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items()
           if key not in ("RASA_TOKEN", "INTERNAL_API_TOKEN", "SECRET_KEY")}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "INTERNAL_API_TOKEN": "change-me-internal-token", "FAQ__OPERATOR_TOKEN": "change-me-faq-operator-token"})
    result = subprocess.run([sys.executable, "-c", "import service.main"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "refusing to start with insecure secrets" in result.stderr
    assert "FAQ__OPERATOR_TOKEN is a placeholder" in result.stderr
