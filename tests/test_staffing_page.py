"""The staffing advice on the office's reports page, in Chromium against a hub process with four
weeks of history: the week asked, the day's table, the hours' totals and the method's help;
axe finds nothing serious; nothing is loaded from outside. Screenshot:
tests/artifacts/office-staffing-1920x1080.png."""

from __future__ import annotations

import pytest

from tests.hubproc import PASSWORD
from tests.test_display_pages import (  # noqa: F401 - the module's browser fixture
    TIMEOUT_MS,
    browser,
    no_serious_axe_violations,
    only_local,
    open_page,
    shot,
)
from tests.test_staffing import HUB_WEEK, hub_with_history

pytestmark = pytest.mark.slow


def test_staffing_advice_on_the_reports_page(browser, tmp_path):  # noqa: F811 - the fixture
    hub = hub_with_history(tmp_path)
    hub.start()
    try:
        page = open_page(browser, f"{hub.url}/office/reports", 1920, 1080)
        page.fill("#username", "super")
        page.fill("#password", PASSWORD)
        page.click("#signin-form button[type=submit]")
        page.wait_for_selector("#reports:not([hidden])", timeout=TIMEOUT_MS)
        page.fill("#staffing-week", HUB_WEEK)  # not the browser's own date: the suite's week
        page.click("#staffing-run")
        page.wait_for_function(f"() => document.body.dataset.staffing === '{HUB_WEEK}'",
                               timeout=120_000)
        rows = page.eval_on_selector_all(
            "#staffing-table tbody tr",
            "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
        assert len(rows) == 40  # 4 items × 10 hours, 08:00-17:00
        assert rows[0][0] == "08:00" and "（S1）" in rows[0][1]
        heads = page.eval_on_selector_all("#staffing-table thead th",
                                          "cells => cells.map(c => c.textContent)")
        assert heads[5].startswith("建议窗口") and "Erlang C" in heads[7]
        hours = page.eval_on_selector_all("#staffing-hours tbody tr", "rows => rows.length")
        assert hours == 10
        days = page.eval_on_selector_all("#staffing-day option",
                                         "options => options.map(o => o.textContent)")
        assert len(days) == 7 and days[0].startswith("2026-11-23")
        status = page.text_content("#staffing-status")
        assert "20 分钟" in status and "2026-10-26" in status and "2026-11-22" in status
        page.select_option("#staffing-day", "6")
        page.wait_for_function(
            "() => document.querySelectorAll('#staffing-table tbody tr').length === 40")
        page.click("#staffing-help summary")
        assert "Erlang C" in page.text_content("#staffing-help")
        page.locator("#staffing-title").scroll_into_view_if_needed()
        shot(page, "office-staffing-1920x1080.png")
        no_serious_axe_violations(page)
        only_local(page, hub.url)
        assert not page.errors, page.errors
    finally:
        hub.stop()
