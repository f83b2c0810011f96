"""The FAQ query log and the FAQ API schemas."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conversations.models import utcnow
from faq.enums import AnswerStatus
from service.database import Base


class FaqQuery(Base):
    """One question put to the FAQ, with PII masked, and how it was answered."""

    __tablename__ = "faq_query"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The citizen's words with phone and ID numbers masked; never the raw text.
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    entry_id: Mapped[str | None] = mapped_column(String(64), index=True)
    service: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class AnswerRequest(BaseModel):
    """What the action server asks: the citizen's text in the conversation's context."""

    model_config = ConfigDict(extra="ignore")

    conversation_id: str | None = Field(default=None, max_length=64)
    text: str = Field(default="", max_length=5000)
    current_service: str | None = Field(default=None, max_length=64)
    miss_count: int = Field(default=0, ge=0, le=1000)
    # Set when the citizen pressed a candidate button: answer that entry, no matching.
    entry_id: str | None = Field(default=None, max_length=80)


class Candidate(BaseModel):
    """An entry offered on a clarifying question."""

    entry_id: str
    title: str


class AnswerRead(BaseModel):
    """The reply the action sends to the citizen, and what it should remember."""

    status: AnswerStatus
    entry_id: str | None = None
    service: str | None = None
    confidence: float = 0.0
    text: str
    buttons: list[dict[str, str]] = []
    candidates: list[Candidate] = []
    miss_count: int = 0
    offer_human: bool = False


class EntryRead(BaseModel):
    """An entry with its answer rendered from the current catalogue."""

    id: str
    topic: str
    service: str
    aspect: str
    title: str
    text: str
    buttons: list[dict[str, str]]
    questions: list[str]


class ServiceRead(BaseModel):
    """A catalogue service."""

    id: str
    name: str
    aliases: list[str]
    department: str
    hall: str
    window: str
    address: str
    hours: str
    materials: list[str]
    fee: str
    time_limit: str
    online_url: str
    phone: str
    bookable: bool


class ReportRow(BaseModel):
    """One line of the traffic report."""

    key: str
    title: str | None = None
    count: int


class FaqReport(BaseModel):
    """Most asked entries and most frequent unanswered questions."""

    total_questions: int
    answered: int
    clarified: int
    unanswered: int
    top_entries: list[ReportRow]
    top_unanswered: list[ReportRow]


class ReloadRead(BaseModel):
    """Result of a knowledge base reload."""

    services: int
    entries: int
    questions: int


# --- the knowledge base console: revisions, retraining and the editor's schemas ------------------

class FaqRevision(Base):
    """One published change of a knowledge base file: its text before and after, who made it and why."""

    __tablename__ = "faq_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The file, relative to the knowledge directory ("catalogue.yml", "entries/id_card.yml").
    path: Mapped[str] = mapped_column(String(200), index=True)
    # What was edited: "entry:<id>" or "service:<id>".
    target: Mapped[str] = mapped_column(String(120), index=True)
    summary: Mapped[str] = mapped_column(String(300), default="")
    before_text: Mapped[str] = mapped_column(Text)
    after_text: Mapped[str] = mapped_column(Text)
    diff: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    rolled_back_from: Mapped[int | None] = mapped_column(ForeignKey("faq_revision.id"), nullable=True)
    # Digests of what the Rasa NLU data is generated from (faq.retraining.nlu_digest), before and after.
    nlu_before: Mapped[str] = mapped_column(String(64))
    nlu_after: Mapped[str] = mapped_column(String(64))


class FaqRetrainRun(Base):
    """One finished run of the retraining command, and the NLU inputs it trained from."""

    __tablename__ = "faq_retrain_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    command: Mapped[str] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timed_out: Mapped[bool] = mapped_column(Boolean, default=False)
    log_tail: Mapped[str] = mapped_column(Text, default="")
    nlu_digest: Mapped[str] = mapped_column(String(64))


QuestionText = Annotated[str, Field(max_length=100)]
MaterialText = Annotated[str, Field(max_length=300)]
AliasText = Annotated[str, Field(max_length=40)]
DetailKey = Annotated[str, Field(max_length=40)]
DetailText = Annotated[str, Field(max_length=1000)]
ServiceText = Annotated[str | None, Field(default=None, max_length=300)]


class EntryEdit(BaseModel):
    """New values of an entry's editable fields; a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=100)
    answer: str | None = Field(default=None, max_length=2000)
    questions: list[QuestionText] | None = Field(default=None, max_length=300)


