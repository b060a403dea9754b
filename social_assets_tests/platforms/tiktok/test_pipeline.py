"""A TikTok day and an hourly refresh through the real pipeline (Dagster instance, DuckDB file,
in-process sandbox), built on into the analytics tables. (A storm ending with the tables of a
calm run is test_storm.py's, over every platform of the project's sources.)"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import yaml

from social_assets import connections
from social_assets_tests.conftest import PROJECT_ROOT
from social_assets_tests.pipeline import build_analytics, collect_partition, memory_instance, refresh_hour, table_contents

DAY = date(2026, 11, 19)
HOUR = "2026-11-20-02:00"
TABLES = ("normalized.posts", "normalized.comments", "normalized.profiles", "normalized.post_metrics")


def run(tmp_path, monkeypatch, profile: str, analytics: bool = False) -> tuple[dict, list[dict], str]:
    warehouse, log = tmp_path / f"{profile}.duckdb", tmp_path / f"{profile}.jsonl"
    sources = tmp_path / "tiktok.yaml"
    sources.write_text(yaml.safe_dump({"tiktok": yaml.safe_load((PROJECT_ROOT / "sources.yaml").read_text())["tiktok"]}))
    monkeypatch.setenv("SOCIAL_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("SOCIAL_SOURCES", str(sources))
    monkeypatch.setenv("SOCIAL_SANDBOX_FAULTS", profile)
    monkeypatch.setenv("SOCIAL_SANDBOX_LOG", str(log))
    monkeypatch.setattr(connections, "_SANDBOX", None)
    with memory_instance() as instance:
        collect_partition(instance, "tiktok", DAY)
        refresh_hour(instance, "tiktok", HOUR)
        if analytics:
            build_analytics(instance)
    served = [json.loads(line) for line in log.read_text().splitlines()]
    tables = {t: rows for t, rows in table_contents(warehouse, ("normalized",)).items() if t in TABLES}
    return tables, served, str(warehouse)


def test_a_tiktok_day_and_its_refresh_reach_the_analytics_tables(pipeline_env, tmp_path, monkeypatch):
    tables, served, warehouse = run(tmp_path, monkeypatch, "none", analytics=True)
    assert all(tables[t] for t in TABLES), {t: len(rows) for t, rows in tables.items()}
    con = duckdb.connect(warehouse, read_only=True)
    try:
        # The POST bodies are landed beside the responses.
        bodies = con.execute("SELECT request_body FROM raw.posts WHERE platform = 'tiktok' ORDER BY seq").fetchall()
        assert json.loads(bodies[0][0]) == {"max_count": 20}
        comments = con.execute("SELECT request_body FROM raw.comments WHERE platform = 'tiktok'").fetchall()
        assert all("video_id" in json.loads(b) or "comment_id" in json.loads(b) for (b,) in comments) and comments
        refreshed = con.execute("SELECT request_body FROM raw.metric_refreshes WHERE platform = 'tiktok'").fetchall()
        assert [len(json.loads(b)["filters"]["video_ids"]) <= 20 for (b,) in refreshed] == [True] * len(refreshed)
        posts = con.execute("SELECT count(*), count(views), min(media_urls[1]), count(duration_seconds) "
                            "FROM analytics.posts WHERE platform = 'tiktok'").fetchone()
        assert posts[0] == posts[1] == posts[3] > 0 and posts[2].startswith("https://www.tiktok.com/player/v1/")
        rollup = con.execute("SELECT posts, views, followers_end FROM analytics.rollups_daily "
                             "WHERE platform = 'tiktok' AND period_start = ?", [DAY]).fetchone()
        assert rollup[0] == posts[0] and rollup[1] > 0
        refreshed_posts = con.execute("SELECT count(DISTINCT post_id) FROM normalized.post_metrics "
                                      "WHERE platform = 'tiktok'").fetchone()[0]
        assert refreshed_posts == posts[0]  # every post of the day, by video/query
        followers, likes_received = con.execute(
            "SELECT followers, likes_received FROM analytics.profiles WHERE platform = 'tiktok'").fetchone()
        assert followers > 0 and likes_received > 0
    finally:
        con.close()
    assert not any(r["injected_fault"] or r["refused_for_overuse"] for r in served)
