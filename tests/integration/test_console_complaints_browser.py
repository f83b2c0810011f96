"""Complaint tickets in Chromium against the running product: the list with its SLA clocks, a ticket page, a
ticket going overdue while a console page is open (the live warning), and an operator refused.

The live stack's complaint clock is the real one, so a ticket is made overdue by moving its deadlines into
the past in the stack's database; the service's background check then announces it within seconds.
"""

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, update

from complaints.models import Complaint

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "demo-pass-123"
# The background check runs every 10 seconds by default; allow for a slow machine.
ALERT_TIMEOUT_MS = 45000


def file_complaint(base: str, token: str, description: str, mobile: str, **fields: Any) -> str:
    response = httpx.post(f"{base}/internal/complaints", headers={"Authorization": f"Bearer {token}"}, timeout=10,
                          json={"category": "staff_attitude", "description": description, "mobile": mobile, **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def staff_step(base: str, token: str, number: str, step: str, text: str) -> None:
    response = httpx.post(f"{base}/api/complaints/{number}/{step}", json={"text": text}, timeout=10,
                          headers={"Authorization": f"Bearer {token}", "X-Staff-Name": "wang.li"})
    assert response.status_code == 200, response.text


def backdate(database_url: str, number: str, minutes: int) -> None:
    """Moves a ticket's filing and deadlines into the past, as if it had been filed `minutes` ago."""
    filed = datetime.now(UTC) - timedelta(minutes=minutes)
    engine = create_engine(database_url, connect_args={"timeout": 30})
    try:
        with engine.begin() as connection:
            connection.execute(update(Complaint).where(Complaint.number == number).values(
                submitted_at=filed, first_response_due=filed + timedelta(minutes=30),
                plan_due=filed + timedelta(hours=48)))
    finally:
        engine.dispose()


def announced(database_url: str, number: str) -> bool:
    engine = create_engine(database_url, connect_args={"timeout": 30})
    try:
        with engine.connect() as connection:
            return connection.execute(select(Complaint.first_response_alerted_at)
                                      .where(Complaint.number == number)).scalar_one() is not None
    finally:
        engine.dispose()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("load")


def test_complaint_tickets_with_clocks_a_ticket_page_and_a_live_overdue_warning(live_stack, browser) -> None:
    from playwright.sync_api import expect

    base, token, database_url = (live_stack.config.service_url, live_stack.config.internal_token,
                                 live_stack.config.database_url)
    answered = file_complaint(base, token, "2号窗口工作人员办理居住证时一直玩手机，态度冷淡。", "13660001111",
                              location="一楼大厅")
    staff_step(base, token, answered, "first-response", "您好，已收到您的投诉，正在核实当班人员。")
    overdue = file_complaint(base, token, "取号机坏了半小时没人管，<b>排队的人很多</b>。", "13660002222",
                             location="一楼取号区")
    due_soon = file_complaint(base, token, "网上预约的时段到了还要重新排队。", "13660003333")
    backdate(database_url, overdue, minutes=45)
    backdate(database_url, due_soon, minutes=25)
    staff_step(base, token, overdue, "notes", "已电话联系大厅值班经理。")
    ARTIFACTS.mkdir(exist_ok=True)

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        sign_in(page, base, "agent1")
        page.click("#nav-complaints")
        rows = page.locator("#complaint-list tr[data-number]")
        expect(rows.first).to_be_visible()
        order = rows.evaluate_all("rows => rows.map(r => r.dataset.number)")
        assert order.index(overdue) < order.index(due_soon) < order.index(answered), order
        overdue_row = page.get_by_test_id(f"ticket-{overdue}")
        expect(overdue_row).to_have_class(re.compile(r"\boverdue\b"))
        expect(overdue_row.get_by_test_id("clock-first_response")).to_contain_text("已超时")
        expect(page.get_by_test_id(f"ticket-{due_soon}").get_by_test_id("clock-first_response")).to_contain_text("剩余")
        expect(page.get_by_test_id(f"ticket-{answered}").get_by_test_id("clock-first_response")).to_contain_text(
            "按时完成")
        expect(page.get_by_test_id(f"ticket-{answered}").get_by_test_id("clock-plan")).to_contain_text("剩余")
        assert "13660002222" not in page.content()
        page.screenshot(path=str(ARTIFACTS / "console-complaints-agent.png"), full_page=False)

        overdue_row.get_by_role("link", name=overdue).click()
        expect(page.get_by_test_id("warning-overdue-first_response")).to_be_visible()
        expect(page.get_by_test_id("timeline")).to_contain_text("已电话联系大厅值班经理")
        expect(page.locator("#ticket-description")).to_contain_text("<b>排队的人很多</b>")
        expect(page.locator("#first-response-form textarea")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "console-complaint-detail.png"), full_page=False)

        # Wait until the overdue ticket's warning went out, so only the next one arrives on the open page.
        deadline = time.monotonic() + ALERT_TIMEOUT_MS / 1000
        while not announced(database_url, overdue) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert announced(database_url, overdue)

        # The workspace is open (its own socket re-dispatches the events) when the next ticket goes overdue.
        page.click("#nav-workspace")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "open")
        late = file_complaint(base, token, "窗口人员让我去别的窗口，来回跑了三趟。", "13660004444")
        backdate(database_url, late, minutes=31)
        alert = page.locator(f'[data-testid="complaint-overdue-alert"][data-number="{late}"]')
        expect(alert).to_be_visible(timeout=ALERT_TIMEOUT_MS)
        expect(alert).to_have_attribute("role", "alert")
        expect(alert).to_contain_text("首次答复已超时")
        page.screenshot(path=str(ARTIFACTS / "console-complaints-overdue-alert.png"), full_page=False)
        alert.get_by_role("link").click()
        expect(page.locator("#ticket-heading")).to_contain_text(late)
        expect(page.get_by_test_id("warning-overdue-first_response")).to_be_visible()
    finally:
        context.close()


def test_an_operator_gets_the_forbidden_page(live_stack, browser) -> None:
    from playwright.sync_api import expect

    base = live_stack.config.service_url
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        sign_in(page, base, "operator1")
        response = page.goto(f"{base}/console/complaints")
        assert response is not None and response.status == 403
        expect(page.locator("#forbidden-message")).to_be_visible()
        expect(page.locator("#nav-complaints")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "console-complaints-operator-forbidden.png"), full_page=False)
        assert page.goto(f"{base}/console/appointments").status == 403
    finally:
        context.close()
