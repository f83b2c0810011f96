"""The knowledge base console's API: forms, live previews, publication, history, rollback and retraining.

Every route is for the knowledge area's roles (operator, supervisor) with a
console session; state changes carry the session's CSRF token. Thin: each
route finds what it addresses (404), calls faq.editor or faq.retraining, and
words refused edits from the console's texts.
"""

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from faq import editor
from faq.knowledge_base import KnowledgeStore
from faq.models import (
    EntryEdit,
    EntryFormRead,
    EntryPublish,
    FaqRevision,
    OpenQuestionRead,
    PreviewRead,
    ProblemRead,
    PublishedRead,
    QuestionAdd,
    RevisionRead,
    RollbackRequest,
    ServiceEdit,
    ServiceFormRead,
    ServicePreviewRead,
    ServicePublish,
    TrainingRead,
)
from faq.retraining import Retrainer, job_read, last_run, needs_retraining, nlu_digest
from service.database import SessionDep, TransactionalRoute
from service.errors import NotFoundError, ServiceError
from service.openapi import error_responses
from service.texts import load_texts
from staff.auth import Staff, staff_api
from staff.enums import Area

router = APIRouter(prefix="/api/knowledge", route_class=TransactionalRoute, tags=["knowledge"])
KnowledgeApi = Annotated[Staff, Depends(staff_api(Area.knowledge))]
EntryId = Annotated[str, Path(max_length=64)]
ServiceId = Annotated[str, Path(max_length=64)]
READ = error_responses(401, 403, 404, 422)
WRITE = error_responses(401, 403, 404, 409, 413, 422, 503)


def texts() -> dict[str, Any]:
    """The console's Chinese texts."""
    return load_texts("faq.console")


def get_store(request: Request) -> KnowledgeStore:
    """The app's knowledge store."""
    store: KnowledgeStore = request.app.state.faq
    return store


def get_retrainer(request: Request) -> Retrainer:
    """The app's retraining job."""
    retrainer: Retrainer = request.app.state.faq_retrainer
    return retrainer


StoreDep = Annotated[KnowledgeStore, Depends(get_store)]
RetrainerDep = Annotated[Retrainer, Depends(get_retrainer)]


def field_label(name: str | None) -> str:
    """The label of a form field ("details.pickup" is labelled by its key)."""
    if not name:
        return ""
    if name.startswith("details."):
        return name.split(".", 1)[1]
    return str(texts().get(f"field_{name}", name))


def problem_read(problem: editor.EditProblem) -> ProblemRead:
    """A problem of an edit, worded for the operator."""
    values: defaultdict[str, str] = defaultdict(str, problem.params)
    values["field"] = field_label(problem.field)
    values["detail"] = problem.detail or ""
    template = str(texts().get(f"problem_{problem.code}", texts()["problem_check_failed"]))
    return ProblemRead(code=problem.code, field=problem.field, message=template.format_map(values),
                       detail=problem.detail)


def refused(exc: editor.EditRefused) -> ServiceError:
    """The 422 answer of an edit that fails the knowledge base's rules (nothing was written)."""
    no_change = [p.code for p in exc.problems] == ["no_change"]
    return ServiceError("the edit was not published: nothing changed" if no_change else
                        "the edit breaks the knowledge base rules; nothing was published",
                        code="faq_no_change" if no_change else "faq_edit_refused", status_code=422,
                        details=[problem_read(p).model_dump() for p in exc.problems])


def published(revision: FaqRevision, store: KnowledgeStore, db_session: Any) -> PublishedRead:
    """What a publication answers: its revision and whether the model now needs retraining."""
    return PublishedRead(revision=editor.revision_read(revision, revision.after_text),
                         needs_retraining=needs_retraining(db_session=db_session, root=store.root))


def _summary(given: str, default: str) -> str:
    return given.strip() or default


@router.get("/entries/{entry_id}", response_model=EntryFormRead, responses=READ)
def get_entry_form(entry_id: EntryId, staff: KnowledgeApi, store: StoreDep) -> EntryFormRead:
    """An entry's editable fields as its file holds them, with the file's version."""
    entry = editor.find_entry(store.root, entry_id)
    service = editor.find_service(store.root, str(entry.raw.get("service", "")))
    aspect = entry.raw.get("aspect")
    topic = entry.source.data.get("topic") or entry.source.relative
    return EntryFormRead(id=entry.id, topic=str(entry.raw.get("topic") or topic), service=service.id,
                         service_name=str(service.raw.get("name", service.id)),
                         aspect=str(aspect[0] if isinstance(aspect, list) else aspect),
                         title=str(entry.raw.get("title", "")), answer=str(entry.raw.get("answer", "")),
                         questions=[str(q) for q in entry.raw.get("questions") or []],
                         path=entry.source.relative, version=entry.source.version,
                         placeholders=editor.placeholders(service))


