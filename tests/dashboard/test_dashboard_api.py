"""The dashboard's API, CSV exports and page: only supervisors, exact figures over HTTP, spreadsheet-safe CSV."""

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dashboard.export import CHARTS, cell, to_csv
from faq.enums import AnswerStatus
from faq.service import question_row
from staff.enums import StaffRole
from tests.dashboard.seed import NOW, Seeded, at
from tests.handoff.conftest import sign_in

API_ROUTES = ["/api/dashboard/figures", "/api/dashboard/figures?period=week",
              *(f"/api/dashboard/export/{chart}.csv" for chart in CHARTS),
              *(f"/api/dashboard/export/{chart}.csv?period=week" for chart in CHARTS)]


def read_csv(body: bytes) -> list[list[str]]:
    """The rows of a CSV export, after checking it starts with the UTF-8 BOM."""
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_nobody_signed_in_gets_401_and_the_page_goes_to_login(client: TestClient) -> None:
    for path in API_ROUTES:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"
    page = client.get("/console/dashboard", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console/login"


@pytest.mark.parametrize("role", [StaffRole.agent, StaffRole.operator])
def test_agents_and_operators_get_403_everywhere(client: TestClient, accounts: dict[StaffRole, str],
                                                 role: StaffRole) -> None:
    sign_in(client, accounts[role])
    for path in [*API_ROUTES, "/api/dashboard/export/no-such-chart.csv"]:
        response = client.get(path)
        assert response.status_code == 403, (role, path, response.status_code)
        assert response.json()["error"]["code"] == "forbidden"
    page = client.get("/console/dashboard", follow_redirects=False)
    assert page.status_code == 403 and 'id="forbidden-message"' in page.text


def test_the_supervisor_reads_the_seeded_figures(client: TestClient, accounts: dict[StaffRole, str],
                                                 seeded: Seeded, frozen_now: Any) -> None:
    sign_in(client, accounts[StaffRole.supervisor])
    day = client.get("/api/dashboard/figures")
    assert day.status_code == 200, day.text
    figures = day.json()
    assert figures["period"]["grain"] == "day" and figures["period"]["now"] == NOW.isoformat()
    assert figures["headline"]["containment"] == 0.7273
    assert figures["headline"]["wait_p50_seconds"] == 90.0
    assert figures["headline"]["csat_average"] == 4.0
    # The page draws its tables from the same rows the CSV carries.
    assert set(figures["tables"]) == set(CHARTS)
    assert figures["tables"]["csat"]["rows"][4] == [5, 2, "50.0"]
    week = client.get("/api/dashboard/figures", params={"period": "week"}).json()
    assert week["headline"]["containment"] == 0.6364 and len(week["period"]["buckets"]) == 8
    assert client.get("/api/dashboard/figures", params={"period": "month"}).status_code == 422
    assert client.get("/api/dashboard/export/no-such-chart.csv").status_code == 404


def test_csv_of_containment_and_of_queue_waits(client: TestClient, accounts: dict[StaffRole, str],
                                               seeded: Seeded, frozen_now: Any) -> None:
    sign_in(client, accounts[StaffRole.supervisor])
    response = client.get("/api/dashboard/export/conversations.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="dashboard-conversations-day-2026-11-18.csv"'
    rows = read_csv(response.content)
    assert rows[0] == ["期间", "会话数", "人工接手", "机器人独立完成", "独立完成率（%）", "目标 70%（%）",
                       "平均首次响应时间（秒）"]
    assert rows[1:] == [
        ["2026-11-12", "0", "0", "0", "", "70.0", ""], ["2026-11-13", "0", "0", "0", "", "70.0", ""],
        ["2026-11-14", "0", "0", "0", "", "70.0", ""], ["2026-11-15", "0", "0", "0", "", "70.0", ""],
        ["2026-11-16", "2", "1", "1", "50.0", "70.0", "3.0"], ["2026-11-17", "4", "1", "3", "75.0", "70.0", "2.0"],
        ["2026-11-18", "5", "1", "4", "80.0", "70.0", "4.4"]]
    waits = read_csv(client.get("/api/dashboard/export/queue_wait.csv", params={"period": "day"}).content)
    assert waits[0] == ["期间", "已接入", "中位数（秒）", "P95（秒）"]
    assert waits[-3:] == [["2026-11-16", "2", "330.0", "573.0"], ["2026-11-17", "1", "120.0", "120.0"],
                          ["2026-11-18", "1", "30.0", "30.0"]]
    overdue = read_csv(client.get("/api/dashboard/export/complaint_overdue.csv").content)
    assert overdue[0][:4] == ["工单号", "类别", "窗口", "超时环节"]
    assert [row[0] for row in overdue[1:]] == [seeded.complaints["K7"], seeded.complaints["K3"]]
    assert overdue[2][3:6] == ["首次答复", "2026-11-17 10:30", "1530"]
    headline = read_csv(client.get("/api/dashboard/export/headline.csv").content)
    assert ["机器人独立完成率", "72.7"] in headline and ["预约爽约率", "33.3"] in headline


def test_csv_cells_cannot_become_formulas(client: TestClient, accounts: dict[StaffRole, str], seeded: Seeded,
                                          frozen_now: Any, db_session: Session) -> None:
    for text in ("=HYPERLINK(\"http://evil\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)"):
        row = question_row(conversation_id="c9", question=text, status=AnswerStatus.unknown, entry_id=None,
                           service=None, confidence=0.1)
        row.created_at = at("18 11:10")
        db_session.add(row)
    db_session.commit()
    sign_in(client, accounts[StaffRole.supervisor])
    rows = read_csv(client.get("/api/dashboard/export/faq_unanswered.csv").content)
    questions = [row[1] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://evil\",\"点我\")" in questions
    assert {"'+1+1", "'-2+3", "'@SUM(A1)"} <= set(questions)
    assert not any(q.startswith(("=", "+", "-", "@")) for q in questions)


def test_the_cell_and_table_writers() -> None:
    assert cell(None) == "" and cell(3) == "3" and cell("=1") == "'=1" and cell("\t=1") == "'\t=1"
    assert to_csv((["甲"], [["=x"], [1]])) == "\ufeff甲\r\n'=x\r\n1\r\n"


def test_the_supervisor_opens_the_page(client: TestClient, accounts: dict[StaffRole, str]) -> None:
    sign_in(client, accounts[StaffRole.supervisor])
    page = client.get("/console/dashboard?period=week")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    html = page.text
    assert 'href="/console/supervisor"' in html and 'aria-current="page"' in html
    assert '<option value="week" selected>' in html
    assert "/console/static/dashboard/vendor/chart.umd.min.js" in html
    # No inline script or style: the CSP would block them.
    assert "<style" not in html and " style=" not in html
    for chart in CHARTS:
        assert f'data-chart="{chart}"' in html, chart
        # Every chart has its table; the headline figures are text already.
        assert chart == "headline" or f'id="table-{chart}"' in html, chart
    script = client.get("/console/static/dashboard/dashboard.js")
    assert script.status_code == 200 and "figures_changed" in script.text
    assert client.get("/console/static/dashboard/vendor/chart.umd.min.js").status_code == 200
