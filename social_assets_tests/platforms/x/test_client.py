"""The X walk against the sandbox: a day's posts and reply trees, the 7-day limit of recent
search, user-context OAuth with rotating refresh tokens, the monthly cap and unknown users."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from social_assets.core.errors import NotFoundError, QuotaExhaustedError
from social_assets.core.http import LandedResponse
from social_assets.normalization import normalize_body
from social_assets.platforms.base import DayWindow
from social_assets.platforms.x import PLATFORM
from social_assets.platforms.x.spec import XSource
from social_assets.platforms.x.walk import MonthlyCapReached
from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.platforms.x import CREDENTIALS, tweet_id
from social_assets.sandbox.world import CommentTree, SandboxClock
from social_assets_tests.clients import TestConnection, walk

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
DAY = DayWindow(datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))
SOURCE = XSource(user="XDevelopers")
USER_CONTEXT = {k: v for k, v in CREDENTIALS.items() if k != "X_BEARER_TOKEN"}


def run(source=SOURCE, window=DAY, sandbox=None, environ=None):
    sandbox = sandbox or Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    landed: list[LandedResponse] = []
    http = httpx.Client(transport=SandboxTransport(sandbox))
    client = TestConnection(PLATFORM, http, environ=environ).client(source, landed.append)
    return sandbox, walk(PLATFORM, client, source, window), landed


def records(landed, resource):
    found = []
    for response in landed:
        if response.resource == resource and response.status == 200:
            found += normalize_body("x", resource, json.loads(response.body), response.context).records
    return found


def test_a_day_has_the_world_s_posts_and_their_whole_reply_trees():
    sandbox, collector, landed = run()
    world = sandbox.world
    account = world.account("x", "XDevelopers")
    expected = [p for p in world.posts_on(account, DAY.start.date()) if p.published_at <= NOW]
    posts = records(landed, "posts")
    assert {p.post_id for p in posts} == {tweet_id(p.uid, False) for p in expected} and expected
    timeline = [r for r in landed if r.endpoint.endswith("/tweets") and "/users/" in r.endpoint]
    assert timeline[0].params["start_time"] == "2026-11-19T00:00:00Z" and timeline[0].params["end_time"] == "2026-11-20T00:00:00Z"
    assert all(p.author_username == "XDevelopers" and p.permalink.startswith("https://x.com/XDevelopers/status/")
               for p in posts)

    comments = {(c.post_id, c.comment_id): c for c in records(landed, "comments")}
    for post in expected:
        existing = world.comments(post, NOW)
        tree = CommentTree(existing)
        assert {cid for pid, cid in comments if pid == tweet_id(post.uid, False)} == {tweet_id(c.uid, True) for c in existing}
        for comment in existing:
            record = comments[(tweet_id(post.uid, False), tweet_id(comment.uid, True))]
            parent = existing[comment.parent_index] if comment.parent_index is not None else None
            assert record.parent_id == (tweet_id(parent.uid, True) if parent else None)
            assert record.depth == comment.depth and comment in tree.replies(parent) if parent else record.depth == 0
    [profile] = records(landed, "profiles")
    assert profile.account_id == "@XDevelopers" and profile.followers == account.followers(NOW)


def test_replies_older_than_recent_search_reaches_are_not_asked_for(caplog):
    old = DayWindow(DAY.start - timedelta(days=9), DAY.end - timedelta(days=9))
    with caplog.at_level(logging.INFO, logger="social_assets.platforms.x.walk"):
        _, collector, landed = run(window=old)
    assert records(landed, "posts")
    assert not [r for r in landed if r.resource == "comments"]
    assert "older than the 7 days recent search covers" in caplog.text


def test_user_context_oauth_rotates_its_refresh_token():
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    _, _, landed = run(sandbox=sandbox, environ=USER_CONTEXT)
    assert records(landed, "posts")
    x = sandbox.platforms["x"]
    assert len(x._spent_refresh_tokens) == 0  # the first grant used the configured token
    # The rotated token works once; the configured one stays accepted (as after re-authorizing).
    http = httpx.Client(transport=SandboxTransport(sandbox))
    basic = (CREDENTIALS["X_CLIENT_ID"], CREDENTIALS["X_CLIENT_SECRET"])
    first = http.post("https://api.x.com/2/oauth2/token", auth=basic,
                      data={"grant_type": "refresh_token", "refresh_token": CREDENTIALS["X_REFRESH_TOKEN"]}).json()
    rotated = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    assert http.post("https://api.x.com/2/oauth2/token", auth=basic, data=rotated).status_code == 200
    assert http.post("https://api.x.com/2/oauth2/token", auth=basic, data=rotated).status_code == 400


def test_a_spent_monthly_cap_pauses_x_with_a_clear_message():
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log="")
    sandbox.platforms["x"].daily_quota = 0  # the monthly cap (emulated per credential and endpoint)
    with pytest.raises(MonthlyCapReached) as raised:
        run(sandbox=sandbox)
    today = datetime.now(timezone.utc).date()
    first_of_next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)  # the limiter's real clock
    message = str(raised.value)
    assert "X monthly post-read cap reached" in message
    assert f"paused until {first_of_next_month.isoformat()}T00:00:00+00:00" in message
    assert raised.value.status == 429  # X's own usage-capped answer, not a guess
    # Every later call with the credential fails before a request: the cap is spent in the store.
    with pytest.raises(QuotaExhaustedError):
        run(sandbox=sandbox)


def test_an_unknown_user_fails_its_source_with_x_s_reason():
    with pytest.raises(NotFoundError, match=r"user @nobody_here is not available: Could not find user with username"):
        run(source=XSource(user="nobody_here"))
