"""`ApiSession` with the platforms' limiters against a sandbox served over real HTTP: what is
retried (429 until the reported reset, YouTube's rateLimitExceeded, a body cut short), what is
not (a spent quota pauses the platform's remaining sources), and the circuit breaker taking a
failing endpoint out of a run that goes on and reports itself partial."""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from social_assets.collection import collect_partition
from social_assets.core.errors import CircuitOpenError, TransientApiError
from social_assets.platforms.base import DayWindow
from social_assets.sandbox.http import SandboxResponse
from social_assets.platforms.reddit import PLATFORM as REDDIT
from social_assets.platforms.reddit.spec import API_BASE, RedditSource
from social_assets.platforms.youtube import PLATFORM as YOUTUBE
from social_assets.platforms.youtube.spec import YouTubeSource
from social_assets.platforms.youtube.walk import QuotaExceededError
from social_assets.sandbox.platforms.youtube import channel_id_for, google_error
from social_assets.sandbox.app import LoopbackSandboxTransport
from social_assets_tests.clients import TestConnection, sandbox_client, walk
from social_assets_tests.core.conftest import USER_AGENT, FakeClock, served_sandbox

DAY = DayWindow(datetime(2026, 11, 11, tzinfo=timezone.utc), datetime(2026, 11, 12, tzinfo=timezone.utc))


def answer_instead(emulation, when, response) -> list:
    """Make the emulation answer `response(request)` while `when(request)`; returns the requests
    so answered."""
    answered = []
    real = emulation.handle

    def handle(request, *args, **kwargs):
        if when(request):
            answered.append(request.path)
            return response(request)
        return real(request, *args, **kwargs)

    emulation.handle = handle
    return answered


@contextmanager
def connection_to(served, platform, clock: FakeClock):
    """A run's connection to the served sandbox whose clients keep time by `clock` and retry
    without sleeping for real."""
    http = httpx.Client(transport=LoopbackSandboxTransport(served.url))
    try:
        yield TestConnection(platform, http, clock=clock)
    finally:
        http.close()


# -- the breaker ------------------------------------------------------------------------------


def test_a_failing_endpoint_opens_its_breaker_and_the_run_moves_on(clock):
    with served_sandbox() as served:
        reddit = served.sandbox.platforms["reddit"]
        failing = {"on": True}
        unavailable = answer_instead(
            reddit, lambda r: failing["on"] and r.path.startswith("/comments/"),
            lambda r: SandboxResponse(503, {"message": "Service Unavailable", "error": 503}),
        )
        sources = [RedditSource(subreddit="socialmedia"), RedditSource(subreddit="marketing"),
                   RedditSource(user="sandbox_bob", collect_comments=False)]
        with connection_to(served, REDDIT, clock) as connection:
            # One source at a time: what the breaker does to the sources after the first.
            run = collect_partition(connection, sources, DAY, workers=1)

            first, second, third = run.outcomes
            # The first source meets the failures: five attempts, then it fails for good ...
            assert first.status == "failed" and isinstance(first.error, TransientApiError)
            assert first.error.status == 503 and first.calls == 2 + 5 and len(unavailable) == 5
            # ... and the breaker is open: the next source's comment call fails without a request,
            assert second.status == "failed" and isinstance(second.error, CircuitOpenError)
            assert "GET /comments/{post} is failing (HTTP 503); circuit open" in str(second.error)
            assert second.calls == 2 and len(unavailable) == 5
            # while calls to other endpoints go on, and the run reports itself partial.
            assert third.status == "success" and third.responses == 2
            assert run.status == "partial" and {o.account_id for o in run.failed} == {"r/socialmedia", "r/marketing"}

            # Later the endpoint is back: the next call probes it, and the breaker closes.
            failing["on"] = False
            clock.now += 30
            again = collect_partition(connection, [RedditSource(subreddit="marketing")], DAY)
            assert again.status == "success" and again.outcomes[0].items > 1
            shared = connection.client(None).session.limiter.state
            breakers = shared.store.read(shared.key("limits"))["breakers"]
            assert breakers["GET /comments/{post}"] == {"state": "closed", "failures": 0}


# -- retries that know what is transient ------------------------------------------------------


def test_a_429_is_retried_after_the_reset_it_reports(clock):
    with served_sandbox() as served:
        reddit = served.sandbox.platforms["reddit"]
        reddit.requests_per_window, reddit.wall_clock = 3, clock
        http = httpx.Client(transport=LoopbackSandboxTransport(served.url))
        # Another app with the same client id spent the window; our limiter cannot know.
        other = sandbox_client(REDDIT, http)
        other.session.limiter = None
        for n in range(3):
            other.session.get(f"{API_BASE}/r/duckdb/about", params={"n": n}, headers={"User-Agent": USER_AGENT})

        ours = sandbox_client(REDDIT, http, clock=clock)
        reset = 600 - clock.now % 600  # the sandbox's window ends on its 600-second grid
        response = ours.session.get(f"{API_BASE}/r/duckdb/about", headers={"User-Agent": USER_AGENT})

    assert response.status_code == 200
    assert [status for *_, path, status in served.requests if path == "/r/duckdb/about"] == [200] * 3 + [429, 200]
    assert ours.session.stats.throttled == ours.session.stats.retries == 1
    assert clock.sleeps and clock.sleeps[0] >= reset  # the retry waited out the reported reset
    assert sum(clock.sleeps) < reset + 31  # ... and not much more


