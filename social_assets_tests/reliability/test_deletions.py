"""Deletions are honoured (issue #13, item 7): posts and comments deleted in the sandbox's world
are found gone by the hourly refresh (posts) and by the next collection (comments), and every
trace of their content leaves the warehouse and the analysts' snapshot, while a tombstone row
keeps their ids, metrics and `deleted_at`, so the day's rollups do not change.

Every platform of the project's sources file that has a sandbox takes part (the first source of
each) and whose refresh reports gone posts (REPORTS_GONE_POSTS)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import duckdb
import pytest
import yaml

from social_assets import connections
from social_assets.platforms import PLATFORMS
from social_assets.sandbox.app import emulation_modules
from social_assets_tests.conftest import PROJECT_ROOT
from social_assets_tests.pipeline import build_analytics, collect_partition, memory_instance, refresh_hour
from social_assets_tests.reliability.search import found_in_database

DAY = date(2026, 11, 19)
COLLECTED = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)  # pipeline_env's sandbox clock
DELETED = COLLECTED + timedelta(hours=2)
LATER = COLLECTED + timedelta(hours=6)
# Platforms whose collection shows a deleted comment as such (Reddit's "[deleted]" placeholder,
# Bluesky's notFoundPost); elsewhere a deleted comment is only absent, which a partial read of
# a comment section cannot tell from "not read".
COMMENT_PLACEHOLDERS = {"reddit", "bluesky"}
# Platforms whose refresh reports the posts its lookup misses (`core.records.gone_posts`): all
# that have a refresh.
REPORTS_GONE_POSTS = {"reddit", "youtube", "x", "mastodon", "bluesky", "instagram", "facebook", "tiktok", "linkedin"}


def query(warehouse, sql, params=()):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def small_sources() -> tuple[str, list[str]]:
    project = yaml.safe_load((PROJECT_ROOT / "sources.yaml").read_text())
    out, names = {}, []
    for name in sorted(PLATFORMS):
        section = project.get(name) or {}
        if name not in emulation_modules() or not section.get("sources") or PLATFORMS[name].refresh is None \
                or name not in REPORTS_GONE_POSTS:
            continue
        defaults = {**(section.get("defaults") or {}), "post_limit": 6}
        if "comment_depth" in defaults:
            defaults["comment_depth"] = min(defaults["comment_depth"], 3)
        out[name] = {"defaults": defaults, "sources": [section["sources"][0]]}
        names.append(name)
    return yaml.safe_dump(out), names


def unique_victim(candidates, texts_elsewhere):
    """The first (item, needle) whose needle is long and appears in no other item's text."""
    for item, needle, own_id in candidates:
        if len(needle) >= 20 and sum(needle in text for other_id, text in texts_elsewhere if other_id != own_id) == 0:
            return item, needle, own_id
    return None


