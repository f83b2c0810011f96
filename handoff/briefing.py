"""What the agent is told about a handed-over conversation: masked turns, summary, earlier cases."""

import logging
from typing import Any

from sqlalchemy import MetaData, Table, inspect, or_, select
from sqlalchemy.orm import Session

from handoff.enums import HandoffReason
from handoff.models import TicketCreate
from handoff.vocabulary import Emotion
from service.pii import find_mobile, mask_text, mask_value
from service.texts import text as t

logger = logging.getLogger(__name__)

_MISUNDERSTOOD_INTENTS = {"nlu_fallback", "out_of_scope"}
_CN_COUNTS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九"}
_PII_SLOTS = {"id_number"}
# Column names that identify a citizen or describe a booking/complaint, tried in order.
_CONTACT_COLUMNS = ("mobile", "phone", "contact_mobile", "citizen_mobile")
_CONVERSATION_COLUMNS = ("conversation_id", "sender_id")
_SHOWN_COLUMNS = ("code", "booking_code", "number", "ticket_number", "service_id", "service_name", "service",
                  "category", "title", "status", "date", "slot_start", "starts_at", "start_at", "created_at")


def masked_turns(body: TicketCreate, limit: int) -> list[dict[str, Any]]:
    """Returns the last turns with PII masked, ready to store for the agent."""
    turns = []
    for turn in body.turns[-limit:]:
        item = turn.model_dump(mode="json")
        item["text"] = mask_text(item["text"]) if item.get("text") else item.get("text")
        turns.append(item)
    return turns


def masked_slots(slots: dict[str, Any]) -> dict[str, Any]:
    """Masks slot values; ID numbers are never needed in clear by the agent."""
    masked = {}
    for key, value in slots.items():
        if value is None:
            continue
        masked[key] = "******" if key in _PII_SLOTS else mask_value(value)
    return masked


def contact_mobile(body: TicketCreate) -> str | None:
    """Finds the citizen's mobile number (slot first, then their own words) for a callback."""
    slot = body.slots.get("mobile")
    if isinstance(slot, str) and (found := find_mobile(slot)):
        return found
    for turn in reversed(body.turns):
        if found := find_mobile(turn.text):
            return found
    return None


def _misunderstood(body: TicketCreate, threshold: float = 0.5) -> int:
    return sum(1 for turn in body.turns if turn.intent in _MISUNDERSTOOD_INTENTS
               or (turn.confidence is not None and turn.confidence < threshold))


def _topic(body: TicketCreate) -> str:
    service = body.slots.get("current_service")
    if isinstance(service, str) and service.strip():
        return mask_text(service.strip())[:40]
    for turn in body.turns:
        if turn.text and turn.text.strip():
            snippet = mask_text(turn.text.strip())
            return t("handoff", "summary_quote", text=snippet[:30] + ("…" if len(snippet) > 30 else ""))
    return t("handoff", "summary_unknown_topic")


def emotion_summary(label: str, reason: HandoffReason | str) -> str | None:
    """The summary's words for the citizen's emotion; none for calm, nor for danger the reason already names."""
    if label == Emotion.neutral or (label == Emotion.urgent and reason == HandoffReason.urgent):
        return None
    return t("handoff", f"summary_emotion_{Emotion(label).value}")


def build_summary(body: TicketCreate, service_names: dict[str, str] | None = None) -> str:
    """Writes the one-paragraph Chinese summary, e.g. 市民咨询公积金提取，两次未被理解，情绪激动，要求人工。"""
    topic = _topic(body)
    if service_names and topic in service_names:
        topic = service_names[topic]
    parts = [t("handoff", "summary_topic", topic=topic)]
    misses = _misunderstood(body)
    if misses:
        parts.append(t("handoff", "summary_misunderstood", count=_CN_COUNTS.get(misses, str(misses))))
    if body.emotion:
        emotion = emotion_summary(body.emotion.label, body.reason)
        if emotion:
            parts.append(emotion)
    parts.append(t("handoff", f"summary_reason_{body.reason.value}"))
    if body.note:
        parts.append(t("handoff", "summary_note", note=mask_text(body.note.strip())[:200]))
    return t("handoff", "summary_separator").join(parts) + t("handoff", "summary_end")


def service_names(app: Any) -> dict[str, str]:
    """Catalogue service names from the FAQ knowledge store when that domain is installed, else {}."""
    store = getattr(app.state, "faq", None)
    if store is None:
        return {}
    try:
        services = store.current().services
    except Exception:  # noqa: BLE001 - an invalid knowledge base must not stop a handoff; the id is shown
        logger.warning("service names unavailable for the handoff summary", exc_info=True)
        return {}
    return {service_id: service.name for service_id, service in services.items()}


def _reflect(db_session: Session, keyword: str) -> list[Table]:
    # The session's own connection: a second one would wait for the write lock this transaction holds.
    bind = db_session.connection()
    names = [name for name in inspect(bind).get_table_names() if keyword in name and "handoff" not in name]
    metadata = MetaData()
    return [Table(name, metadata, autoload_with=bind) for name in names]


def earlier_cases(db_session: Session, *, conversation_id: str, mobile: str | None, limit: int) -> dict[str, Any]:
    """Finds the citizen's earlier bookings and complaints by mobile number or conversation."""
    found: dict[str, Any] = {"appointments": [], "complaints": []}
    if limit <= 0:
        return found
    for key, keyword in (("appointments", "appointment"), ("complaints", "complaint")):
        try:
            with db_session.begin_nested():
                for table in _reflect(db_session, keyword):
                    found[key].extend(_rows_for(db_session, table, conversation_id, mobile, limit))
        except Exception as exc:  # noqa: BLE001 - a domain still taking shape must not block a handoff
            logger.warning("could not read earlier %s: %s", key, exc)
        found[key] = found[key][:limit]
    return found


def _rows_for(db_session: Session, table: Table, conversation_id: str, mobile: str | None,
              limit: int) -> list[dict[str, Any]]:
    columns = table.columns
    conditions = []
    if mobile:
        conditions += [columns[c] == mobile for c in _CONTACT_COLUMNS if c in columns]
    conditions += [columns[c] == conversation_id for c in _CONVERSATION_COLUMNS if c in columns]
    shown = [columns[c] for c in _SHOWN_COLUMNS if c in columns]
    if not conditions or not shown:
        return []
    statement = select(*shown).where(or_(*conditions)).limit(limit)
    if "created_at" in columns:
        statement = statement.order_by(columns["created_at"].desc())
    rows = []
    for row in db_session.execute(statement).mappings():
        rows.append({k: mask_text(str(v)) if v is not None else None for k, v in row.items()})
    return rows
