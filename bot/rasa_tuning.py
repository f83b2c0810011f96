"""Changes to how the Rasa server does its work that keep what it does.

Applied by ``bot/rasa_server.py`` before the server starts.

- **Action responses are validated with a compiled schema.** Rasa checks every
  action server response against its JSON schema with ``jsonschema.validate``,
  which first validates the schema itself against the meta-schema, on every
  call: a third of the server's CPU per message in the benchmark. The schema is
  compiled once here, and every response is still validated against it, with
  the same error on failure.
"""

from functools import lru_cache
from typing import Any, Dict

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(_action: RemoteAction, result: Dict[str, Any]) -> bool:
    """Rasa's check of an action server response, against the schema compiled once."""
    error = best_match(_action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action "
        f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def apply() -> None:
    """Installs the changes; idempotent."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


__all__ = ["apply", "validate_action_result", "ValidationError"]
