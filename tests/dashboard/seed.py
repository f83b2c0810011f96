"""A known week of the service centre, written through the domains' own service functions at fixed times.

"Now" is Wednesday 2026-11-18 12:00 in Shanghai. The day view covers
11-12..11-18; the week view the eight ISO weeks from Monday 09-28 to Sunday
11-22. A few rows lie before 11-12 so the two views differ.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from appointments import service as booking_service
from appointments.enums import BookingStatus
from appointments.models import BookingCreate
from appointments.schedule import AppointmentRules
from complaints import flows as complaint_flows
from complaints import service as complaint_service
from complaints.enums import ComplaintCategory
from complaints.models import Complaint, ComplaintCreate
from complaints.settings import ComplaintSettings
from conversations import service as conversation_service
from conversations.enums import Channel, Sender
from faq.enums import AnswerStatus
from faq.service import question_row
from handoff import service as handoff_service
from handoff.enums import Disposition, HandoffReason, TicketStatus
from staff.enums import StaffRole
from tests.handoff.conftest import add_agent

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=ZONE).astimezone(UTC)
ODD_QUESTION = "我想问个奇怪的事"


def at(moment: str) -> datetime:
    """A local Shanghai time in November 2026 ("16 09:00:02") as a UTC instant."""
    day, clock = moment.split(" ")
    parts = [int(p) for p in clock.split(":")] + [0]
    return datetime(2026, 11, int(day), parts[0], parts[1], parts[2], tzinfo=ZONE).astimezone(UTC)


@dataclass
class Seeded:
    """What the seed wrote that tests refer to."""

    agents: dict[str, int] = field(default_factory=dict)
    complaints: dict[str, str] = field(default_factory=dict)
    bookings: dict[str, str] = field(default_factory=dict)


def _say(db_session: Session, conversation_id: str, sender: Sender, moment: str) -> None:
    conversation_service.get_or_create(db_session=db_session, conversation_id=conversation_id, channel=Channel.web)
    message = conversation_service.append_message(db_session=db_session, conversation_id=conversation_id,
                                                  sender=sender, text=f"{sender} at {moment}")
    message.created_at = at(moment)


# (conversation, first citizen message, seconds until the bot replied). c1 comes back on the 17th.
EXCHANGES = [
    ("c1", "16 09:00", 2), ("c2", "16 10:00", 4), ("c3", "17 09:00", 1), ("c4", "17 11:00", 3),
    ("c5", "17 14:00", 2), ("c1", "17 16:00", 2), ("c6", "18 09:00", 6), ("c7", "18 10:00", 2),
    ("c8", "18 10:30", 2), ("c9", "18 11:00", 2), ("old", "5 10:00", 2),
]


def _conversations(db_session: Session) -> None:
    for conversation_id, moment, seconds in EXCHANGES:
        _say(db_session, conversation_id, Sender.citizen, moment)
        _say(db_session, conversation_id, Sender.bot, f"{moment}:{seconds:02d}")
    # c10 writes twice before the first reply: its first response took 10 seconds.
    _say(db_session, "c10", Sender.citizen, "18 11:30")
    _say(db_session, "c10", Sender.citizen, "18 11:30:05")
    _say(db_session, "c10", Sender.bot, "18 11:30:10")
    # A greeting nobody answered is no conversation.
    _say(db_session, "silent", Sender.bot, "18 08:00")


# (conversation, reason, created, claimed, closed, agent, rating, rated at)
TICKETS = [
    ("c2", HandoffReason.explicit, "16 10:05", "16 10:06", "16 10:16", "alice", 5, "16 10:20"),
    ("c4", HandoffReason.emotional, "17 11:01", "17 11:03", "17 11:23", "alice", 2, "17 11:30"),
    ("c6", HandoffReason.urgent, "18 09:02", "18 09:02:30", "18 09:12:30", "bob", 4, "18 09:15"),
    ("c2", HandoffReason.complex, "16 15:00", "16 15:10", "16 15:20", "bob", 5, "16 15:25"),
    ("c6", HandoffReason.complex, "18 10:00", None, None, None, None, None),
    ("old", HandoffReason.explicit, "5 10:01", "5 10:01:30", "5 10:11:30", "alice", 3, "5 10:20"),
]


def _tickets(db_session: Session, seeded: Seeded) -> None:
    for name in ("alice", "bob"):
        seeded.agents[name] = add_agent(db_session, name, role=StaffRole.agent).id
    for conversation_id, reason, created, claimed, closed, agent, rating, rated_at in TICKETS:
        ticket = handoff_service.create(
            db_session=db_session, conversation_id=conversation_id, reason=reason, priority=reason.priority,
            status=TicketStatus.queued, channel="web", summary=f"{reason} {created}", created_at=at(created),
            last_alert_at=at(created))
        if claimed is None or agent is None:
            continue
        handoff_service.claim(db_session=db_session, ticket_id=ticket.id, agent_id=seeded.agents[agent],
                              now=at(claimed))
        handoff_service.finish(db_session=db_session, ticket=ticket, status=TicketStatus.closed,
                               disposition=Disposition.resolved)
        ticket.closed_at = at(closed or claimed)
        stored = handoff_service.add_rating(db_session=db_session, ticket=ticket, rating=rating or 0, comment=None)
        stored.created_at = at(rated_at or closed or claimed)
    db_session.flush()


# (conversation, status, entry, question, asked at)
FAQ = [
    ("c1", AnswerStatus.answered, "social_security_card_apply", "社保卡怎么办", "16 09:00"),
    ("c2", AnswerStatus.unknown, None, ODD_QUESTION, "16 10:00"),
    ("c3", AnswerStatus.clarify, None, "社保", "17 09:00"),
    ("c3", AnswerStatus.answered, "passport_apply", "护照怎么办", "17 09:02"),
    ("c4", AnswerStatus.clarify, None, "证明", "17 11:00"),
    ("c5", AnswerStatus.answered, "social_security_card_apply", "社保卡补办", "17 14:00"),
    ("c1", AnswerStatus.answered, "id_card_lost", "身份证丢了", "17 16:00"),
    ("c6", AnswerStatus.unknown, None, ODD_QUESTION, "18 09:00"),
    ("c7", AnswerStatus.clarify, None, "办证", "18 10:00"),
    # Fifteen minutes after the clarifying question: too late, c7's clarification counts as abandoned.
    ("c7", AnswerStatus.answered, "passport_apply", "办护照", "18 10:15"),
    ("c8", AnswerStatus.answered, "social_security_card_apply", "社保卡", "18 10:30"),
    ("c9", AnswerStatus.answered, "id_card_lost", "身份证掉了", "18 11:00"),
    ("c10", AnswerStatus.answered, "passport_apply", "护照", "18 11:30"),
    ("old", AnswerStatus.unknown, None, "很早以前的问题", "5 10:00"),
]


def _faq(db_session: Session) -> None:
    for conversation_id, status, entry_id, question, moment in FAQ:
        row = question_row(conversation_id=conversation_id, question=question, status=status, entry_id=entry_id,
                           service=None, confidence=0.9 if status == AnswerStatus.answered else 0.4)
        row.created_at = at(moment)
        db_session.add(row)
    db_session.flush()


def _file(db_session: Session, name: str, moment: str, category: ComplaintCategory, window: str | None,
          seeded: Seeded) -> Complaint:
    complaint, _ = complaint_flows.file_complaint(
        db_session=db_session, complaint_in=ComplaintCreate(category=category, description=f"投诉内容：{name}",
                                                            window=window, anonymous=True),
        now=at(moment), settings=ComplaintSettings(), timezone="Asia/Shanghai")
    seeded.complaints[name] = complaint.number
    return complaint


def _complaints(db_session: Session, seeded: Seeded) -> None:
    def respond(c: Complaint, moment: str) -> None:
        complaint_service.record_first_response(db_session=db_session, complaint=c, actor="staff", text="已收到",
                                                now=at(moment))

    def plan(c: Complaint, moment: str) -> None:
        complaint_service.record_plan(db_session=db_session, complaint=c, actor="staff", text="处理方案", now=at(moment))

    k7 = _file(db_session, "K7", "1 09:00", ComplaintCategory.other, None, seeded)
    respond(k7, "1 09:05")  # its plan, due 11-03 09:00, never came: overdue now
    old = _file(db_session, "Kold", "4 09:00", ComplaintCategory.facilities, None, seeded)
    respond(old, "4 09:10")
    plan(old, "5 09:00")
    k8 = _file(db_session, "K8", "12 10:00", ComplaintCategory.efficiency, "7", seeded)
    respond(k8, "12 10:29")
    plan(k8, "13 09:00")
    k5 = _file(db_session, "K5", "13 09:00", ComplaintCategory.facilities, None, seeded)
    respond(k5, "13 09:10")
    plan(k5, "15 10:00")  # an hour past its 48 hours
    k6 = _file(db_session, "K6", "14 10:00", ComplaintCategory.other, None, seeded)
    complaint_service.withdraw(db_session=db_session, complaint=k6, reason="不投诉了", now=at("14 10:10"))
    k1 = _file(db_session, "K1", "16 09:00", ComplaintCategory.efficiency, "3", seeded)
    respond(k1, "16 09:20")
    plan(k1, "17 10:00")
    k2 = _file(db_session, "K2", "16 14:00", ComplaintCategory.system_failure, "3", seeded)
    respond(k2, "16 14:45")  # fifteen minutes late; its plan is not due until 11-18 14:00
    _file(db_session, "K3", "17 10:00", ComplaintCategory.staff_attitude, "5", seeded)  # never answered: overdue
    # The same window and category again within 30 days: a repeat, escalated.
    _file(db_session, "K4", "18 11:50", ComplaintCategory.staff_attitude, "5", seeded)
    db_session.flush()


# (name, service, day, start, outcome): residence permits go to window A09, criminal-record proofs to A10.
BOOKINGS = [
    ("B1", "residence_permit", date(2026, 11, 12), time(9, 0), BookingStatus.checked_in),
    ("B2", "residence_permit", date(2026, 11, 12), time(9, 30), BookingStatus.no_show),
    ("B3", "residence_permit", date(2026, 11, 13), time(10, 0), BookingStatus.checked_in),
    ("B4", "residence_permit", date(2026, 11, 16), time(10, 0), BookingStatus.checked_in),
    ("B5", "no_criminal_record", date(2026, 11, 16), time(10, 0), BookingStatus.checked_in),
    ("B6", "residence_permit", date(2026, 11, 17), time(14, 0), BookingStatus.no_show),
    ("B7", "no_criminal_record", date(2026, 11, 17), time(14, 0), BookingStatus.cancelled),
    ("B8", "residence_permit", date(2026, 11, 18), time(15, 0), BookingStatus.booked),
    ("Bold", "residence_permit", date(2026, 11, 5), time(10, 0), BookingStatus.no_show),
]


def _bookings(db_session: Session, rules: AppointmentRules, seeded: Seeded) -> None:
    for number, (name, service_id, day, start, outcome) in enumerate(BOOKINGS):
        booked_at = datetime(2026, 11, 3, 9, 0) if day < date(2026, 11, 10) else datetime(2026, 11, 10, 9, 0)
        booking = booking_service.book_slot(db_session=db_session, rules=rules, now=booked_at, data=BookingCreate(
            service_id=service_id, day=day, start=start, name="张三", mobile=f"138001380{number:02d}"))
        seeded.bookings[name] = booking.code
        if outcome == BookingStatus.cancelled:
            booking_service.cancel_booking(db_session=db_session, booking=booking)
        elif outcome != BookingStatus.booked:
            booking_service.set_attendance(db_session=db_session, code=booking.code, status=outcome)
    db_session.flush()


def seed(db_session: Session, rules: AppointmentRules) -> Seeded:
    """Writes the known week and commits it."""
    seeded = Seeded()
    _conversations(db_session)
    _tickets(db_session, seeded)
    _faq(db_session)
    _complaints(db_session, seeded)
    _bookings(db_session, rules, seeded)
    db_session.commit()
    return seeded