@router.post("/entries/{entry_id}/preview", response_model=PreviewRead, responses=WRITE)
def post_entry_preview(entry_id: EntryId, body: EntryEdit, staff: KnowledgeApi, store: StoreDep) -> PreviewRead:
    """The entry's answer rendered as the bot would send it with the unsaved fields, and their problems."""
    answer, problems = editor.preview_entry(base=store.current(), entry_id=entry_id, edit=body)
    return PreviewRead(entry_id=entry_id, title=answer.title if answer else "", text=answer.text if answer else None,
                       buttons=answer.buttons if answer else [], problems=[problem_read(p) for p in problems])


@router.put("/entries/{entry_id}", response_model=PublishedRead, responses=WRITE)
def put_entry(entry_id: EntryId, body: EntryPublish, staff: KnowledgeApi, store: StoreDep,
              db_session: SessionDep) -> PublishedRead:
    """Publishes an entry edit: checked, written, recorded as a revision, answered from at once."""
    edit = EntryEdit(title=body.title, answer=body.answer, questions=body.questions)
    try:
        revision = editor.publish_entry(store=store, db_session=db_session, entry_id=entry_id, edit=edit,
                                        author=staff.username, version=body.version,
                                        summary=_summary(body.summary, texts()["default_summary_entry"]))
    except editor.EditRefused as exc:
        raise refused(exc) from exc
    return published(revision, store, db_session)


@router.post("/entries/{entry_id}/questions", response_model=PublishedRead, responses=WRITE)
def post_entry_question(entry_id: EntryId, body: QuestionAdd, staff: KnowledgeApi, store: StoreDep,
                        db_session: SessionDep) -> PublishedRead:
    """Adds a question variant to an entry (e.g. from the unanswered list) and publishes it."""
    default = texts()["default_summary_variant"].format(question=body.question.strip()[:100])
    try:
        revision = editor.add_question(store=store, db_session=db_session, entry_id=entry_id,
                                       question=body.question, author=staff.username, version=body.version,
                                       summary=_summary(body.summary, default))
    except editor.EditRefused as exc:
        raise refused(exc) from exc
    return published(revision, store, db_session)


def _service_form(store: KnowledgeStore, service_id: str) -> ServiceFormRead:
    service = editor.find_service(store.root, service_id)
    entries = [{"id": entry.id, "title": entry.title}
               for entry in store.current().entries.values() if entry.service == service.id]
    return ServiceFormRead(id=service.id, fields={name: str(service.raw[name]) for name in editor.SERVICE_TEXT_FIELDS
                                                  if name in service.raw},
                           hours_note=service.hours_note,
                           materials=[str(m) for m in service.raw.get("materials") or []],
                           aliases=[str(a) for a in service.raw.get("aliases") or []],
                           details={str(k): str(v) for k, v in (service.raw.get("details") or {}).items()},
                           path=service.source.relative, version=service.source.version, entries=entries)


@router.get("/services/{service_id}", response_model=ServiceFormRead, responses=READ)
def get_service_form(service_id: ServiceId, staff: KnowledgeApi, store: StoreDep) -> ServiceFormRead:
    """A catalogue service's editable fields as the catalogue holds them, with the file's version."""
    return _service_form(store, service_id)


@router.post("/services/{service_id}/preview", response_model=ServicePreviewRead, responses=WRITE)
def post_service_preview(service_id: ServiceId, body: ServiceEdit, staff: KnowledgeApi,
                         store: StoreDep) -> ServicePreviewRead:
    """Every answer of the service rendered with the unsaved fields, and their problems."""
    answers, problems = editor.preview_service(base=store.current(), service_id=service_id, edit=body)
    return ServicePreviewRead(service_id=service_id, problems=[problem_read(p) for p in problems],
                              answers=[PreviewRead(entry_id=a.entry_id, title=a.title, text=a.text,
                                                   buttons=a.buttons) for a in answers])


