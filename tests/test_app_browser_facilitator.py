"""The second facilitator's trial in a real browser: the end-of-funding button, a run that has
ended, a budget of 750 on the slider, and the lever tab printed whole.

Shares the server fixture and browser set-up of test_app_browser.py (skipped without a browser,
failed under CI); see that module's docstring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_app_browser import (  # noqa: F401 - app_server: the fixture, found here by pytest
    CHROMIUM,
    LAUNCH_ARGS,
    START_TIMEOUT_S,
    _set_slider,
    app_server,
)


@pytest.fixture(scope="module")
def app_url(app_server: tuple[str, Path]) -> str:  # noqa: F811 - the fixture's parameter
    """The URL of this module's ``ccsim app`` server."""
    return app_server[0]


FUNDING_END = "Run to end of funding (month 24)"
UNCLIPPED_JS = """() => {
  const guide = document.querySelector('.ccsim-guide');
  const clipping = [];
  for (let e = guide.parentElement; e; e = e.parentElement) {
    if (e.scrollHeight > e.clientHeight + 1 && getComputedStyle(e).overflowY !== 'visible') {
      clipping.push(e.className.toString() || e.tagName);
    }
  }
  const sidebar = document.querySelector('.v-navigation-drawer');
  return {clipping, bottom: guide.getBoundingClientRect().bottom,
          page: document.documentElement.scrollHeight,
          sidebar: sidebar ? getComputedStyle(sidebar).display : 'none'};
}"""


# the server rebuilds or steps the model and re-renders after a click: on 2 busy cores that can
# take longer than Playwright's 5 s default (the full suite once failed here under load)
LAG = 20_000


def _check_funding_end_and_end_of_run(page: Any) -> None:
    """The button stops at month 24 exactly; at month 48 the page says the run has ended."""
    from playwright.sync_api import expect

    status, how = page.locator(".ccsim-status-line"), page.locator(".ccsim-how")
    step, button = (
        page.get_by_role("button", name="Step"),
        page.get_by_role("button", name=FUNDING_END),
    )
    expect(how).to_contain_text("press ❚❚ to pause")
    step.click()  # once drawn, the status card is the new model's (a click sooner can be lost)
    expect(page.get_by_text("Time: 1.0")).to_be_visible(timeout=20_000)
    button.click()
    expect(page.get_by_text("Time: 24.0")).to_be_visible(timeout=30_000)
    expect(status).to_contain_text("Month 24 of 48 (programme) · true gap 19%", timeout=LAG)
    expect(button).to_be_disabled(timeout=LAG)
    expect(step).to_be_enabled(timeout=LAG)
    page.get_by_role("button", name="▶").click()
    expect(status).to_contain_text("Month 48 of 48 (follow-up)", timeout=90_000)
    expect(how).to_contain_text("The run has ended at month 48", timeout=LAG)
    expect(how).to_contain_text("Press Reset", timeout=LAG)
    expect(step).to_be_disabled(timeout=LAG)
    page.get_by_role("button", name="Reset").click()
    expect(status).to_contain_text("Month 0 of 48", timeout=LAG)
    expect(how).to_contain_text("How to use", timeout=LAG)
    expect(button).to_be_enabled(timeout=LAG)


def _check_budget_750(page: Any) -> None:
    """The spare card's budget is a slider position: Home, then 15 steps of 50."""
    from playwright.sync_api import expect

    _set_slider(page, "Budget (currency per site-month)", ["Home", *["ArrowRight"] * 15])
    expect(page.locator(".ccsim-pending").first).to_contain_text(
        "Budget (currency per site-month) 1500 → 750", timeout=20_000
    )
    _set_slider(page, "Budget (currency per site-month)", ["ArrowRight"] * 15)
    expect(page.locator(".ccsim-pending")).to_have_count(0, timeout=20_000)


def _check_lever_tab_prints_whole(page: Any) -> None:
    """Printed, the lever tab flows to its full height: no box clips it, no sidebar."""
    from playwright.sync_api import expect

    page.get_by_role("tab").nth(1).click()
    expect(page.locator(".ccsim-guide")).to_contain_text("is not a slider")
    page.emulate_media(media="print")
    page.wait_for_timeout(300)
    found = page.evaluate(UNCLIPPED_JS)
    assert found["clipping"] == [], found
    assert found["bottom"] <= found["page"] + 1 and found["sidebar"] == "none", found
    page.emulate_media(media="screen")


def test_funding_end_button_end_of_run_budget_and_print(app_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(app_url)
            page.get_by_role("button", name="Step").wait_for(timeout=START_TIMEOUT_S * 1000)
            page.get_by_role("button", name="Reset").click()
            expect(page.get_by_text("Time: 0.0")).to_be_visible()
            _check_funding_end_and_end_of_run(page)
            _check_budget_750(page)
            _check_lever_tab_prints_whole(page)
        finally:
            browser.close()
