"""`social-assets report` on a real built warehouse, opened in a real headless Chromium: every
chart renders its data as SVG marks, nothing is logged as an error, and the page asks for
nothing outside itself."""

from __future__ import annotations

import json
import os
import re
import shutil

import duckdb
import pytest

from social_assets.cli import main
from social_assets_tests.analytics.browser import Browser

READY = "document.body && (document.body.dataset.chartsRendered || document.body.dataset.chartsFailed)"
CHARTS = """JSON.stringify([...document.querySelectorAll('.vis')].map(v => ({
    id: v.id,
    svgs: v.querySelectorAll('svg').length,
    marks: v.querySelectorAll('g.role-mark > path').length,
    bars: v.querySelectorAll('g.mark-rect > path').length,
})))"""


@pytest.fixture
def report_env(warehouse, monkeypatch):
    monkeypatch.setenv("SOCIAL_WAREHOUSE", str(warehouse))
    return warehouse


def bars_expected(warehouse, brand: str, first: str) -> int:
    """The (day, platform) pairs of the brand with posts in the window: one bar each."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (count,) = con.execute(
            "SELECT count(*) FROM analytics.brand_rollups_daily, unnest(platforms) AS t(s) "
            "WHERE brand = ? AND period_start >= ?::date AND s.posts > 0",
            [brand, first],
        ).fetchone()
    finally:
        con.close()
    return count


def open_report(chromium, path, screenshot=None):
    with Browser(chromium) as browser:
        page = browser.open(path.as_uri(), READY)
        try:
            charts = json.loads(page.evaluate(CHARTS))
            state = page.evaluate("JSON.stringify(document.body.dataset)")
            text = page.evaluate("document.body.innerText")
            who = page.evaluate("[...document.querySelectorAll('section .who')].map(p => p.innerText)")
            if screenshot:
                page.screenshot(screenshot)
            return charts, json.loads(state), text, who, page.errors, page.requests
        finally:
            page.close()


def test_the_report_renders_every_chart_in_a_real_browser(report_env, chromium, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", "--days", "30", "--out", str(out)]) == 0
    assert f"report written to {out}" in capsys.readouterr().out
    screenshot = tmp_path / "report.png"

    charts, state, text, who, errors, requests = open_report(chromium, out, screenshot)

    assert errors == []
    # Self-contained: the page asks for nothing but itself (no CDN, no font, no data file).
    assert requests == [out.as_uri()]
    # Platforms: followers and engagement rate; brands: followers, engagement rate, posts.
    assert state.get("chartsRendered") == str(len(charts)) == str(2 * 2 + 2 * 3)
    assert all(chart["svgs"] == 1 and chart["marks"] > 0 for chart in charts), charts
    for heading in ("Reddit", "Youtube", "Brand pulse", "Brand community", "top posts"):
        assert heading in text
    # The posts-per-day chart of each brand has one bar per day and platform with posts.
    window_first = re.search(r"(\d{4}-\d{2}-\d{2}) to \d{4}-\d{2}-\d{2}", text).group(1)
    brand_bars = [chart["bars"] for chart in charts if chart["bars"]]
    assert brand_bars == [bars_expected(report_env, brand, window_first) for brand in ("community", "pulse")]
    assert screenshot.stat().st_size > 20_000
    if os.environ.get("SOCIAL_REPORT_SCREENSHOT"):
        shutil.copy(screenshot, os.environ["SOCIAL_REPORT_SCREENSHOT"])


def test_a_brand_report_shows_only_that_brands_accounts(report_env, chromium, tmp_path, youtube_channel):
    out = tmp_path / "pulse.html"
    assert main(["report", "--brand", "pulse", "--out", str(out)]) == 0

    charts, state, text, who, errors, _ = open_report(chromium, out)

    assert errors == []
    assert state.get("chartsRendered") == str(len(charts)) == str(2 * 2 + 3)
    assert "Brand pulse" in text and "Brand community" not in text
    # The accounts shown: per platform, then the brand's own list.
    assert who == ["sandbox_bob", "@socialpulse", f"reddit:u/sandbox_bob, youtube:{youtube_channel}"]


def test_an_unknown_brand_or_an_empty_window_is_refused(report_env, tmp_path, capsys):
    assert main(["report", "--brand", "nope", "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "unknown brand 'nope'" in err and "community, pulse" in err
    assert main(["report", "--days", "0", "--out", str(tmp_path / "r.html")]) == 2
    assert "--days must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_a_warehouse_without_analytics_tables_is_refused(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    monkeypatch.setenv("SOCIAL_WAREHOUSE", str(empty))
    assert main(["report", "--out", str(tmp_path / "r.html")]) == 2
    assert "the analytics tables are not built" in capsys.readouterr().err
