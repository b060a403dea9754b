"""Bluesky's normalizers on the recorded responses, and on threads with deleted and blocked nodes
built from a recorded post view."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest

from social_assets.core.records import ApiErrorBody, NotAResponse
from social_assets.platforms.bluesky.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets_tests.conftest import REALDATA

FOLDER = REALDATA / "bluesky"


def body(name: str):
    return json.loads((FOLDER / f"{name}.json").read_text())["body"]


def test_author_feed_2025_keeps_the_authors_posts_and_leaves_reposts_out():
    feed = body("bskyr__getAuthorFeed_2025_cursor")
    reposts = [item for item in feed["feed"] if "reason" in item]
    assert len(feed["feed"]) == 25 and len(reposts) == 2
    result = normalize_posts(feed)
    assert result.rejected == []
    assert len(result.records) == 23
    assert {r.author_username for r in result.records} == {"chriskenny.bsky.social"}
    assert not {r["post"]["uri"] for r in reposts} & {r.post_id for r in result.records}
    first = result.records[0]
    assert first.post_id == "at://did:plc:wpe35pganb6d4pg4ekmfy6u5/app.bsky.feed.post/3lof7sovfok2h"
    assert first.permalink == "https://bsky.app/profile/chriskenny.bsky.social/post/3lof7sovfok2h"
    assert first.published_at == datetime(2025, 5, 5, 1, 30, 17, 912000, tzinfo=timezone.utc)
    assert (first.likes, first.comments, first.shares, first.views) == (0, 1, 0, None)
    kinds = {r.content_type for r in result.records}
    assert {"text", "image", "link"} <= kinds
    link = next(r for r in result.records if r.content_type == "link")
    assert link.media_urls and link.media_urls[0].startswith("http")
    # recordWithMedia: a quote with images is an image post carrying the image URLs.
    with_media = [item["post"] for item in feed["feed"]
                  if item["post"].get("embed", {}).get("$type") == "app.bsky.embed.recordWithMedia#view" and "reason" not in item]
    record = next(r for r in result.records if r.post_id == with_media[0]["uri"])
    assert record.content_type == "image" and record.media_urls[0].startswith("https://cdn.bsky.app/img/feed_fullsize/")


def test_author_feed_2023_without_quote_counts():
    result = normalize_posts(body("atproto-dart__getAuthorFeed_2023_reposts"))
    assert len(result.records) == 23 and result.rejected == []  # 25 items, 2 reposts
    assert {r.author_username for r in result.records} == {"shinyakato.dev"}
    assert all(r.likes is not None and r.comments is not None for r in result.records)


def test_an_absent_count_is_null_never_zero():
    posts = copy.deepcopy(body("bskyr__getPosts"))
    for name in ("likeCount", "repostCount", "replyCount"):
        del posts["posts"][0][name]
    record = normalize_posts(posts).records[0]
    assert (record.likes, record.comments, record.shares, record.views) == (None, None, None, None)
    profile = copy.deepcopy(body("atproto-dart__getProfile_counts"))
    del profile["followersCount"]
    assert normalize_profiles(profile).records[0].followers is None


def test_get_posts_and_quotes_are_posts():
    got = normalize_posts(body("bskyr__getPosts")).records
    assert [r.post_id for r in got] == ["at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/app.bsky.feed.post/3k7qmjev5lr2s"]
    assert got[0].content_type == "image" and got[0].likes == 4
    assert len(normalize_posts(body("bskyr__getQuotes")).records) == 2


def test_profiles_one_and_many():
    one = normalize_profiles(body("atproto-dart__getProfile_counts")).records[0]
    assert (one.account_id, one.username, one.followers, one.following, one.posts_count) == (
        "did:plc:iijrtk7ocored6zuziwmqq3c", "shinyakato.dev", 4945, 31769, 3358)
    many = normalize_profiles(body("bskyr__getProfiles_counts")).records
    assert [(p.username, p.followers, p.following, p.posts_count) for p in many] == [("chriskenny.bsky.social", 554, 296, 65)]


def test_bodies_of_other_endpoints_and_errors_are_refused():
    with pytest.raises(ApiErrorBody, match="bluesky API error InvalidRequest: Invalid app.bsky.feed.post record"):
        normalize_posts(body("bskyr__err_400_invalid_request_record"))
    with pytest.raises(NotAResponse, match="profile"):
        normalize_profiles(body("bskyr__createSession"))  # a session is not a profile
    with pytest.raises(NotAResponse):
        normalize_profiles(body("bskyr__getFollowers_subject_cursor"))
    with pytest.raises(NotAResponse, match="thread"):
        normalize_comments(body("bskyr__getPosts"))


def test_a_recorded_thread_without_replies_has_no_comments():
    for name in ("bskyr__getPostThread_2025", "atproto__getPostThread_recordWithMedia"):
        result = normalize_comments(body(name))
        assert result.records == [] and result.rejected == []


# -- threads with deleted and blocked nodes ---------------------------------------------------

ROOT = body("bskyr__getPostThread_2025")["thread"]["post"]
ROOT_URI = ROOT["uri"]
OTHER = "did:plc:otherreplier00000000000"
DEFS = "app.bsky.feed.defs"


def uri(rkey: str) -> str:
    return f"at://{OTHER}/app.bsky.feed.post/{rkey}"


def reply(rkey: str, parent: str, minute: int, likes: int | None = 1) -> dict:
    """A reply's post view, made from the recorded root post's view."""
    view = copy.deepcopy(ROOT)
    view.pop("embed")
    view["uri"] = uri(rkey)
    view["author"] = {**view["author"], "did": OTHER, "handle": "replier.bsky.social"}
    view["record"] = {"$type": "app.bsky.feed.post", "createdAt": f"2023-09-19T12:{minute:02d}:00.000Z", "text": f"reply {rkey}",
                      "reply": {"root": {"uri": ROOT_URI, "cid": ROOT["cid"]}, "parent": {"uri": parent, "cid": "bafyreiparent"}}}
    if likes is None:
        del view["likeCount"]
    else:
        view["likeCount"] = likes
    return view


def node(view: dict, replies: list | None = None, parent: dict | None = None) -> dict:
    out = {"$type": f"{DEFS}#threadViewPost", "post": view}
    if parent is not None:
        out["parent"] = parent
    if replies is not None:
        out["replies"] = replies
    return out


def blocked(rkey: str) -> dict:
    return {"$type": f"{DEFS}#blockedPost", "uri": uri(rkey), "blocked": True, "author": {"did": OTHER, "viewer": {"blockedBy": False}}}


def missing(rkey: str) -> dict:
    return {"$type": f"{DEFS}#notFoundPost", "uri": uri(rkey), "notFound": True}


def test_a_thread_with_blocked_and_missing_nodes():
    # root ── a ── (blocked x)
    #      │    └─ b ── (deleted y)
    #      ├─ (deleted z)
    #      ├─ (blocked w)
    #      └─ c (no likeCount)
    a, b, c = reply("a", ROOT_URI, 1), reply("b", uri("a"), 2, likes=7), reply("c", ROOT_URI, 3, likes=None)
    thread = node(ROOT, [node(a, [blocked("x"), node(b, [missing("y")])]), missing("z"), blocked("w"), node(c, [])])
    result = normalize_comments({"thread": thread})
    assert result.rejected == []
    got = {(r.comment_id, r.post_id, r.parent_id, r.depth, r.likes, r.author_username) for r in result.records}
    assert got == {
        (uri("a"), ROOT_URI, None, 0, 1, "replier.bsky.social"),
        (uri("b"), ROOT_URI, uri("a"), 1, 7, "replier.bsky.social"),
        (uri("c"), ROOT_URI, None, 0, None, "replier.bsky.social"),
    }
    b_record = next(r for r in result.records if r.comment_id == uri("b"))
    assert b_record.text == "reply b" and b_record.published_at == datetime(2023, 9, 19, 12, 2, tzinfo=timezone.utc)


def test_a_thread_read_from_a_reply_rebuilds_depth_from_the_parent_chain():
    a, b, d = reply("a", ROOT_URI, 1), reply("b", uri("a"), 2), reply("d", uri("b"), 4)
    # A reply's thread: b with its reply d, and the parent chain b -> a -> root post.
    thread = node(b, [node(d, []), missing("e")], parent=node(a, parent=node(ROOT)))
    got = {(r.comment_id, r.parent_id, r.depth) for r in normalize_comments({"thread": thread}).records}
    assert got == {(uri("a"), None, 0), (uri("b"), uri("a"), 1), (uri("d"), uri("b"), 2)}
    # The root post blocked for this viewer: its URI still ends the chain, so depths are known.
    root_blocked = {"$type": f"{DEFS}#blockedPost", "uri": ROOT_URI, "blocked": True, "author": {"did": "did:plc:x"}}
    thread = node(b, [node(d, [])], parent=node(a, parent=root_blocked))
    assert {(r.comment_id, r.depth) for r in normalize_comments({"thread": thread}).records} == {
        (uri("a"), 0), (uri("b"), 1), (uri("d"), 2)}


def test_a_parent_chain_cut_by_a_blocked_reply_leaves_depths_unknown():
    a, b, d = reply("a", ROOT_URI, 1), reply("b", uri("a"), 2), reply("d", uri("b"), 4)
    thread = node(b, [node(d, [])], parent=node(a, parent=blocked("q")))  # q is not the root post
    result = normalize_comments({"thread": thread})
    assert result.records == []
    assert sorted(r.item_id for r in result.rejected) == [uri("a"), uri("b"), uri("d")]
    assert all("depth unknown" in r.reason for r in result.rejected)


def test_a_deleted_or_blocked_thread_root_has_no_comments():
    assert normalize_comments({"thread": missing("gone")}).records == []
    assert normalize_comments({"thread": blocked("hidden")}).records == []


def test_a_reply_with_a_broken_record_is_rejected_alone():
    a, b = reply("a", ROOT_URI, 1), reply("b", ROOT_URI, 2)
    del b["record"]["createdAt"]
    result = normalize_comments({"thread": node(ROOT, [node(a, []), node(b, [])])})
    assert [r.comment_id for r in result.records] == [uri("a")]
    assert [r.item_id for r in result.rejected] == [uri("b")] and "createdAt" in result.rejected[0].reason
