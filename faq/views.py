"""HTTP routes of the faq domain.

- ``POST /internal/faq/answer``: the action server asks for the reply to a message.
- ``GET /api/faq/entries``, ``GET /api/faq/services``: rendered answers and the
  catalogue (public service information).
- ``GET /api/faq/report``, ``POST /api/faq/reload``: for operators' scripts (operator or internal token).
- The knowledge base console (``/console/knowledge``, ``/api/knowledge``): faq/console/.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request

from faq.console.views import install_console
from faq.flows import answer_question, entry_read
from faq.knowledge_base import KnowledgeBase, KnowledgeBaseInvalid, KnowledgeStore
from faq.models import AnswerRead, AnswerRequest, EntryRead, FaqReport, ReloadRead, ServiceRead
from faq.service import get_report
from service.database import SessionDep, TransactionalRoute
from service.errors import NotFoundError, ServiceError
from service.openapi import error_responses
from service.secrets import matches_any
from service.internal import InternalAuth

router = APIRouter(route_class=TransactionalRoute, tags=["faq"])


def get_store(request: Request) -> KnowledgeStore:
    """The app's knowledge store."""
    store: KnowledgeStore = request.app.state.faq
    return store


def get_knowledge(request: Request) -> KnowledgeBase:
    """The knowledge base to answer from (reloaded first if its files changed)."""
    return get_store(request).current()


def require_operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Accepts ``Bearer <faq operator token>`` or the internal API token."""
    settings = request.app.state.settings
    tokens = (settings.faq.operator_token, settings.internal_api_token)
    if not matches_any(authorization, [f"Bearer {token}" for token in tokens if token]):
        raise ServiceError("missing or wrong operator token", code="unauthorized", status_code=401)


KnowledgeDep = Annotated[KnowledgeBase, Depends(get_knowledge)]
OperatorAuth = Depends(require_operator)


@router.post("/internal/faq/answer", response_model=AnswerRead, dependencies=[InternalAuth],
             responses=error_responses(401, 413, 422))
def post_answer(body: AnswerRequest, request: Request, knowledge: KnowledgeDep) -> AnswerRead:
    """Answers a citizen's message for the action server; the question log is written after the reply."""
    return answer_question(knowledge=knowledge, request=body, settings=request.app.state.settings.faq,
                           log=request.app.state.write_behind.add)


@router.get("/api/faq/entries", response_model=list[EntryRead], responses=error_responses(422))
def get_entries(knowledge: KnowledgeDep,
                service: Annotated[str | None, Query(max_length=64)] = None) -> list[EntryRead]:
    """Every entry with its answer rendered from the current catalogue."""
    entries = [e for e in knowledge.entries.values() if service is None or e.service == service]
    return [entry_read(knowledge, entry) for entry in entries]


@router.get("/api/faq/entries/{entry_id}", response_model=EntryRead, responses=error_responses(404))
def get_entry(entry_id: str, knowledge: KnowledgeDep) -> EntryRead:
    """One entry with its answer rendered."""
    entry = knowledge.entries.get(entry_id)
    if entry is None:
        raise NotFoundError(f"no FAQ entry '{entry_id[:80]}'")
    return entry_read(knowledge, entry)


@router.get("/api/faq/services", response_model=list[ServiceRead])
def get_services(knowledge: KnowledgeDep) -> list[ServiceRead]:
    """The service catalogue."""
    return [ServiceRead(id=s.id, name=s.name, aliases=list(s.aliases), department=s.department, hall=s.hall,
                        window=s.window, address=s.address, hours=s.hours, materials=list(s.materials),
                        fee=s.fee, time_limit=s.time_limit, online_url=s.online_url, phone=s.phone,
                        bookable=s.bookable)
            for s in knowledge.services.values()]


@router.get("/api/faq/report", response_model=FaqReport, dependencies=[OperatorAuth],
            responses=error_responses(401, 422))
def get_faq_report(request: Request, knowledge: KnowledgeDep, db_session: SessionDep,
                   limit: Annotated[int | None, Query(ge=1, le=500)] = None) -> FaqReport:
    """Most asked entries and most frequent unanswered questions, from logged traffic."""
    request.app.state.write_behind.flush_now()
    titles = {entry_id: entry.title for entry_id, entry in knowledge.entries.items()}
    return get_report(db_session=db_session, titles=titles,
                      limit=limit or request.app.state.settings.faq.report_limit)


@router.post("/api/faq/reload", response_model=ReloadRead, dependencies=[OperatorAuth],
             responses=error_responses(401, 422))
def post_reload(request: Request) -> ReloadRead:
    """Reads the knowledge base files again; the old one stays in service if they have defects."""
    try:
        knowledge = get_store(request).reload()
    except KnowledgeBaseInvalid as exc:
        raise ServiceError("the FAQ knowledge base has defects; the previous version is still in service",
                           code="faq_invalid", status_code=422,
                           details=[str(problem) for problem in exc.problems]) from exc
    return ReloadRead(services=len(knowledge.services), entries=len(knowledge.entries),
                      questions=sum(len(e.questions) for e in knowledge.entries.values()))


async def load_faq(app: FastAPI) -> None:
    """Loads the knowledge base at startup, so the first question is answered quickly."""
    app.state.faq.current()


def install(app: FastAPI) -> None:
    """Mounts the domain's routes and hooks on the app."""
    settings = app.state.settings.faq
    app.state.faq = KnowledgeStore(settings.knowledge_dir, settings.reload_check_seconds)
    app.state.startup_tasks.append(load_faq)
    app.include_router(router)
    install_console(app)
