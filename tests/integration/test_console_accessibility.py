"""Every console page, as each role sees it, in Chromium: WCAG 2 A/AA rules (axe-core), the keyboard, two widths.

axe-core (tests/vendor/axe-core, from the npm registry) checks contrast, labels,
names, landmarks and ARIA use. The keyboard check walks the page with Tab: the
skip link comes first, every nav link is reached, and a focused control shows a
visible outline. At 1280x800 and at a 1024-wide tablet nothing scrolls sideways.
"""

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "demo-pass-123"
# The pages each demo account may open.
PAGES = {
    "agent1": ["/console", "/console/appointments", "/console/complaints"],
    "supervisor1": ["/console", "/console/appointments", "/console/complaints", "/console/knowledge",
                    "/console/dashboard", "/console/supervisor"],
    "operator1": ["/console/knowledge"],
}
SIZES = {"desktop": (1280, 800), "tablet": (1024, 768)}


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


def axe_violations(page) -> list[dict]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"]}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }""")
    return list(result)


def tab_walk(page, steps: int = 40) -> list[dict]:
    """Presses Tab from the top of the page; returns what had focus after each press."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    seen = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("""() => {
            const el = document.activeElement;
            if (!el || el === document.body) return {tag: "body"};
            const style = getComputedStyle(el);
            return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className || "",
                    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0};
        }"""))
    return seen


@pytest.mark.parametrize("username", list(PAGES))
def test_console_pages_meet_wcag_aa_and_work_from_the_keyboard(live_stack, browser, username: str) -> None:
    base = live_stack.config.service_url
    # axe is injected as an inline script, which the console's CSP rightly forbids: this context alone bypasses it.
    context = browser.new_context(locale="zh-CN", bypass_csp=True, viewport={"width": 1280, "height": 800})
    report: dict[str, dict] = {}
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        sign_in(page, base, username)
        for path in PAGES[username]:
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                response = page.goto(f"{base}{path}")
                assert response is not None and response.status == 200, (username, path)
                page.wait_for_load_state("networkidle")
                violations = axe_violations(page)
                overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
                report[f"{path} {size}"] = {"violations": violations, "horizontal_overflow_px": overflow}
                assert violations == [], (username, path, size, violations)
                assert overflow <= 0, (username, path, size, overflow)
            walk = tab_walk(page)
            assert walk[0]["cls"] == "skip-link", (path, walk[0])
            nav_ids = {step.get("id", "") for step in walk if step.get("id", "").startswith("nav-")}
            expected = set(page.eval_on_selector_all("[data-testid=console-nav] a", "els => els.map(e => e.id)"))
            assert expected and expected <= nav_ids, (path, expected - nav_ids)
            unringed = [step for step in walk if step["tag"] != "body" and not step["outline"]]
            assert unringed == [], (path, unringed)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"console-accessibility-{username}.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        context.close()