def test_youtube_rate_limit_exceeded_is_retried_but_charged(clock):
    with served_sandbox() as served:
        youtube = served.sandbox.platforms["youtube"]
        throttled = answer_instead(
            youtube, lambda r: not throttled,
            lambda r: google_error(403, "rateLimitExceeded", "The request cannot be completed: too many requests.",
                                   "usageLimits"),
        )
        landed = []
        http = httpx.Client(transport=LoopbackSandboxTransport(served.url))
        source = YouTubeSource(channel=channel_id_for("@socialpulse"), collect_comments=False)
        client = sandbox_client(YOUTUBE, http, source, landed.append, clock=clock)
        walker = walk(YOUTUBE, client, source, DAY)
    stats = client.session.stats
    assert len(throttled) == 1 and stats.throttled == stats.retries == 1
    data_api = [l for l in landed if "/youtube/v3/" in l.endpoint]
    assert walker.units_spent == len(data_api) + 1  # the refused call cost a unit too
    assert stats.calls == walker.units_spent + 1  # and the Analytics report, which costs no Data API unit
    assert all(l.status == 200 for l in landed)


def test_a_body_cut_short_is_retried_and_only_the_whole_one_is_landed(clock):
    with served_sandbox() as served:
        reddit = served.sandbox.platforms["reddit"]
        truncated = answer_instead(
            reddit, lambda r: r.path.endswith("/about") and not truncated,
            lambda r: SandboxResponse(200, b'{"kind": "t5", "data": {"display_name": "duck'),
        )
        landed = []
        source = RedditSource(subreddit="duckdb", collect_comments=False)
        client = sandbox_client(REDDIT, httpx.Client(transport=LoopbackSandboxTransport(served.url)), source,
                                landed.append, clock=clock)
        walk(REDDIT, client, source, DAY)
    assert len(truncated) == 1 and client.session.stats.retries == 1
    profiles = [l for l in landed if l.resource == "profiles"]
    assert len(profiles) == 1 and json.loads(profiles[0].body)["data"]["display_name"] == "duckdb"


# -- a spent quota pauses the platform --------------------------------------------------------


def test_a_spent_youtube_quota_fails_the_remaining_sources_at_once(clock):
    with served_sandbox() as served:
        youtube = served.sandbox.platforms["youtube"]
        youtube.daily_quota = 3  # @datatalksclub's day needs 4 calls
        sources = [YouTubeSource(channel=channel_id_for("@datatalksclub")),
                   YouTubeSource(channel=channel_id_for("@socialpulse"))]
        with connection_to(served, YOUTUBE, clock) as connection:
            # One source at a time: what a spent quota does to the sources after the first.
            run = collect_partition(connection, sources, DAY, workers=1)
        used = youtube.units_used()

    first, second = run.outcomes
    assert isinstance(first.error, QuotaExceededError) and first.error.status == 403
    # The fourth Data API call was refused, and not retried (a fifth call: the Analytics report,
    # which costs no Data API unit).
    assert (first.calls, first.units, first.retries) == (5, 3, 0)
    # The second source never sent a request: the limiter knew the key's day was spent.
    assert isinstance(second.error, QuotaExceededError) and second.error.status is None and second.calls == 0
    assert used == 3 and run.status == "failed"
    resets_at = second.error.resets_at
    assert resets_at == first.error.resets_at and (resets_at.hour, resets_at.minute) == (0, 0)
    assert resets_at.utcoffset() in (timedelta(hours=-8), timedelta(hours=-7))
    assert "America/Los_Angeles" in str(second.error) and "10,000 units" in str(second.error)


def test_a_call_the_limiter_refuses_is_never_sent(clock):
    with served_sandbox() as served:
        http = httpx.Client(transport=LoopbackSandboxTransport(served.url))
        source = YouTubeSource(channel=channel_id_for("@datatalksclub"))
        client = sandbox_client(YOUTUBE, http, source)
        [units] = client.session.limiter.policy.limits
        client.session.limiter.policy = replace(client.session.limiter.policy, limits=(replace(units, limit=2),))
        with pytest.raises(QuotaExceededError):
            walk(YOUTUBE, client, source, DAY)
        assert served.sandbox.platforms["youtube"].units_used() == 2 == client.session.stats.units
