"""Incremental analytics (issue #11): after each kind of partition write, the incremental build
the analytics step makes gives, table by table, the same analytics as `dbt build --full-refresh`
over the same normalized rows: a new day, a partition replaced with an item gone from it, a
re-run of the same day, an hourly engagement refresh, a renamed account, and a follower count
of an earlier moment."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from social_assets.settings import DBT_PROJECT_DIR
from social_assets.warehouse.dbt_runner import invoke, parsed_project
from social_assets.warehouse.tables import NORMALIZED_TABLES, PartitionWrite, replace_partition
from social_assets_tests.pipeline import build_analytics, collect_partition, memory_instance, refresh_hour

DAYS = [date(2026, 11, 16), date(2026, 11, 17)]
NEW_DAY = date(2026, 11, 18)


def analytics_checksums(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Per analytics table: its row count and the sum of its rows' hashes (independent of the
    rows' order, sensitive to every value of every row)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics' "
            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        return {
            name: tuple(con.execute(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM analytics.{name} t").fetchone())
            for name in tables
        }
    finally:
        con.close()


def full_rebuild_checksums(warehouse: Path, scratch: Path) -> dict[str, tuple[int, int]]:
    """The same warehouse copied, rebuilt with `dbt build --full-refresh` (in this process, with
    the project parsed once, as the pipeline runs dbt)."""
    copy = scratch / "warehouse.duckdb"  # the same file name: dbt-duckdb names the catalog after it
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    shutil.copy(warehouse, copy)
    with pytest.MonkeyPatch.context() as patched:
        patched.setenv("SOCIAL_WAREHOUSE", str(copy))
        done = invoke(
            ["build", "--full-refresh", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs"), "--log-level", "none"],
            parsed_project(scratch / "target"),
        )
    assert done.success, done.exception or [(r.node.name, r.status, r.message) for r in done.result if r.status != "success"]
    return analytics_checksums(copy)


def assert_incremental_equals_full_rebuild(instance, warehouse: Path, scratch: Path) -> dict:
    build_analytics(instance)
    assert last_build_was_full(warehouse) is False
    incremental = analytics_checksums(warehouse)
    assert incremental == full_rebuild_checksums(warehouse, scratch)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ops.analytics_changes").fetchone() == (0,)  # all consumed
    return incremental


def last_build_was_full(warehouse: Path) -> bool:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT full_refresh FROM ops.analytics_builds ORDER BY built_at DESC LIMIT 1").fetchone()[0]


def rows(con, resource: str, platform: str, day: date):
    return con.execute(
        f"SELECT * FROM {NORMALIZED_TABLES[resource].qualified} WHERE platform = ? AND partition_date = ?",
        [platform, day],
    ).df()


@pytest.mark.timeout(600)
def test_an_incremental_build_equals_a_full_rebuild_table_by_table(pipeline_env, tmp_path, monkeypatch):
    warehouse = pipeline_env
    with memory_instance() as instance:
        for day in DAYS:
            monkeypatch.setenv("SOCIAL_SANDBOX_NOW", f"{day + timedelta(days=1)}T02:00:00+00:00")
            for platform in ("reddit", "youtube"):
                collect_partition(instance, platform, day)
        build_analytics(instance)
        assert last_build_was_full(warehouse) is True  # the first build
        before = analytics_checksums(warehouse)

        # A new day: the year's history is not rebuilt, and the result is the full rebuild's.
        monkeypatch.setenv("SOCIAL_SANDBOX_NOW", f"{NEW_DAY + timedelta(days=1)}T02:00:00+00:00")
        for platform in ("reddit", "youtube"):
            collect_partition(instance, platform, NEW_DAY)
        new_day = assert_incremental_equals_full_rebuild(instance, warehouse, tmp_path / "new_day")
        assert new_day["posts"][0] > before["posts"][0] and new_day["comments"][0] > before["comments"][0]

        # A partition replaced without a post (and its comments) and without a comment of
        # another post: both leave the analytics as if they had never been collected there.
        con = duckdb.connect(str(warehouse))
        try:
            posts, comments = rows(con, "posts", "reddit", DAYS[0]), rows(con, "comments", "reddit", DAYS[0])
            seen_elsewhere = {pid for (pid,) in con.execute(
                "SELECT post_id FROM normalized.posts WHERE platform = 'reddit' AND partition_date <> ?", [DAYS[0]]
            ).fetchall()}
            only_here = posts[~posts.post_id.isin(seen_elsewhere)]
            assert len(only_here), "the test needs a post collected on one day only"
            gone_post = only_here.post_id.iloc[0]
            gone_comment = comments[comments.post_id != gone_post].comment_id.iloc[0]
            assert con.execute("SELECT count(*) FROM analytics.posts WHERE post_id = ?", [gone_post]).fetchone() == (1,)
            replace_partition(con, "reddit", DAYS[0], [
                PartitionWrite(NORMALIZED_TABLES["posts"], posts[posts.post_id != gone_post]),
                PartitionWrite(NORMALIZED_TABLES["comments"],
                               comments[(comments.post_id != gone_post) & (comments.comment_id != gone_comment)]),
            ])
        finally:
            con.close()
        assert_incremental_equals_full_rebuild(instance, warehouse, tmp_path / "gone")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM analytics.posts WHERE post_id = ?", [gone_post]).fetchone() == (0,)
            assert con.execute("SELECT count(*) FROM analytics.comments WHERE comment_id = ?",
                               [gone_comment]).fetchone() == (0,)

        # The same day collected again (a re-run): its rows are replaced by the new collection's.
        monkeypatch.setenv("SOCIAL_SANDBOX_NOW", f"{NEW_DAY + timedelta(days=1)}T09:00:00+00:00")
        for platform in ("reddit", "youtube"):
            collect_partition(instance, platform, NEW_DAY)
        rerun = assert_incremental_equals_full_rebuild(instance, warehouse, tmp_path / "rerun")

        # An account renamed: the account_name of all its posts changes, those last observed
        # long before included.
        con = duckdb.connect(str(warehouse))
        try:
            profiles = rows(con, "profiles", "reddit", NEW_DAY)
            renamed = profiles.account_id.iloc[0]
            profiles.loc[profiles.account_id == renamed, "username"] = "renamed_account"
            replace_partition(con, "reddit", NEW_DAY, [PartitionWrite(NORMALIZED_TABLES["profiles"], profiles)])
        finally:
            con.close()
        renamed_build = assert_incremental_equals_full_rebuild(instance, warehouse, tmp_path / "renamed")
        assert renamed_build["posts"] != rerun["posts"]
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("SELECT DISTINCT account_name FROM analytics.posts WHERE account_id = ?",
                               [renamed]).fetchall() == [("renamed_account",)]

        # An hourly refresh: new engagement points, and the posts' latest metrics, change.
        monkeypatch.setenv("SOCIAL_SANDBOX_NOW", f"{NEW_DAY + timedelta(days=1)}T12:00:00+00:00")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            points_before = con.execute("SELECT count(*) FROM analytics.engagement_snapshots").fetchone()[0]
        for platform in ("reddit", "youtube"):
            refresh_hour(instance, platform, f"{NEW_DAY + timedelta(days=1)}-11:00")
        refreshed = assert_incremental_equals_full_rebuild(instance, warehouse, tmp_path / "refresh")
        assert refreshed["engagement_snapshots"][0] > points_before

        # A follower count of an earlier moment (a derived history brings such counts): just
        # before the account's posts' latest metrics, so their followers_at_collection, and the
        # rollup periods from then on, change.
        con = duckdb.connect(str(warehouse))
        try:
            (moment,) = con.execute("SELECT min(collected_at) FROM analytics.posts WHERE account_id = ?",
                                    [renamed]).fetchone()
            earlier = profiles[profiles.account_id == renamed].copy()
            earlier["collected_at"] = moment - timedelta(microseconds=1)
            earlier["followers"] = 1
            replace_partition(con, "reddit", NEW_DAY, [
                PartitionWrite(NORMALIZED_TABLES["profiles"], pd.concat([profiles, earlier], ignore_index=True))])
        finally:
            con.close()
        earlier_build = assert_incremental_equals_full_rebuild(instance, warehouse, tmp_path / "earlier")
        assert earlier_build["posts"] != refreshed["posts"]
        assert earlier_build["rollups_daily"] != refreshed["rollups_daily"]