@router.put("/services/{service_id}", response_model=PublishedRead, responses=WRITE)
def put_service(service_id: ServiceId, body: ServicePublish, staff: KnowledgeApi, store: StoreDep,
                db_session: SessionDep) -> PublishedRead:
    """Publishes a catalogue edit: checked, written, recorded as a revision, answered from at once."""
    edit = ServiceEdit(**body.model_dump(exclude={"version", "summary"}))
    try:
        revision = editor.publish_service(store=store, db_session=db_session, service_id=service_id, edit=edit,
                                          author=staff.username, version=body.version,
                                          summary=_summary(body.summary, texts()["default_summary_service"]))
    except editor.EditRefused as exc:
        raise refused(exc) from exc
    return published(revision, store, db_session)


@router.get("/revisions", response_model=list[RevisionRead], responses=READ)
def get_revisions(request: Request, staff: KnowledgeApi, store: StoreDep, db_session: SessionDep,
                  target: Annotated[str | None, Query(max_length=120)] = None,
                  limit: Annotated[int | None, Query(ge=1, le=500)] = None) -> list[RevisionRead]:
    """The latest revisions (of one "entry:<id>" or "service:<id>", or of all), newest first."""
    return editor.list_revisions(db_session=db_session, root=store.root, target=target,
                                 limit=limit or request.app.state.settings.faq.revision_history_limit)


@router.get("/revisions/{revision_id}", response_model=RevisionRead, responses=READ)
def get_revision(revision_id: Annotated[int, Path(ge=1, le=2**62)], staff: KnowledgeApi, store: StoreDep,
                 db_session: SessionDep) -> RevisionRead:
    """One revision with its diff."""
    revision = db_session.get(FaqRevision, revision_id)
    if revision is None:
        raise NotFoundError("no such revision")
    return editor.revision_read(revision, editor.current_text(store.root, revision.path), with_diff=True)


@router.post("/revisions/{revision_id}/rollback", response_model=PublishedRead, responses=WRITE)
def post_rollback(revision_id: Annotated[int, Path(ge=1, le=2**62)], staff: KnowledgeApi, store: StoreDep,
                  db_session: SessionDep, body: RollbackRequest | None = None) -> PublishedRead:
    """Rolls a revision back by publishing its "before" text as a new revision (409 if the file changed since)."""
    default = texts()["default_summary_rollback"].format(id=revision_id)
    try:
        revision = editor.roll_back(store=store, db_session=db_session, revision_id=revision_id,
                                    author=staff.username, summary=_summary(body.summary if body else "", default))
    except editor.EditRefused as exc:
        raise refused(exc) from exc
    return published(revision, store, db_session)


@router.get("/open-questions", response_model=list[OpenQuestionRead], responses=READ)
def get_open_questions(request: Request, staff: KnowledgeApi, store: StoreDep, db_session: SessionDep,
                       limit: Annotated[int | None, Query(ge=1, le=200)] = None) -> list[OpenQuestionRead]:
    """Questions the FAQ did not answer or asked back about, with entries they might belong to."""
    request.app.state.write_behind.flush_now()
    return editor.open_questions(db_session=db_session, knowledge=store.current(),
                                 limit=limit or request.app.state.settings.faq.report_limit)


def training_read(retrainer: Retrainer, store: KnowledgeStore, db_session: Any) -> TrainingRead:
    """Whether retraining is needed, and this process's job (or the last stored run)."""
    job = retrainer.current() or last_run(db_session=db_session)
    return TrainingRead(needs_retraining=needs_retraining(db_session=db_session, root=store.root), job=job_read(job))


@router.get("/training", response_model=TrainingRead, responses=error_responses(401, 403, 422))
def get_training(staff: KnowledgeApi, store: StoreDep, retrainer: RetrainerDep,
                 db_session: SessionDep) -> TrainingRead:
    """Whether the Rasa model is behind the knowledge base, and the retraining job's state and log tail."""
    return training_read(retrainer, store, db_session)


@router.post("/training", response_model=TrainingRead, responses=error_responses(401, 403, 409, 422))
def post_training(staff: KnowledgeApi, store: StoreDep, retrainer: RetrainerDep,
                  db_session: SessionDep) -> TrainingRead:
    """Starts the retraining job in the background (409 while one runs)."""
    retrainer.start(started_by=staff.username, nlu_digest=nlu_digest(store.root))
    return training_read(retrainer, store, db_session)