@pytest.mark.timeout(1800)
def test_deleted_posts_and_comments_leave_only_tombstones(pipeline_env, monkeypatch, tmp_path):
    text, platforms = small_sources()
    sources = tmp_path / "deletions_sources.yaml"
    sources.write_text(text)
    monkeypatch.setenv("SOCIAL_SOURCES", str(sources))
    snapshot = pipeline_env.parent / "analytics.duckdb"
    with memory_instance() as instance:
        for platform in platforms:
            collect_partition(instance, platform, DAY)
        build_analytics(instance)
        world = connections.shared_sandbox().world
        posts = query(pipeline_env, "SELECT platform, post_id, text, likes, media_urls FROM normalized.posts")
        comments = query(pipeline_env, "SELECT platform, comment_id, post_id, text, likes FROM normalized.comments")
        all_texts = [(f"p:{p}:{i}", t or "") for p, i, t, *_ in posts] + [(f"c:{p}:{i}", t or "") for p, i, _, t, _ in comments]
        rollup_posts_before = dict(query(pipeline_env, "SELECT platform, sum(posts) FROM analytics.rollups_daily "
                                         "WHERE period_start = ? GROUP BY 1", [DAY]))

        victims = []  # (platform, resource, id, needle, likes, media)
        for platform in platforms:
            rows = [r for r in posts if r[0] == platform]
            world_posts = [p for a in world.accounts(platform) for p in world.posts_on(a, DAY)]
            candidates = [(wp, wp.title, f"p:{platform}:{r[1]}") for r in rows for wp in world_posts if wp.title in (r[2] or "")]
            found = unique_victim(candidates, all_texts)
            assert found, f"{platform}: no post to delete"
            world_post, needle, key = found
            row = next(r for r in rows if f"p:{platform}:{r[1]}" == key)
            world.delete(world_post, how="removed" if platform == "reddit" else "deleted", at=DELETED)
            victims.append((platform, "posts", row[1], needle, row[3], list(row[4] or [])))
            if platform not in COMMENT_PLACEHOLDERS:
                continue
            alive_posts = [wp for wp in world_posts if wp is not world_post]
            candidates = [
                (wc, wc.text, f"c:{platform}:{r[1]}")
                for r in comments if r[0] == platform
                for wp in alive_posts for wc in world.comments(wp, at=COLLECTED) if wc.text == r[3]
            ]
            found = unique_victim(candidates, all_texts)
            assert found, f"{platform}: no comment to delete"
            world_comment, needle, key = found
            row = next(r for r in comments if f"c:{platform}:{r[1]}" == key)
            world.delete(world_comment, at=DELETED)
            victims.append((platform, "comments", row[1], needle, row[4], []))
        # The content really is in every layer before the deletion.
        needles = {f"{p} {r} {i}": {n, *m} for p, r, i, n, _, m in victims}
        before = found_in_database(pipeline_env, needles)
        for name in needles:
            assert any(name in hits for table, hits in before.items() if ".raw." in f".{table.split(':')[1]}"), name
            assert any(name in hits for table, hits in before.items() if "analytics." in table), name

        monkeypatch.setenv("SOCIAL_SANDBOX_NOW", LATER.isoformat())
        for platform in platforms:
            refresh_hour(instance, platform, (LATER - timedelta(hours=1)).strftime("%Y-%m-%d-%H:00"))
            collect_partition(instance, platform, DAY)  # the comments' deletions show here
        build_analytics(instance)

    # No trace of the content anywhere: raw bodies, normalized and analytics rows, dead letters,
    # the analysts' snapshot.
    assert found_in_database(pipeline_env, needles) == {}
    assert found_in_database(snapshot, needles) == {}
    for platform, resource, item_id, _, likes, _ in victims:
        id_column = "post_id" if resource == "posts" else "comment_id"
        author = "author_username"
        for schema in ("normalized", "analytics"):
            rows = query(pipeline_env, f"SELECT text, {author}, likes, deleted_at FROM {schema}.{resource} "
                                       f"WHERE platform = ? AND {id_column} = ?", [platform, item_id])
            assert rows, f"{schema}.{resource}: the tombstone of {platform} {item_id} is missing"
            for text, name, kept_likes, deleted_at in rows:
                assert (text, name) == (None, None) and deleted_at is not None, (schema, platform, item_id)
                if schema == "normalized" or resource == "comments":
                    assert kept_likes == likes  # the metrics up to the deletion stay
        assert query(pipeline_env, "SELECT count(*) FROM ops.deletions WHERE platform = ? AND resource = ? AND item_id = ?",
                     [platform, resource, item_id]) == [(1,)]
    # Past rollups keep counting the deleted posts.
    assert dict(query(pipeline_env, "SELECT platform, sum(posts) FROM analytics.rollups_daily "
                                    "WHERE period_start = ? GROUP BY 1", [DAY])) == rollup_posts_before
    audit = query(pipeline_env, "SELECT action, target, rows, reason FROM ops.audit_log WHERE action = 'purge_deleted'")
    assert {t for _, t, _, _ in audit} >= {"normalized.posts", "normalized.comments", "analytics.posts", "raw.metric_refreshes"}
    assert all(rows > 0 and reason for _, _, rows, reason in audit)
    # A tombstoned post is not asked for again.
    refreshed = query(pipeline_env, "SELECT count(*) FROM normalized.post_metrics m JOIN ops.deletions d "
                                    "ON d.platform = m.platform AND d.item_id = m.post_id AND m.collected_at > d.deleted_at")
    assert refreshed == [(0,)]
