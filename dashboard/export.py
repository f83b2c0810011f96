"""The dashboard's charts as CSV tables: one per chart, UTF-8 with a BOM, safe to open in a spreadsheet."""

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# A table: its header and its rows.
Table = tuple[list[str], list[list[Any]]]
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A CSV cell, quoted with a leading ' when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def to_csv(table: Table) -> str:
    """Writes a table as CSV text with a BOM, so spreadsheets read the Chinese as UTF-8."""
    header, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cell(value) for value in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return "\ufeff" + buffer.getvalue()


def percent(share: float | None) -> str:
    """A share as a percentage with one decimal, or empty."""
    return "" if share is None else f"{share * 100:.1f}"


def _local(moment: str | None, timezone: str) -> str:
    if not moment:
        return ""
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _with_unit(label: str, unit: str) -> str:
    return f"{label}（{unit}）"


def _conversations(f: dict[str, Any], t: dict[str, Any]) -> Table:
    header = [t["col_period"], t["series_conversations"], t["series_handed_over"], t["series_contained"],
              _with_unit(t["series_containment"], "%"), _with_unit(t["series_target"], "%"),
              _with_unit(t["kpi_first_response"], t["seconds_unit"])]
    return header, [[r["bucket"], r["conversations"], r["handed_over"], r["contained"], percent(r["containment"]),
                     percent(r["target"]), r["first_response_seconds"]] for r in f["conversations"]["series"]]


def _faq(f: dict[str, Any], t: dict[str, Any]) -> Table:
    header = [t["col_period"], t["series_answered"], t["series_clarified"], t["series_unknown"],
              t["series_abandoned"], t["series_count"], _with_unit(t["series_error_rate"], "%")]
    return header, [[r["bucket"], r["answered"], r["clarified"], r["unknown"], r["abandoned"], r["total"],
                     percent(r["error_rate"])] for r in f["faq"]["series"]]


def _faq_top(f: dict[str, Any], t: dict[str, Any]) -> Table:
    return [t["col_rank"], t["col_entry"], t["series_count"]], [
        [rank, r["title"], r["count"]] for rank, r in enumerate(f["faq"]["top_questions"], start=1)]


def _faq_unanswered(f: dict[str, Any], t: dict[str, Any]) -> Table:
    return [t["col_rank"], t["col_question"], t["series_count"]], [
        [rank, r["question"], r["count"]] for rank, r in enumerate(f["faq"]["top_unanswered"], start=1)]


def _handoff_reasons(f: dict[str, Any], t: dict[str, Any]) -> Table:
    reasons = f["handoffs"]["reasons"]
    header = [t["col_period"], *(r["label"] for r in reasons), t["series_count"]]
    return header, [[r["bucket"], *(r[reason["reason"]] for reason in reasons), r["total"]]
                    for r in f["handoffs"]["series"]]


def _queue_wait(f: dict[str, Any], t: dict[str, Any]) -> Table:
    header = [t["col_period"], t["series_claimed"], _with_unit(t["series_wait_p50"], t["seconds_unit"]),
              _with_unit(t["series_wait_p95"], t["seconds_unit"])]
    return header, [[r["bucket"], r["claimed"], r["wait_p50_seconds"], r["wait_p95_seconds"]]
                    for r in f["handoffs"]["series"]]


def _agent_handling(f: dict[str, Any], t: dict[str, Any]) -> Table:
    header = [t["col_agent"], t["series_count"], _with_unit(t["series_handling"], t["seconds_unit"])]
    return header, [[r["name"], r["count"], r["average_seconds"]] for r in f["handoffs"]["agents"]]


def _csat(f: dict[str, Any], t: dict[str, Any]) -> Table:
    return [t["col_rating"], t["series_count"], _with_unit(t["col_share"], "%")], [
        [r["rating"], r["count"], percent(r["share"])] for r in f["satisfaction"]["distribution"]]


def _csat_trend(f: dict[str, Any], t: dict[str, Any]) -> Table:
    return [t["col_period"], t["series_count"], t["series_average"]], [
        [r["bucket"], r["count"], r["average"]] for r in f["satisfaction"]["series"]]


def _hotspot(key: str, label: str) -> Callable[[dict[str, Any], dict[str, Any]], Table]:
    def table(f: dict[str, Any], t: dict[str, Any]) -> Table:
        return [t[label], t["series_count"], t["series_repeats"]], [
            [r["label"] or t["no_window"], r["count"], r["repeats"]] for r in f["complaints"][key]]
    return table


