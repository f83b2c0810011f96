"""The knowledge base console's pages (知识库): the overview, the entry editor and the service editor.

The pages show what the files hold and leave live work (previews, publishing,
history, the unanswered list, retraining) to ``knowledge.js`` over the API in
``faq.console.api``.
"""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from faq import editor
from faq.console.api import get_store, texts
from faq.console.api import router as api_router
from faq.retraining import Retrainer
from faq.settings import PROJECT_ROOT
from service.errors import NotFoundError
from staff.auth import Staff, staff_page
from staff.console import console_templates, mount_static, render_page
from staff.enums import Area

HERE = Path(__file__).resolve().parent
templates = console_templates(HERE / "templates")
router = APIRouter(include_in_schema=False)
KnowledgePage = Annotated[Staff, Depends(staff_page(Area.knowledge))]


def _page(request: Request, name: str, staff: Staff, status_code: int = 200, **context: Any) -> Response:
    return render_page(request, templates, name, staff=staff, area=Area.knowledge, texts=texts(),
                       status_code=status_code, **context)


def _entry_choices(request: Request) -> list[dict[str, Any]]:
    """Entries by topic, in file order: the overview's list and the unanswered list's choices."""
    knowledge = get_store(request).current()
    topics: dict[str, list[dict[str, Any]]] = {}
    for entry in knowledge.entries.values():
        service = knowledge.services.get(entry.service)
        topics.setdefault(entry.topic, []).append({
            "id": entry.id, "title": entry.title, "service": entry.service,
            "service_name": service.name if service else entry.service, "aspect": entry.aspect,
            "questions": len(entry.questions), "source": entry.source})
    return [{"topic": topic, "entries": entries} for topic, entries in topics.items()]


@router.get("/console/knowledge")
def overview(request: Request, staff: KnowledgePage) -> Response:
    """The knowledge base: entries by topic, the catalogue, unanswered questions, retraining."""
    knowledge = get_store(request).current()
    services = [{"id": s.id, "name": s.name, "fee": s.fee, "window": s.window, "department": s.department}
                for s in knowledge.services.values()]
    topics = _entry_choices(request)
    choices = [{"topic": t["topic"], "entries": [{"id": e["id"], "title": e["title"]} for e in t["entries"]]}
               for t in topics]
    return _page(request, "knowledge.html", staff, topics=topics, services=services, choices=choices)


def _not_found(request: Request, staff: Staff) -> Response:
    return _page(request, "not_found.html", staff, status_code=404)


@router.get("/console/knowledge/entries/{entry_id}")
def entry_editor(entry_id: str, request: Request, staff: KnowledgePage) -> Response:
    """The editor of one entry: title, answer template, questions, live preview, history."""
    store = get_store(request)
    try:
        entry = editor.find_entry(store.root, entry_id)
        service = editor.find_service(store.root, str(entry.raw.get("service", "")))
    except NotFoundError:
        return _not_found(request, staff)
    return _page(request, "entry.html", staff, entry=entry, service=service,
                 placeholders=editor.placeholders(service),
                 questions="\n".join(str(q) for q in entry.raw.get("questions") or []))


@router.get("/console/knowledge/services/{service_id}")
def service_editor(service_id: str, request: Request, staff: KnowledgePage) -> Response:
    """The editor of one catalogue service: its fields, materials, details, live preview, history."""
    store = get_store(request)
    try:
        service = editor.find_service(store.root, service_id)
    except NotFoundError:
        return _not_found(request, staff)
    entries = [{"id": e.id, "title": e.title} for e in store.current().entries.values() if e.service == service.id]
    return _page(request, "service.html", staff, service=service, fields=editor.SERVICE_TEXT_FIELDS,
                 entries=entries, materials="\n".join(str(m) for m in service.raw.get("materials") or []),
                 aliases="\n".join(str(a) for a in service.raw.get("aliases") or []),
                 details={str(k): str(v) for k, v in (service.raw.get("details") or {}).items()})


async def _stop_retraining(app: FastAPI) -> None:
    app.state.faq_retrainer.stop()


def install_console(app: FastAPI) -> None:
    """Mounts the knowledge base pages, their API and static files, and the retraining job."""
    settings = app.state.settings.faq
    app.state.faq_retrainer = Retrainer(command=settings.retrain_command, cwd=PROJECT_ROOT,
                                        timeout_seconds=settings.retrain_timeout_seconds,
                                        log_lines=settings.retrain_log_lines, database=app.state.database)
    app.state.shutdown_tasks.append(_stop_retraining)
    app.include_router(api_router)
    app.include_router(router)
    mount_static(app, "faq", HERE / "static")
