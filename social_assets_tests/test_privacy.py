"""Personal data (issue #13, item 8) and the generic parts of deletions (item 7): removing an
item from any platform's body, pseudonyms, retention and the audit log."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import duckdb
import pandas as pd
import pytest
from dagster import materialize

from social_assets.defs.normalized import NORMALIZED_ASSETS
from social_assets.defs.partitions import platform_day_key
from social_assets.defs.raw import collect
from social_assets.defs.resources import build_resources
from social_assets.privacy.options import PrivacyConfigError, PrivacyOptions, load_privacy
from social_assets.privacy.pseudonyms import pseudonym, pseudonymize, readable_names
from social_assets.privacy.retention import apply_retention
from social_assets.privacy.scrub import GoneContent, scrub
from social_assets.sources import load_sources
from social_assets.warehouse.tables import ensure_schema
from social_assets_tests.conftest import realdata_body, realdata_files
from social_assets_tests.pipeline import memory_instance

DAY = date(2026, 11, 19)


def _file(platform: str, fragment: str):
    return next(p for p in realdata_files(platform) if fragment in p.name)


# -- scrub: one item out of any platform's body -----------------------------------------------


def test_a_reddit_post_leaves_a_listing_and_a_deleted_comment_keeps_its_replies_out_of_the_body():
    listing = realdata_body(_file("reddit", "r_askreddit_top_all_2016"))
    victim = listing["data"]["children"][3]["data"]
    cleaned, removed = scrub(json.loads(json.dumps(listing)), GoneContent.of([victim["id"]], [victim["title"]]))
    text = json.dumps(cleaned)
    assert removed == 1 and victim["title"] not in text and len(cleaned["data"]["children"]) == 24
    # A comment tree: the comment's element goes, its siblings stay.
    page = realdata_body(_file("reddit", "comments_3hahrw_full_tree"))
    top = [c for c in page[1]["data"]["children"] if c["kind"] == "t1"]
    before = {thing["data"].get("body") for thing in _things(page)}
    cleaned, removed = scrub(json.loads(json.dumps(page)), GoneContent.of([top[0]["data"]["id"]]))
    bodies = {thing["data"].get("body") for thing in _things(cleaned)}
    assert removed == 1 and top[0]["data"]["body"] not in bodies and top[1]["data"]["body"] in bodies
    # Its replies went with it (they were inside its element); the rest of the tree stayed.
    assert len(before) > len(bodies) > 0.7 * len(before)


def test_references_stay_media_and_whole_bodies_go():
    body = {
        "data": [
            {"id": "1", "text": "a reply", "referenced_tweets": [{"type": "replied_to", "id": "9"}]},
            {"id": "9", "text": "the gone post", "attachments": {"media_keys": ["3_1"]}},
        ],
        "includes": {"media": [{"media_key": "3_1", "type": "photo", "url": "https://pbs.twimg.com/media/gone.jpg"}]},
    }
    cleaned, removed = scrub(body, GoneContent.of(["9"], ["the gone post"], ["https://pbs.twimg.com/media/gone.jpg"]))
    assert removed == 2
    assert cleaned["data"] == [{"id": "1", "text": "a reply", "referenced_tweets": [{"type": "replied_to", "id": "9"}]}]
    assert cleaned["includes"]["media"] == []
    # A single-object body that is the item (Mastodon's GET /statuses/:id) becomes null.
    status = {"id": "9", "created_at": "2026-11-19T01:00:00Z", "content": "<p>the gone post</p>", "account": {}}
    assert scrub(status, GoneContent.of(["9"])) == (None, 1)
    # A placeholder (Bluesky's notFoundPost) names the item but holds nothing of it: it stays.
    placeholder = {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://x/app.bsky.feed.post/9", "notFound": True}
    assert scrub({"replies": [placeholder]}, GoneContent.of(["at://x/app.bsky.feed.post/9"])) == ({"replies": [placeholder]}, 0)
    # A YouTube playlist item names its video only in small objects: its content gives it away.
    item = {"kind": "youtube#playlistItem", "id": "UExxx", "snippet": {"title": "Gone video title", "resourceId": {"kind": "youtube#video", "videoId": "vid1"}},
            "contentDetails": {"videoId": "vid1"}}
    assert scrub({"items": [item]}, GoneContent.of(["vid1"], ["Gone video title\n\ndescription"]))[0] == {"items": []}


# -- pseudonyms ---------------------------------------------------------------------------------


def test_pseudonyms_are_keyed_stable_and_spare_tracked_accounts():
    assert pseudonym("k1", "reddit", "Alice") == pseudonym("k1", "reddit", "alice") != pseudonym("k2", "reddit", "alice")
    assert pseudonym("k1", "reddit", "alice") != pseudonym("k1", "youtube", "alice")
    readable = readable_names("reddit", ["u/brand_official", "r/duckdb"], ["Brand_Official"])
    comments = pd.DataFrame({"author_username": ["alice", "brand_official", None]})
    out = pseudonymize(comments, "comments", "reddit", "k1", readable)
    assert list(out.author_username[:2]) == [pseudonym("k1", "reddit", "alice"), "brand_official"]
    assert pd.isna(out.author_username[2])
    posts = pd.DataFrame({"author_username": ["bob", "x"], "author_id": ["t2_bob", "UCchannel"]})
    out = pseudonymize(posts, "posts", "youtube", "k1", readable_names("youtube", ["UCchannel"], []))
    assert list(out.author_username) == [pseudonym("k1", "youtube", "bob"), "x"]
    assert list(out.author_id) == [pseudonym("k1", "youtube", "t2_bob"), "UCchannel"]


def test_the_privacy_section_is_checked_and_does_not_disturb_the_sources(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("reddit:\n  sources:\n    - subreddit: duckdb\nprivacy:\n  pseudonymize_usernames: true\n  raw_retention_days: 30\n")
    assert load_privacy(path) == PrivacyOptions(pseudonymize_usernames=True, raw_retention_days=30)
    assert [s.account_id for s in load_sources(path)["reddit"]] == ["r/duckdb"]
    path.write_text("privacy:\n  raw_retention_days: -1\n  keep_forever: true\n")
    with pytest.raises(PrivacyConfigError) as error:
        load_privacy(path)
    assert "privacy.raw_retention_days" in str(error.value) and "privacy.keep_forever: unknown option" in str(error.value)


def test_commenters_and_community_authors_are_pseudonymized_in_the_pipeline(pipeline_env, sources_file, monkeypatch):
    sources_file.write_text(sources_file.read_text() + "privacy:\n  pseudonymize_usernames: true\n")
    key = "a-long-random-key-for-the-test"
    with memory_instance() as instance:
        # Without the key, the normalized step refuses and says which variable to set.
        monkeypatch.delenv("SOCIAL_PSEUDONYM_KEY", raising=False)
        refused = materialize([collect, *NORMALIZED_ASSETS], instance=instance, resources=build_resources(),
                              partition_key=str(platform_day_key("reddit", DAY)), raise_on_error=False)
        assert not refused.success
        failures = [e.step_failure_data.error.message for e in refused.all_events if e.is_step_failure]
        assert any("SOCIAL_PSEUDONYM_KEY is not set" in message for message in failures)
        monkeypatch.setenv("SOCIAL_PSEUDONYM_KEY", key)
        done = materialize([collect, *NORMALIZED_ASSETS], instance=instance, resources=build_resources(),
                           partition_key=str(platform_day_key("reddit", DAY)))
        assert done.success
        assert key not in json.dumps([str(e) for e in done.all_events])
    con = duckdb.connect(str(pipeline_env), read_only=True)
    try:
        commenters = [a for (a,) in con.execute("SELECT DISTINCT author_username FROM normalized.comments").fetchall()]
        authors = con.execute("SELECT account_id, author_username, author_id FROM normalized.posts").fetchall()
        raw_names = {c["data"]["author"] for (b,) in con.execute("SELECT body FROM raw.comments").fetchall()
                     for c in _things(json.loads(b)) if c.get("kind") == "t1"}
    finally:
        con.close()
    assert commenters and all(a is None or a.startswith("anon_") or a == "sandbox_bob" for a in commenters)
    assert {pseudonym(key, "reddit", name) for name in raw_names if name != "sandbox_bob"} >= {a for a in commenters if a and a.startswith("anon_")}
    # r/duckdb's authors are community members; u/sandbox_bob is a tracked account.
    assert all(name.startswith("anon_") for account, name, _ in authors if account == "r/duckdb" and name)
    assert all(name == "sandbox_bob" for account, name, _ in authors if account == "u/sandbox_bob")


def _things(body):
    """Every thing of a Reddit comment response (trees, flat lists), depth first."""
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "kind" in node and isinstance(node.get("data"), dict):
                yield node
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))


# -- retention and the audit log ----------------------------------------------------------------


def test_retention_deletes_old_raw_bodies_and_comments_and_says_so(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    now = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)
    for day in (date(2026, 10, 1), date(2026, 11, 29)):
        con.execute("INSERT INTO raw.posts VALUES ('reddit', ?, 'r/a', 0, 'GET', 'e', '{}', '{}', 200, ?, true, '{}', NULL)",
                    [day, datetime(day.year, day.month, day.day)])
        con.execute("INSERT INTO normalized.comments (platform, partition_date, account_id, comment_id, post_id, text, "
                    "published_at, depth, collected_at) VALUES ('reddit', ?, 'r/a', ?, 'p', 'hi', ?, 0, ?)",
                    [day, f"c{day.day}", datetime(day.year, day.month, day.day), datetime(day.year, day.month, day.day)])
    con.execute("INSERT INTO raw.metric_refreshes VALUES ('reddit', '2026-10-01 05:00', 'r/a', 0, 'GET', 'e', '{}', '{}', "
                "200, '2026-10-01 05:00', true, '{}', NULL)")

    assert apply_retention(con, PrivacyOptions(), now) == {}
    deleted = apply_retention(con, PrivacyOptions(raw_retention_days=30, comment_retention_days=7), now)

    assert deleted == {"raw.posts": 1, "raw.metric_refreshes": 1, "normalized.comments": 1}
    assert con.execute("SELECT partition_date FROM raw.posts").fetchall() == [(date(2026, 11, 29),)]
    assert con.execute("SELECT comment_id FROM normalized.comments").fetchall() == [("c29",)]
    audit = con.execute("SELECT action, target, rows, reason, acted_at FROM ops.audit_log ORDER BY target").fetchall()
    assert [(a, t, n) for a, t, n, _, _ in audit] == [
        ("retention_comments", "normalized.comments", 1),
        ("retention_raw", "raw.metric_refreshes", 1),
        ("retention_raw", "raw.posts", 1),
    ]
    assert all("days" in reason and acted_at is not None for *_, reason, acted_at in audit)
    # Nothing left to delete: no more audit rows.
    assert apply_retention(con, PrivacyOptions(raw_retention_days=30, comment_retention_days=7), now) == {}
    assert con.execute("SELECT count(*) FROM ops.audit_log").fetchone() == (3,)