class ServiceEdit(BaseModel):
    """New values of a catalogue service's editable fields; a field left out keeps its value."""

    model_config = ConfigDict(extra="forbid")

    name: ServiceText = None
    department: ServiceText = None
    hall: ServiceText = None
    window: ServiceText = None
    address: ServiceText = None
    fee: ServiceText = None
    time_limit: ServiceText = None
    online_url: ServiceText = None
    phone: ServiceText = None
    hours_note: str | None = Field(default=None, max_length=200)
    materials: list[MaterialText] | None = Field(default=None, max_length=40)
    aliases: list[AliasText] | None = Field(default=None, max_length=80)
    # Values of existing details keys ({details.<key>} in templates); new keys are not added here.
    details: dict[DetailKey, DetailText] | None = Field(default=None, max_length=30)


class PublishFields(BaseModel):
    """What every publication carries besides the new values: the file version it was edited from, and why."""

    # The version the editor was loaded at; a different current version means someone else published since.
    version: str | None = Field(default=None, max_length=64)
    summary: str = Field(default="", max_length=200)


class EntryPublish(EntryEdit, PublishFields):
    """An entry edit to publish."""


class ServicePublish(ServiceEdit, PublishFields):
    """A service edit to publish."""


class QuestionAdd(PublishFields):
    """A question (e.g. one the FAQ could not answer) to add to an entry as a question variant."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=100)


class RollbackRequest(BaseModel):
    """Why a revision is rolled back."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(default="", max_length=200)


class ProblemRead(BaseModel):
    """Why an edit was refused, worded for the operator, with the field it concerns."""

    code: str
    field: str | None = None
    message: str
    detail: str | None = None


class EntryFormRead(BaseModel):
    """An entry's editable fields as the file holds them."""

    id: str
    topic: str
    service: str
    service_name: str
    aspect: str
    title: str
    answer: str
    questions: list[str]
    path: str
    version: str
    placeholders: list[str]


class ServiceFormRead(BaseModel):
    """A catalogue service's editable fields as the file holds them."""

    id: str
    fields: dict[str, str]
    hours_note: str | None
    materials: list[str]
    aliases: list[str]
    details: dict[str, str]
    path: str
    version: str
    entries: list[dict[str, str]]


class PreviewRead(BaseModel):
    """An entry's answer rendered as the bot would send it, or why it cannot be."""

    entry_id: str
    title: str
    text: str | None
    buttons: list[dict[str, str]] = []
    problems: list[ProblemRead] = []


class ServicePreviewRead(BaseModel):
    """Every answer of a service rendered with the edited fields, or why they cannot be."""

    service_id: str
    answers: list[PreviewRead]
    problems: list[ProblemRead] = []


class RevisionRead(BaseModel):
    """One revision of the history."""

    id: int
    path: str
    target: str
    summary: str
    author: str
    created_at: datetime
    rolled_back_from: int | None
    changes_nlu: bool
    # Whether the file still holds this revision's text, so rolling it back is possible.
    can_roll_back: bool
    diff: str | None = None


class RetrainRead(BaseModel):
    """The retraining job: idle, running, succeeded or failed, with the tail of its log."""

    status: str
    started_by: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    timed_out: bool = False
    log_tail: list[str] = []


class TrainingRead(BaseModel):
    """Whether the Rasa model is behind the knowledge base's NLU data, and the retraining job."""

    needs_retraining: bool
    job: RetrainRead


class OpenQuestionRead(BaseModel):
    """A question the FAQ did not answer (or asked back about), with entries it might belong to."""

    question: str
    unanswered: int
    clarified: int
    last_asked: datetime | None
    suggestions: list[dict[str, str]]


class PublishedRead(BaseModel):
    """What a publication did: the revision, and whether the Rasa model now needs retraining."""

    revision: RevisionRead
    needs_retraining: bool
