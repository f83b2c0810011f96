"""The supervisor dashboard in Chromium against the running product: charts drawn under the CSP, CSV, live figures.

supervisor1 opens 主管看板 from the nav: every chart's canvas is drawn by
Chart.js with no CSP or script error, a CSV link downloads a UTF-8 file with a
BOM, and a citizen's message moves the figures without a reload. Screenshots at
1280x800 and 1024x768; agent1 gets the forbidden page.
"""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import open_live_conversation

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "demo-pass-123"
CANVASES = ["conversations", "faq", "handoff_reasons", "queue_wait", "agent_handling", "csat", "csat_trend",
            "complaint_compliance", "complaint_categories", "complaint_windows", "bookings", "booking_windows"]


def sign_in(page: Any, base: str, username: str) -> None:
    """Signs in through the console's login form."""
    page.goto(f"{base}/console/login")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


def problems_of(messages: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Console errors, CSP reports and uncaught exceptions, leaving out the browser's own favicon request."""
    return [(kind, text) for kind, text in messages
            if (kind in ("error", "pageerror") or "Content Security Policy" in text) and "favicon" not in text]


def test_the_supervisor_sees_live_charts_and_exports_csv(live_stack, browser) -> None:
    from playwright.sync_api import expect

    base = live_stack.config.service_url
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800}, accept_downloads=True)
    messages: list[tuple[str, str]] = []
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("console", lambda m: messages.append((m.type, f"{m.text} {m.location.get('url', '')}")))
        page.on("pageerror", lambda e: messages.append(("pageerror", str(e))))
        sign_in(page, base, "supervisor1")
        page.click("#nav-dashboard")
        expect(page).to_have_url(re.compile(r"/console/dashboard$"))
        expect(page.locator("#dashboard")).to_have_attribute("data-loaded", "day")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "open")
        expect(page.locator("#live-board-link")).to_have_attribute("href", "/console/supervisor")

        # Chart.js drew every canvas (it sizes them from script, which the CSP allows) and named it for readers.
        for chart in CANVASES:
            canvas = page.locator(f"#chart-{chart}")
            expect(canvas).to_be_visible()
            assert page.evaluate("(id) => !!Chart.getChart(id)", f"chart-{chart}"), chart
            assert canvas.bounding_box()["height"] > 100, chart
            expect(canvas).to_have_attribute("aria-label", re.compile("。|："))
        expect(page.locator('[data-testid="kpi-containment"] .kpi-value')).to_have_text(re.compile(r"^(\d+\.\d%|—)$"))
        # Each chart has its table behind a keyboard-reachable disclosure.
        page.locator("#panel-conversations summary").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#table-conversations tbody tr")).to_have_count(7)
        page.keyboard.press("Enter")
        expect(page.locator("#table-conversations")).to_be_hidden()

        with page.expect_download() as download_info:
            page.click('[data-testid="csv-conversations"]')
        download = download_info.value
        assert re.match(r"dashboard-conversations-day-\d{4}-\d{2}-\d{2}\.csv$", download.suggested_filename)
        body = Path(download.path()).read_bytes()
        assert body.startswith(b"\xef\xbb\xbf")
        assert body.decode("utf-8-sig").splitlines()[0].startswith("期间,会话数,人工接手,机器人独立完成")

        # A citizen writes: the fingerprint task tells the page, which fetches the figures again on its own.
        fetches = int(page.locator("#dashboard").get_attribute("data-fetches") or "0")
        before = page.locator('[data-testid="kpi-containment"] .kpi-note').text_content()
        conversation_id, owner = open_live_conversation(base, live_stack.config.integration_api_key)
        response = httpx.post(f"{base}/api/conversations/{conversation_id}/messages", json={"text": "身份证怎么办"},
                              headers=owner, timeout=60)
        assert response.status_code == 200, response.text
        expect(page.locator('[data-testid="kpi-containment"] .kpi-note')).not_to_have_text(before or "", timeout=20000)
        assert int(page.locator("#dashboard").get_attribute("data-fetches") or "0") > fetches
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / "console-dashboard-supervisor.png"))

        # By week: eight buckets, the links follow the choice.
        page.select_option("#period-select", "week")
        expect(page.locator("#dashboard")).to_have_attribute("data-loaded", "week")
        expect(page.locator('[data-testid="csv-bookings"]')).to_have_attribute(
            "href", "/api/dashboard/export/bookings.csv?period=week")
        expect(page.locator("#table-conversations tbody tr")).to_have_count(8)

        page.set_viewport_size({"width": 1024, "height": 768})
        page.select_option("#period-select", "day")
        expect(page.locator("#dashboard")).to_have_attribute("data-loaded", "day")
        assert page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth") <= 0
        page.screenshot(path=str(ARTIFACTS / "console-dashboard-tablet.png"))
        assert problems_of(messages) == [], messages
    finally:
        context.close()


def test_an_agent_gets_the_forbidden_page(live_stack, browser) -> None:
    from playwright.sync_api import expect

    base = live_stack.config.service_url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        sign_in(page, base, "agent1")
        assert page.locator("#nav-dashboard").count() == 0
        response = page.goto(f"{base}/console/dashboard")
        assert response is not None and response.status == 403
        expect(page.locator("#forbidden-message")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "console-dashboard-agent-forbidden.png"))
        api = page.request.get(f"{base}/api/dashboard/figures")
        assert api.status == 403 and api.json()["error"]["code"] == "forbidden"
    finally:
        context.close()
