"""Settings of the faq domain (composed into service.settings.Settings)."""

import sys
from pathlib import Path

from pydantic import BaseModel, Field

FAQ_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = FAQ_DIR.parent


def default_retrain_command() -> list[str]:
    """The project's own training script, run by the service environment's Python."""
    python = PROJECT_ROOT / ".venv" / "bin" / "python"
    return [str(python if python.exists() else Path(sys.executable)), str(PROJECT_ROOT / "scripts" / "train.py")]


class FaqSettings(BaseModel):
    """Tunable values of the faq domain."""

    # Directory holding catalogue.yml, entries/ and aspects.yml.
    knowledge_dir: Path = FAQ_DIR
    # Confidence (direct evidence, see faq.matcher.Weights) at or above which the best entry is answered.
    answer_threshold: float = Field(default=0.55, ge=0)
    # Confidence below which no candidate is worth offering.
    clarify_threshold: float = Field(default=0.30, ge=0)
    # A best entry this close in ranking score to the runner-up (of another service) is asked about, not assumed.
    ambiguity_margin: float = Field(default=0.03, ge=0)
    # A best entry worth offering that leads the runner-up by this much ranking score is answered even below
    # answer_threshold (a clarifying question would offer one real choice). `python -m faq.crossval` chooses
    # it: the smallest lead from which on such answers are right as often as the confident ones.
    clear_lead: float = Field(default=0.15, ge=0)
    # Misses in a row after which the citizen is offered a person.
    misses_before_human: int = Field(default=2, ge=1)
    # Citizen text beyond this many characters is not read (the rest is cut off).
    max_question_chars: int = Field(default=300, ge=10)
    # How often (seconds) the files' modification times are compared; 0 disables it.
    reload_check_seconds: float = Field(default=2.0, ge=0)
    # Bearer token operators use for reload and the report (the internal token is also accepted); empty = none.
    operator_token: str = ""
    # How many rows the traffic report lists.
    report_limit: int = Field(default=20, ge=1, le=500)
    # The console's retraining job: the command it runs (from the project root), how long it may take,
    # and how many of its last log lines the console shows.
    retrain_command: list[str] = Field(default_factory=default_retrain_command, min_length=1)
    retrain_timeout_seconds: float = Field(default=3600.0, gt=0)
    retrain_log_lines: int = Field(default=40, ge=1, le=1000)
    # How many revisions an editor's history lists.
    revision_history_limit: int = Field(default=50, ge=1, le=500)
