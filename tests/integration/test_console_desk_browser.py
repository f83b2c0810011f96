"""The appointments desk in Chromium against the running product: agent1 views the day per window, finds a
citizen by the last 4 digits of their mobile, and checks them in; screenshots at desktop and tablet sizes."""

from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The live stack's booking clock stands at 2026-11-18 10:00 (a Wednesday): these are later that day.
TODAY = "2026-11-18"
CITIZENS = [("passport", "14:00", "陈晓明", "13570001234"), ("passport", "14:00", "李芳", "13570002468"),
            ("id_card", "14:30", "王建国", "13570003579"), ("hk_macau_permit", "15:00", "赵敏", "13570004680")]


def book_citizens(base: str, token: str) -> dict[str, str]:
    """Books the citizens through the bot's internal API; returns their codes by mobile."""
    codes = {}
    for service_id, start, name, mobile in CITIZENS:
        response = httpx.post(f"{base}/internal/appointments/bookings", timeout=10,
                              headers={"Authorization": f"Bearer {token}"},
                              json={"service_id": service_id, "day": TODAY, "start": start, "name": name,
                                    "mobile": mobile})
        assert response.status_code == 201, response.text
        codes[mobile] = response.json()["code"]
    return codes


def test_agent_checks_a_citizen_in_found_by_the_last_digits(live_stack, browser) -> None:
    from playwright.sync_api import expect

    base = live_stack.config.service_url
    codes = book_citizens(base, live_stack.config.internal_token)
    mobile = CITIZENS[1][3]
    code = codes[mobile]
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{base}/console/login")
        page.fill("#login-username", "agent1")
        page.fill("#login-password", "demo-pass-123")
        page.click("#login-submit")
        page.click("#nav-appointments")
        expect(page.locator("h1")).to_contain_text(TODAY)
        expect(page.locator("#nav-appointments")).to_have_attribute("aria-current", "page")
        passports = page.get_by_test_id("window-G01-G03").or_(page.get_by_test_id("window-G04-G06"))
        expect(passports.first).to_be_visible()
        expect(page.get_by_test_id("window-counts")).to_contain_text("合计")
        for number in codes.values():
            expect(page.locator(f'tr[data-code="{number}"]').first).to_be_visible()
        assert all(m not in page.content() for _, _, _, m in CITIZENS)
        page.screenshot(path=str(ARTIFACTS / "console-appointments-agent.png"), full_page=False)

        # From the keyboard: type the last 4 digits into the search box and press Enter.
        page.focus("#search-query")
        page.keyboard.type(mobile[-4:])
        page.keyboard.press("Enter")
        results = page.get_by_test_id("search-results")
        expect(results).to_contain_text(code)
        expect(results).to_contain_text("135****2468")
        assert mobile not in page.content()

        page.get_by_test_id("search-results").get_by_test_id(f"check-in-{code}").click()
        expect(page.locator("#desk-notice")).to_contain_text(code)
        expect(page.get_by_test_id(f"status-{code}")).to_have_text("已签到")
        expect(page.get_by_test_id(f"check-in-{code}")).to_have_count(0)

        # A no-show asks first; dismissing the question changes nothing.
        other = codes[CITIZENS[2][3]]
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.get_by_test_id(f"no-show-{other}").click()
        expect(page.get_by_test_id(f"status-{other}")).to_have_text("已预约")

        page.set_viewport_size({"width": 1024, "height": 768})
        page.goto(f"{base}/console/appointments?day={TODAY}")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=str(ARTIFACTS / "console-appointments-tablet.png"), full_page=False)
    finally:
        context.close()

    # The API agrees, and the export carries no clear number.
    headers = {"Authorization": f"Bearer {live_stack.config.internal_token}"}
    day = httpx.get(f"{base}/api/appointments/day", params={"day": TODAY}, headers=headers, timeout=10).json()
    marked = {b["code"]: b["status"] for w in day["windows"] for b in w["bookings"]}
    assert marked[code] == "checked_in" and marked[codes[CITIZENS[2][3]]] == "booked"
    export = httpx.get(f"{base}/api/appointments/export.csv", params={"day": TODAY}, headers=headers, timeout=10)
    assert code in export.text and mobile not in export.text
