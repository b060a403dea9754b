"""The Bluesky walk and refresh against the sandbox, checked against the world they render."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from social_assets.collection import walk_source
from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import DayWindow
from social_assets.platforms.bluesky.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.platforms.bluesky.spec import BlueskySource
from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.clients import sandbox_client

PLATFORM = PLATFORMS["bluesky"]
NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
DAY = DayWindow(datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(clock=SandboxClock(NOW), faults="none", log="", credentials={})


def collect(sandbox: Sandbox, source: BlueskySource) -> list:
    landed: list = []
    client = sandbox_client(PLATFORM, httpx.Client(transport=SandboxTransport(sandbox)), source, landed.append)
    walk_source(PLATFORM, PLATFORM.walk(client, source), source, DAY)
    return landed


def test_a_day_has_the_authors_posts_of_the_day_and_their_reply_trees(sandbox: Sandbox):
    landed = collect(sandbox, BlueskySource(actor="atproto.com", comment_depth=3))
    emulation, world = sandbox.platforms["bluesky"], sandbox.world
    account = world.account("bluesky", "atproto.com")
    expected = {emulation.post_uri(p) for p in world.posts_on(account, DAY.start.date())}
    assert expected

    feeds = [r for r in landed if r.endpoint.endswith("getAuthorFeed")]
    assert all(r.params["filter"] == "posts_no_replies" and r.endpoint.startswith("https://public.api.bsky.app/") for r in feeds)
    posts = [p for r in feeds for p in normalize_posts(json.loads(r.body)).records if p.published_at in DAY]
    assert {p.post_id for p in posts} == expected  # every post of the day, no repost among them
    assert {p.author_username for p in posts} == {"atproto.com"}

    threads = [r for r in landed if r.endpoint.endswith("getPostThread")]
    with_replies = {p.post_id for p in posts if p.comments}  # a post without replies needs no thread call
    assert with_replies and {r.params["uri"] for r in threads} == with_replies
    assert {r.params["depth"] for r in threads} == {"4"}
    comments = [c for r in threads for c in normalize_comments(json.loads(r.body)).records]
    by_uri = {emulation.comment_uri(c): c for p in world.posts_on(account, DAY.start.date()) for c in world.comments(p)}
    assert comments and all(by_uri[c.comment_id].depth == c.depth <= 3 for c in comments)
    hidden = [c for c in by_uri.values() if emulation._hidden(c) is not None]
    assert hidden and not {emulation.comment_uri(c) for c in hidden} & {c.comment_id for c in comments}

    profiles = [r for r in landed if r.endpoint.endswith("getProfile")]
    assert [p.username for r in profiles for p in normalize_profiles(json.loads(r.body)).records] == ["atproto.com"]


def test_a_source_by_did_reads_the_same_account(sandbox: Sandbox):
    from social_assets.sandbox.platforms.bluesky import did_for

    by_did = collect(sandbox, BlueskySource(actor=did_for("bsky.app"), collect_comments=False))
    posts = {p.post_id for r in by_did if r.endpoint.endswith("getAuthorFeed") for p in normalize_posts(json.loads(r.body)).records}
    account = sandbox.world.account("bluesky", "bsky.app")
    assert {sandbox.platforms["bluesky"].post_uri(p) for p in sandbox.world.posts_on(account, DAY.start.date())} <= posts


def test_refresh_reads_25_uris_a_call(sandbox: Sandbox):
    emulation, world = sandbox.platforms["bluesky"], sandbox.world
    account = world.account("bluesky", "bsky.app")
    uris = [emulation.post_uri(p) for p in world.posts(account, since=NOW - timedelta(days=60))][:60]
    assert len(uris) == 60
    landed: list = []
    client = sandbox_client(PLATFORM, httpx.Client(transport=SandboxTransport(sandbox)), None, landed.append)
    PLATFORM.refresh(client, uris + uris[:5])  # repeats cost nothing
    assert [len(r.params["uris"].split(",")) for r in landed] == [25, 25, 10]
    refreshed = [p for r in landed for p in normalize_posts(json.loads(r.body)).records]
    assert [p.post_id for p in refreshed] == uris and all(p.likes is not None for p in refreshed)


def test_source_entries_are_checked():
    assert BlueskySource(actor="Bsky.App").account_id == "bsky.app"
    for bad in ("@bsky.app", "not a handle", "did:plc:", "localhost"):
        with pytest.raises(ValueError, match="actor"):
            BlueskySource(actor=bad)
