"""Statuses, categories and event kinds of complaint tickets."""

from enum import StrEnum


class ComplaintStatus(StrEnum):
    """Where a ticket stands in the service standard's lifecycle."""

    submitted = "submitted"
    acknowledged = "acknowledged"
    plan_given = "plan_given"
    resolved = "resolved"
    closed = "closed"
    withdrawn = "withdrawn"


OPEN_STATUSES = (ComplaintStatus.submitted, ComplaintStatus.acknowledged, ComplaintStatus.plan_given)
FINISHED_STATUSES = (ComplaintStatus.resolved, ComplaintStatus.closed, ComplaintStatus.withdrawn)


class ComplaintCategory(StrEnum):
    """What the complaint is about; labels live in texts.zh.yml."""

    staff_attitude = "staff_attitude"
    efficiency = "efficiency"
    system_failure = "system_failure"
    fees_integrity = "fees_integrity"
    facilities = "facilities"
    policy_answer = "policy_answer"
    other = "other"


class EventKind(StrEnum):
    """One step in a ticket's history."""

    submitted = "submitted"
    assigned = "assigned"
    first_response = "first_response"
    plan = "plan"
    resolution = "resolution"
    closed = "closed"
    withdrawn = "withdrawn"
    citizen_info = "citizen_info"
    escalated = "escalated"
    # Internal only: a staff note, a follow-up call, a ticket reopened after one, a clear contact number looked at.
    note = "note"
    follow_up = "follow_up"
    reopened = "reopened"
    contact_viewed = "contact_viewed"


# Events whose text the citizen reads on the next status lookup.
CITIZEN_VISIBLE_EVENTS = (EventKind.submitted, EventKind.first_response, EventKind.plan, EventKind.resolution,
                          EventKind.closed, EventKind.withdrawn, EventKind.citizen_info)


class Urgency(StrEnum):
    """How close an open ticket is to its current deadline."""

    overdue = "overdue"
    due_soon = "due_soon"
    on_track = "on_track"
    none = "none"


class Source(StrEnum):
    """Where a ticket came from."""

    chat = "chat"
    open311 = "open311"
    staff = "staff"


class EscalationReason(StrEnum):
    """Why a supervisor was asked to look at a ticket."""

    repeat_citizen = "repeat_citizen"
    repeat_window = "repeat_window"
    follow_up_not_satisfied = "follow_up_not_satisfied"


class Deadline(StrEnum):
    """A step of the service standard with a deadline of its own."""

    first_response = "first_response"
    plan = "plan"


class ClockState(StrEnum):
    """Where one deadline stands: still running (on track, due soon, overdue) or settled."""

    on_track = "on_track"
    due_soon = "due_soon"
    overdue = "overdue"
    met = "met"
    late = "late"
    # The ticket finished (withdrawn) before the step was taken.
    stopped = "stopped"


class FollowUpStatus(StrEnum):
    """Whether a follow-up call is still to be made."""

    pending = "pending"
    done = "done"


class FollowUpOutcome(StrEnum):
    """What a follow-up call found: reached (no verdict given), satisfied, not satisfied, or nobody answered."""

    reached = "reached"
    satisfied = "satisfied"
    not_satisfied = "not_satisfied"
    unreachable = "unreachable"
