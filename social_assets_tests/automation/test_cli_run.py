"""`social-assets run`: a range of days with a progress display, and dates checked before
anything starts (issue 12, item 8)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from dagster import DagsterInstance, RunsFilter

from social_assets import definitions
from social_assets.cli import Progress, main
from social_assets_tests.automation.conftest import project_defs, query, use_environment

UTC = timezone.utc
REDDIT_ONLY = "reddit:\n  defaults: {comment_depth: 2}\n  sources:\n    - subreddit: duckdb\n"


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["run", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def environment(tmp_path, monkeypatch):
    sources = tmp_path / "sources.yaml"
    sources.write_text(REDDIT_ONLY)
    use_environment(monkeypatch, tmp_path / "warehouse.duckdb", sources)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    # `run` uses the code location's `defs`: the same definitions, bound to this environment.
    monkeypatch.setattr(definitions, "defs", project_defs())
    return tmp_path


@pytest.mark.parametrize(
    "args, problem",
    [
        (["--date", "{today}"], "--date {today} cannot be collected (today)"),
        (["--from", "{yesterday}", "--to", "{tomorrow}"], "--to {tomorrow} cannot be collected (in the future)"),
        (["--from", "2024-12-31", "--to", "2025-01-02"], "--from 2024-12-31 cannot be collected (before the partitions start)"),
        (["--from", "2026-11-19", "--to", "2026-11-18"], "--from 2026-11-19 is after --to 2026-11-18"),
        (["--to", "2026-11-18"], "--to needs --from"),
        (["--date", "2026-11-18", "--from", "2026-11-17"], "give either --date or --from/--to, not both"),
    ],
)
def test_days_are_checked_before_anything_starts(environment, capsys, args, problem):
    today = datetime.now(UTC).date()
    names = {"today": today, "yesterday": today - timedelta(days=1), "tomorrow": today + timedelta(days=1)}
    code, out, err = run(capsys, *(a.format(**names) for a in args))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err  # one line
    assert err.startswith("error: " + problem.format(**names))
    if "cannot be collected" in problem:
        assert err.rstrip().endswith(f"days from 2025-01-01 to {names['yesterday']} (UTC; today is not over yet)")
    assert not (environment / "warehouse.duckdb").exists() and not (environment / "dagster_home").exists()


def test_a_brand_mistake_stops_the_run_before_anything_is_collected(environment, capsys):
    (environment / "sources.yaml").write_text(REDDIT_ONLY + "brands:\n  acme: [r/duckdb, r/not_a_source]\n")
    code, out, err = run(capsys, "--date", "2026-11-18")
    assert code == 2 and "Traceback" not in err
    assert "brands.acme[1]" in err and "r/not_a_source" in err, err
    assert not (environment / "warehouse.duckdb").exists()


def test_a_date_that_is_not_a_date_is_refused_by_name(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--from", "2026-11-31"])
    assert exit_.value.code == 2
    assert "argument --from: '2026-11-31' is not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_a_range_is_collected_day_by_day_with_progress_then_built_once(environment, capsys):
    code, out, err = run(capsys, "--from", "2026-11-17", "--to", "2026-11-19")
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith("[")]
    assert [line.split(":")[0] for line in lines] == [
        "[1/3] 2026-11-17 reddit", "[1/3] 2026-11-17 reddit",
        "[2/3] 2026-11-18 reddit", "[2/3] 2026-11-18 reddit",
        "[3/3] 2026-11-19 reddit", "[3/3] 2026-11-19 reddit",
    ]
    assert lines[0] == "[1/3] 2026-11-17 reddit: collecting 1 sources from sandbox (in-process)..."
    done = [line for line in lines if ": done, " in line]
    assert len(done) == 3 and done[-1].endswith("| remaining ~0:00")
    # The items shown are what the normalized tables received, day by day, and their running total.
    shown = [tuple(map(int, re.search(r"done, (\d+) posts, (\d+) comments, (\d+) profiles \| (\d+) items so far", line)
                       .groups())) for line in done]
    stored = query(environment / "warehouse.duckdb", """
        SELECT (SELECT count(*) FROM normalized.posts p WHERE p.partition_date = d),
               (SELECT count(*) FROM normalized.comments c WHERE c.partition_date = d),
               (SELECT count(*) FROM normalized.profiles f WHERE f.partition_date = d)
        FROM (SELECT unnest(['2026-11-17'::date, '2026-11-18', '2026-11-19']) AS d) ORDER BY d""")
    assert [s[:3] for s in shown] == stored
    assert [s[3] for s in shown] == [sum(sum(r) for r in stored[: i + 1]) for i in range(3)]
    assert all(re.search(r"elapsed \d+:\d\d \| remaining ~\d+:\d\d$", line) for line in done)
    assert "analytics: run " in out and "succeeded" in out

    with DagsterInstance.get() as instance:
        jobs = [r.job_name for r in instance.get_runs(RunsFilter())]
    assert sorted(jobs) == ["build_analytics"] + ["collect_platform_day"] * 3  # one dbt build for the range
    assert query(environment / "warehouse.duckdb", "SELECT min(published_at)::date, max(published_at)::date "
                                                    "FROM analytics.posts") == [(date(2026, 11, 17), date(2026, 11, 19))]


def test_progress_estimates_what_is_left_from_the_mean_so_far():
    now = [100.0]
    out = io.StringIO()
    progress = Progress(4, out=out, clock=lambda: now[0])
    now[0] = 130.0
    progress.finish(date(2026, 11, 17), "reddit", {"posts": 3, "comments": 40, "profiles": 1}, True)
    now[0] = 160.0
    progress.finish(date(2026, 11, 17), "youtube", {}, False)
    assert out.getvalue().splitlines() == [
        "[1/4] 2026-11-17 reddit: done, 3 posts, 40 comments, 1 profiles | 44 items so far | elapsed 0:30 | remaining ~1:30",
        "[2/4] 2026-11-17 youtube: FAILED, nothing | 44 items so far | elapsed 1:00 | remaining ~1:00",
    ]


def test_the_platforms_of_a_day_collect_at_once_without_a_lock_error(environment, capsys, monkeypatch):
    """Two platforms' runs execute at the same time: each fetch waits at a barrier for the other,
    so run one after the other they would fail. Their warehouse steps take turns in the pool;
    nothing meets a lock (DuckDB's, SQLite's or a landing file's)."""
    import threading

    from social_assets.defs import raw
    from social_assets.sandbox.platforms.youtube import channel_id_for

    (environment / "sources.yaml").write_text(
        REDDIT_ONLY + f"youtube:\n  defaults: {{comment_depth: 1}}\n  sources:\n    - channel: {channel_id_for('@socialpulse')}\n"
    )
    both_fetching = threading.Barrier(2, timeout=120)
    fetching_threads = set()
    collect = raw.collect_partition

    def collect_once_both_fetch(*args, **kwargs):
        fetching_threads.add(threading.get_ident())
        both_fetching.wait()  # BrokenBarrierError, and a failed run, unless the other fetches too
        return collect(*args, **kwargs)

    monkeypatch.setattr(raw, "collect_partition", collect_once_both_fetch)
    code, out, err = run(capsys, "--date", "2026-11-19")

    assert code == 0, out + err
    assert len(fetching_threads) == 2
    assert re.search("lock|Traceback", err, re.IGNORECASE) is None, err
    done = sorted(line.split(":")[0] for line in out.splitlines() if ": done, " in line)
    assert done == ["[1/2] 2026-11-19 reddit", "[2/2] 2026-11-19 youtube"] or done == [
        "[1/2] 2026-11-19 youtube", "[2/2] 2026-11-19 reddit"]
    logged = query(environment / "warehouse.duckdb",
                   "SELECT platform, count(*), min(status) FROM ops.collection_log GROUP BY 1 ORDER BY 1")
    assert logged == [("reddit", 1, "success"), ("youtube", 1, "success")]
    assert not any((environment / "landing").rglob("*.gz"))  # everything fetched was loaded


@pytest.mark.parametrize("value", ["many", "0"])
def test_the_platforms_at_once_setting_must_be_a_positive_number(environment, capsys, monkeypatch, value):
    monkeypatch.setenv("SOCIAL_RUNS_AT_ONCE", value)
    code, out, err = run(capsys, "--date", "2026-11-19")
    assert code == 2 and f"SOCIAL_RUNS_AT_ONCE must" in err and value in err
    assert not (environment / "warehouse.duckdb").exists()
