"""The Bluesky sandbox: paths, shapes, paging, limits headers, sessions and thread nodes."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest

from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.platforms.bluesky import (
    SANDBOX_APP_PASSWORD,
    SANDBOX_HANDLE,
    BlueskyEmulation,
    did_for,
)
from social_assets.sandbox.world import SandboxClock

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
APPVIEW = "https://public.api.bsky.app/xrpc/"
ENTRYWAY = "https://bsky.social/xrpc/"


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(clock=SandboxClock(NOW), faults="none", log="", credentials={})


@pytest.fixture
def http(sandbox: Sandbox) -> httpx.Client:
    return httpx.Client(transport=SandboxTransport(sandbox))


def bluesky(sandbox: Sandbox) -> BlueskyEmulation:
    return sandbox.platforms["bluesky"]  # type: ignore[return-value]


def test_profile_by_handle_and_by_did(http: httpx.Client):
    by_handle = http.get(APPVIEW + "app.bsky.actor.getProfile", params={"actor": "bsky.app"})
    assert by_handle.status_code == 200
    profile = by_handle.json()
    assert profile["did"] == did_for("bsky.app") and profile["handle"] == "bsky.app"
    assert isinstance(profile["followersCount"], int) and profile["followersCount"] > 0
    by_did = http.get(APPVIEW + "app.bsky.actor.getProfile", params={"actor": profile["did"]}).json()
    assert by_did == profile
    missing = http.get(APPVIEW + "app.bsky.actor.getProfile", params={"actor": "nobody.example.com"})
    assert missing.status_code == 400 and missing.json() == {"error": "InvalidRequest", "message": "Profile not found"}


def test_rate_limit_headers_count_down_with_an_epoch_reset(http: httpx.Client):
    first = http.get(APPVIEW + "app.bsky.actor.getProfile", params={"actor": "bsky.app"})
    second = http.get(APPVIEW + "app.bsky.actor.getProfile", params={"actor": "bsky.app"})
    assert first.headers["ratelimit-limit"] == "3000" and first.headers["ratelimit-policy"] == "3000;w=300"
    assert int(first.headers["ratelimit-remaining"]) - 1 == int(second.headers["ratelimit-remaining"])
    reset = int(first.headers["ratelimit-reset"])
    assert reset % 300 == 0 and 0 < reset - datetime.now(timezone.utc).timestamp() <= 300


def test_author_feed_pages_by_cursor_with_reposts_of_other_authors(http: httpx.Client):
    params = {"actor": "bsky.app", "limit": "40"}
    seen, reposts, pages, cursor = [], 0, 0, None
    while pages < 6:
        page = http.get(APPVIEW + "app.bsky.feed.getAuthorFeed", params={**params, **({"cursor": cursor} if cursor else {})}).json()
        pages += 1
        assert len(page["feed"]) == 40 and set(page) == {"feed", "cursor"}
        for item in page["feed"]:
            seen.append(item["post"]["uri"] + item.get("reason", {}).get("indexedAt", ""))
            if "reason" in item:
                reposts += 1
                assert item["reason"]["$type"] == "app.bsky.feed.defs#reasonRepost"
                assert item["reason"]["by"]["handle"] == "bsky.app" and item["post"]["author"]["handle"] != "bsky.app"
            else:
                assert item["post"]["author"]["handle"] == "bsky.app"
        cursor = page["cursor"]
    assert len(seen) == len(set(seen)) == 240  # no item twice across pages
    assert reposts > 0


def test_the_last_page_has_no_cursor(sandbox: Sandbox, http: httpx.Client):
    account = sandbox.world.account("bluesky", "bsky.app")
    oldest = sandbox.world.posts(account)[-1]
    cursor = oldest.published_at.strftime("%Y-%m-%dT%H:%M:%S.") + "500Z"  # just after the first post
    page = http.get(APPVIEW + "app.bsky.feed.getAuthorFeed", params={"actor": "bsky.app", "cursor": cursor}).json()
    assert "cursor" not in page and [i["post"]["record"]["createdAt"] for i in page["feed"] if "reason" not in i] == [
        oldest.published_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")]
    bad = http.get(APPVIEW + "app.bsky.feed.getAuthorFeed", params={"actor": "bsky.app", "limit": "101"})
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidRequest"


def test_threads_nest_replies_to_the_asked_depth_with_hidden_nodes(sandbox: Sandbox, http: httpx.Client):
    emulation = bluesky(sandbox)
    kinds: set[str] = set()
    deepest = 0
    for account in sandbox.world.accounts("bluesky")[:10]:
        for post in sandbox.world.posts(account, since=datetime(2026, 11, 15, tzinfo=timezone.utc))[:5]:
            thread = http.get(APPVIEW + "app.bsky.feed.getPostThread", params={"uri": emulation.post_uri(post), "depth": "3"}).json()["thread"]
            stack = [(thread, 0)]
            while stack:
                node, depth = stack.pop()
                kinds.add(node["$type"])
                deepest = max(deepest, depth)
                if "post" in node and depth >= 1:
                    assert node["post"]["record"]["reply"]["root"]["uri"] == emulation.post_uri(post)
                stack.extend((r, depth + 1) for r in node.get("replies", []))
    assert deepest == 3
    assert kinds == {"app.bsky.feed.defs#threadViewPost", "app.bsky.feed.defs#notFoundPost", "app.bsky.feed.defs#blockedPost"}
    gone = http.get(APPVIEW + "app.bsky.feed.getPostThread", params={"uri": "at://did:plc:nobody/app.bsky.feed.post/2222222222222"})
    assert gone.status_code == 400 and gone.json()["error"] == "NotFound"


def test_a_reply_thread_has_its_parent_chain(sandbox: Sandbox, http: httpx.Client):
    emulation = bluesky(sandbox)
    account = sandbox.world.account("bluesky", "bsky.app")
    post = max(sandbox.world.posts(account, since=datetime(2026, 11, 15, tzinfo=timezone.utc)),
               key=lambda p: max((c.depth for c in sandbox.world.comments(p)), default=0))
    comments = sandbox.world.comments(post)

    def visible_chain(comment) -> bool:
        while comment is not None:
            if emulation._hidden(comment) is not None:
                return False
            comment = comments[comment.parent_index] if comment.parent_index is not None else None
        return True

    deep = max((c for c in comments if visible_chain(c)), key=lambda c: c.depth)
    assert deep.depth >= 2
    thread = http.get(APPVIEW + "app.bsky.feed.getPostThread", params={"uri": emulation.comment_uri(deep), "depth": "0"}).json()["thread"]
    assert "replies" not in thread  # depth 0: the reply alone
    chain, node = 0, thread
    while "parent" in node:
        node, chain = node["parent"], chain + 1
    assert node["post"]["uri"] == emulation.post_uri(post) and chain == deep.depth + 1


def test_get_posts_takes_at_most_25_uris(sandbox: Sandbox, http: httpx.Client):
    emulation = bluesky(sandbox)
    posts = sandbox.world.posts(sandbox.world.account("bluesky", "atproto.com"))[:26]
    uris = [emulation.post_uri(p) for p in posts]
    ok = http.get(APPVIEW + "app.bsky.feed.getPosts", params={"uris": uris[:25]})
    assert [p["uri"] for p in ok.json()["posts"]] == uris[:25]
    too_many = http.get(APPVIEW + "app.bsky.feed.getPosts", params={"uris": uris})
    assert too_many.status_code == 400 and too_many.json()["error"] == "InvalidRequest"


def test_sessions_log_in_refresh_with_rotation_and_limit_logins(sandbox: Sandbox, http: httpx.Client):
    login = {"identifier": SANDBOX_HANDLE, "password": SANDBOX_APP_PASSWORD}
    session = http.post(ENTRYWAY + "com.atproto.server.createSession", json=login)
    assert session.status_code == 200 and session.headers["ratelimit-policy"] == "10;w=86400"
    tokens = session.json()
    assert tokens["did"] == did_for(SANDBOX_HANDLE) and tokens["handle"] == SANDBOX_HANDLE
    authed = {"Authorization": f"Bearer {tokens['accessJwt']}"}
    assert http.get(ENTRYWAY + "app.bsky.actor.getProfile", params={"actor": "bsky.app"}, headers=authed).status_code == 200
    assert http.get(ENTRYWAY + "app.bsky.actor.getProfile", params={"actor": "bsky.app"}).json()["error"] == "AuthMissing"
    refreshed = http.post(ENTRYWAY + "com.atproto.server.refreshSession", headers={"Authorization": f"Bearer {tokens['refreshJwt']}"})
    assert refreshed.status_code == 200 and refreshed.json()["accessJwt"] != tokens["accessJwt"]
    reused = http.post(ENTRYWAY + "com.atproto.server.refreshSession", headers={"Authorization": f"Bearer {tokens['refreshJwt']}"})
    assert reused.status_code == 400 and reused.json()["error"] == "ExpiredToken"  # rotated away
    wrong = http.post(ENTRYWAY + "com.atproto.server.createSession", json={**login, "password": "wrong-password"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "AuthenticationRequired"
    for _ in range(8):
        http.post(ENTRYWAY + "com.atproto.server.createSession", json=login)
    refused = http.post(ENTRYWAY + "com.atproto.server.createSession", json=login)
    assert refused.status_code == 429 and refused.headers["ratelimit-remaining"] == "0"
    assert json.loads(refused.content)["error"] == "RateLimitExceeded"