def _complaint_compliance(f: dict[str, Any], t: dict[str, Any]) -> Table:
    rules = f["complaints"]["rules"]
    header = [t["col_period"], t["series_count"]]
    for step in ("first_response", "plan"):
        header += [t[f"col_rule_{kind}"].format(span=rules[step]) for kind in ("on_time", "late")]
        header.append(_with_unit(t["col_rule_share"].format(span=rules[step]), "%"))
    rows = [[r["bucket"], r["count"],
             r["first_response"]["on_time"], r["first_response"]["late"], percent(r["first_response"]["share"]),
             r["plan"]["on_time"], r["plan"]["late"], percent(r["plan"]["share"])] for r in f["complaints"]["series"]]
    return header, rows


def _complaint_overdue(f: dict[str, Any], t: dict[str, Any]) -> Table:
    zone = f["period"]["timezone"]
    header = [t["col_number"], t["col_category"], t["col_window"], t["col_step"], t["col_due"],
              t["col_overdue_minutes"], t["col_escalated"]]
    return header, [[r["number"], r["category_label"], r["window"] or t["no_window"], t[f"step_{r['step']}"],
                     _local(r["due"], zone), r["overdue_minutes"], t["flag_yes"] if r["escalated"] else t["flag_no"]]
                    for r in f["complaints"]["overdue"]]


def _complaint_repeats(f: dict[str, Any], t: dict[str, Any]) -> Table:
    zone = f["period"]["timezone"]
    header = [t["col_number"], t["col_category"], t["col_window"], t["col_submitted"], t["col_escalated"]]
    return header, [[r["number"], r["category_label"], r["window"] or t["no_window"], _local(r["submitted_at"], zone),
                     t["flag_yes"] if r["escalated"] else t["flag_no"]] for r in f["complaints"]["repeats"]]


def _bookings(f: dict[str, Any], t: dict[str, Any]) -> Table:
    header = [t["col_period"], t["series_bookings"], t["col_checked_in"], t["col_no_show"], t["col_booked"],
              t["col_cancelled"], _with_unit(t["series_no_show_rate"], "%")]
    return header, [[r["bucket"], r["bookings"], r["checked_in"], r["no_show"], r["booked"], r["cancelled"],
                     percent(r["no_show_rate"])] for r in f["bookings"]["series"]]


def _booking_windows(f: dict[str, Any], t: dict[str, Any]) -> Table:
    return [t["col_office"], t["col_window"], t["series_bookings"]], [
        [r["office"], r["window"], r["count"]] for r in f["bookings"]["windows"]]


def _headline(f: dict[str, Any], t: dict[str, Any]) -> Table:
    h = f["headline"]
    rows = [[t["kpi_containment"], percent(h["containment"])],
            [_with_unit(t["kpi_first_response"], t["seconds_unit"]), h["first_response_seconds"]],
            [t["kpi_error_rate"], percent(h["error_rate"])],
            [t["kpi_csat"], h["csat_average"]],
            [_with_unit(t["kpi_wait_p50"], t["seconds_unit"]), h["wait_p50_seconds"]],
            [t["kpi_complaint_first"], percent(h["first_response_compliance"])],
            [t["kpi_complaint_plan"], percent(h["plan_compliance"])],
            [t["kpi_no_show"], percent(h["no_show_rate"])]]
    return list(t["csv_headline"]), rows


# Each chart: the figures section it needs (None: every section) and how it becomes a table.
CHARTS: dict[str, tuple[str | None, Callable[[dict[str, Any], dict[str, Any]], Table]]] = {
    "headline": (None, _headline),
    "conversations": ("conversations", _conversations),
    "faq": ("faq", _faq),
    "faq_top": ("faq", _faq_top),
    "faq_unanswered": ("faq", _faq_unanswered),
    "handoff_reasons": ("handoffs", _handoff_reasons),
    "queue_wait": ("handoffs", _queue_wait),
    "agent_handling": ("handoffs", _agent_handling),
    "csat": ("satisfaction", _csat),
    "csat_trend": ("satisfaction", _csat_trend),
    "complaint_categories": ("complaints", _hotspot("by_category", "col_category")),
    "complaint_windows": ("complaints", _hotspot("by_window", "col_window")),
    "complaint_compliance": ("complaints", _complaint_compliance),
    "complaint_overdue": ("complaints", _complaint_overdue),
    "complaint_repeats": ("complaints", _complaint_repeats),
    "bookings": ("bookings", _bookings),
    "booking_windows": ("bookings", _booking_windows),
}
