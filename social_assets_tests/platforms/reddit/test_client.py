"""The Reddit client against the sandbox: in process and over real HTTP. The collector must land
exactly the world's posts of the day and their comments within the configured depth."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from pydantic import ValidationError

from social_assets.collection import walk_source
from social_assets.connections import Connection
from social_assets.core.errors import AuthError, NotFoundError, Outcome
from social_assets.core.http import LandedResponse
from social_assets.core.limits import Limiter, MemoryStore, SharedState
from social_assets.platforms.base import DayWindow
from social_assets.platforms.reddit import PLATFORM
from social_assets.platforms.reddit.spec import API_BASE, LIMITS, RedditSource
from social_assets.platforms.reddit.walk import PAGE_SIZE, RedditWalk
from social_assets.platforms.reddit.normalize import normalize_comments, normalize_posts, normalize_profiles
from social_assets.sandbox.platforms.reddit import to_base36
from social_assets.sandbox.app import LoopbackSandboxTransport, Sandbox, SandboxTransport, make_server
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.clients import TestConnection

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
DAY = DayWindow(datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))
# r/python's busiest recent day: five posts with 30 to 150 comments each, up to 5 levels deep.
BUSY_DAY = DayWindow(datetime(2026, 11, 11, tzinfo=timezone.utc), datetime(2026, 11, 12, tzinfo=timezone.utc))


class FakeTime:
    """One clock for the sandbox's rate-limit windows and the client's pacer; sleeping advances it."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Recording(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner
        self.requests: list[tuple[str, str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, str(request.url), request.read().decode()))
        return self.inner.handle_request(request)

    def to(self, host: str) -> list[tuple[str, str, dict[str, str]]]:
        found = []
        for method, url, body in self.requests:
            parts = urlsplit(url)
            if parts.hostname == host:
                found.append((method, parts.path, dict(parse_qsl(parts.query)) | dict(parse_qsl(body))))
        return found


@pytest.fixture
def sandbox() -> Sandbox:
    sandbox = Sandbox(clock=SandboxClock(NOW))
    sandbox.platforms["reddit"].wall_clock = FakeTime()
    return sandbox


class Run:
    """One source's client over a recording transport, with what it landed; pacing and
    retries keep time by a fake clock."""

    def __init__(self, transport: httpx.BaseTransport, credentials=None, pacer_time: FakeTime | None = None):
        self.transport = Recording(transport)
        self.http = httpx.Client(transport=self.transport)
        self.landed: list[LandedResponse] = []
        self.connection = TestConnection(PLATFORM, self.http, environ=credentials, clock=pacer_time or FakeTime())
        self.client = None
        self.page_size = PAGE_SIZE

    def collect(self, source: RedditSource, window: DayWindow = DAY) -> RedditWalk:
        if self.client is None:
            self.client = self.connection.client(source, self.landed.append)
        self.client.forget_requests()
        walk = RedditWalk(self.client, source, page_size=self.page_size)
        walk_source(PLATFORM, walk, source, window)
        return walk

    def token_requests(self) -> int:
        return [p for _, p, _ in self.transport.to("www.reddit.com")].count("/api/v1/access_token")

    def bodies(self, resource: str) -> list:
        return [json.loads(r.body) for r in self.landed if r.resource == resource and r.normalize]

    def comments(self) -> dict[str, object]:
        """The newest observation of every landed comment, depths rebuilt from the parent chain
        as the pipeline does (subtree views number depth from their first comment)."""
        latest = {}
        for body in self.bodies("comments"):
            for record in normalize_comments(body).records:
                latest[record.comment_id] = record
        depth: dict[str, int] = {}

        def resolve(comment_id: str) -> int:
            if comment_id not in depth:
                record = latest[comment_id]
                parent = record.parent_id
                depth[comment_id] = 0 if parent is None else resolve(parent) + 1 if parent in latest else record.depth
            return depth[comment_id]

        return {cid: (record.parent_id, resolve(cid), record.text) for cid, record in latest.items()}


def post_ids(walk: RedditWalk) -> list[str]:
    return [link.id for link in walk.kept]


def world_posts(sandbox: Sandbox, handle: str, window: DayWindow):
    account = sandbox.world.account("reddit", handle)
    return sandbox.world.posts(account, since=window.start, until=window.end - timedelta(microseconds=1))


def world_comments(sandbox: Sandbox, posts, max_depth: int) -> dict[str, tuple]:
    expected = {}
    for post in posts:
        comments = sandbox.world.comments(post)
        for comment in comments:
            if comment.depth <= max_depth:
                parent = None if comment.parent_index is None else to_base36(comments[comment.parent_index].uid)
                expected[to_base36(comment.uid)] = (parent, comment.depth, comment.text)
    return expected


def shrink_limits(sandbox: Sandbox) -> None:
    """Small trees would never need stubs; tight limits make every kind of stub appear."""
    reddit = sandbox.platforms["reddit"]
    reddit.max_comment_limit = 10
    reddit.max_tree_depth = 3
    reddit.morechildren_max_comments = 7


# -- sources ----------------------------------------------------------------------------------


def test_source_needs_exactly_one_account():
    assert RedditSource(subreddit="python").account_id == "r/python"
    assert RedditSource(user="sandbox_bob", sort="top").account_id == "u/sandbox_bob"
    with pytest.raises(ValidationError, match="exactly one of 'subreddit' or 'user'"):
        RedditSource()
    with pytest.raises(ValidationError, match="exactly one of 'subreddit' or 'user'"):
        RedditSource(subreddit="python", user="spez")
    with pytest.raises(ValidationError, match="not 'r/python'"):
        RedditSource(subreddit="r/python")
    with pytest.raises(ValidationError, match="only for subreddits"):
        RedditSource(user="spez", sort="rising")
    with pytest.raises(ValidationError):
        RedditSource(subreddit="python", sort="best")
    with pytest.raises(ValidationError):
        RedditSource(subreddit="python", channel="x")


# -- collecting in process --------------------------------------------------------------------


def test_collects_the_days_posts_profile_and_comments(sandbox):
    run = Run(SandboxTransport(sandbox))
    result = run.collect(RedditSource(subreddit="duckdb", comment_depth=6))

    expected = world_posts(sandbox, "duckdb", DAY)
    assert expected and sorted(post_ids(result)) == sorted(to_base36(p.uid) for p in expected)
    landed_posts = {r.post_id for body in run.bodies("posts") for r in normalize_posts(body).records if r.published_at in DAY}
    assert landed_posts == set(post_ids(result))

    [profile_body] = run.bodies("profiles")
    [profile] = normalize_profiles(profile_body).records
    assert (profile.account_id, profile.followers) == ("r/duckdb", sandbox.world.account("reddit", "duckdb").followers(NOW))

    assert run.comments() == world_comments(sandbox, expected, 6)

    calls = run.transport.to("oauth.reddit.com")
    assert [(m, p) for m, p, _ in calls[:2]] == [("GET", "/r/duckdb/about"), ("GET", "/r/duckdb/new")]
    assert all(q["raw_json"] == "1" for _, _, q in calls)
    assert calls[1][2]["limit"] == "100"
    # The token exchange happened and was never landed; landed requests carry no secret.
    assert [p for _, p, _ in run.transport.to("www.reddit.com")] == ["/api/v1/access_token"]
    assert all("access_token" not in r.endpoint and "access_token" not in r.body for r in run.landed)
    assert all(r.status == 200 for r in run.landed)


def test_collects_a_users_submissions(sandbox):
    run = Run(SandboxTransport(sandbox))
    result = run.collect(RedditSource(user="sandbox_alice"))
    assert sorted(post_ids(result)) == sorted(to_base36(p.uid) for p in world_posts(sandbox, "sandbox_alice", DAY))
    calls = run.transport.to("oauth.reddit.com")
    assert calls[0][1] == "/user/sandbox_alice/about"
    assert (calls[1][1], calls[1][2]["sort"]) == ("/user/sandbox_alice/submitted", "new")


@pytest.mark.parametrize("comment_depth", [0, 2, 5])
def test_expands_every_stub_down_to_the_configured_depth(sandbox, comment_depth):
    shrink_limits(sandbox)
    run = Run(SandboxTransport(sandbox))
    result = run.collect(RedditSource(subreddit="python", comment_depth=comment_depth), BUSY_DAY)

    posts = world_posts(sandbox, "python", BUSY_DAY)
    expected = world_comments(sandbox, posts, comment_depth)
    assert len(expected) > 100
    assert run.comments() == expected
    assert result.stats.morechildren_calls > 0
    if comment_depth >= 3:
        assert result.stats.continued_threads > 0  # the sandbox cuts trees at 3 levels here

    calls = run.transport.to("oauth.reddit.com")
    assert len(calls) == len({(m, p, tuple(sorted(q.items()))) for m, p, q in calls}), "a request was repeated"

    def depth_of(id36: str) -> int:
        return sandbox.world.comment_by_uid("reddit", int(id36, 36)).depth

    for method, path, query in calls:
        if path.startswith("/comments/"):
            # Whole trees ask for depth+1 levels; a subtree view counts from a comment that is
            # at least one level down, so it never needs more.
            assert int(query["depth"]) <= comment_depth + 1
            if "/_/" in path:  # "continue this thread": only for a comment whose replies we want
                assert depth_of(path.rsplit("/", 1)[1]) < comment_depth
        if path == "/api/morechildren":
            assert method == "POST" and query["depth"] == str(comment_depth + 1)
            asked = query["children"].split(",")
            assert len(asked) <= 100 and query["link_id"].startswith("t3_")
            assert max(depth_of(id36) for id36 in asked) <= comment_depth


def test_post_limit_caps_what_is_read(sandbox):
    run = Run(SandboxTransport(sandbox))
    old_day = DayWindow(DAY.start - timedelta(days=40), DAY.end - timedelta(days=40))
    result = run.collect(RedditSource(subreddit="python", post_limit=7, collect_comments=False), old_day)
    assert result.stats.posts_read == 7 and result.kept == []
    listing_calls = [q for _, p, q in run.transport.to("oauth.reddit.com") if p == "/r/python/new"]
    assert [q["limit"] for q in listing_calls] == ["7"]


def test_follows_after_and_stops_once_past_the_day(sandbox):
    run = Run(SandboxTransport(sandbox))
    run.page_size = 2
    window = DayWindow(DAY.start - timedelta(days=3), DAY.end - timedelta(days=3))
    result = run.collect(RedditSource(subreddit="python", collect_comments=False), window)

    assert sorted(post_ids(result)) == sorted(to_base36(p.uid) for p in world_posts(sandbox, "python", window))
    listing_calls = [q for _, p, q in run.transport.to("oauth.reddit.com") if p == "/r/python/new"]
    bodies = run.bodies("posts")
    assert len(listing_calls) == len(bodies) == result.stats.listing_pages > 3
    for query, previous in zip(listing_calls[1:], bodies):
        assert query["after"] == previous["data"]["after"]
    # Only the last page reaches back before the day: no page is read past it.
    oldest = [min(c["data"]["created_utc"] for c in body["data"]["children"]) for body in bodies]
    assert all(t >= window.start.timestamp() for t in oldest[:-1]) and oldest[-1] < window.start.timestamp()


def test_top_asks_for_the_shortest_period_covering_the_day(sandbox):
    run = Run(SandboxTransport(sandbox))
    result = run.collect(RedditSource(subreddit="python", sort="top", collect_comments=False))
    [listing] = [q for _, p, q in run.transport.to("oauth.reddit.com") if p == "/r/python/top"]
    assert listing["t"] == "week"  # the day started 27 hours before the sandbox's now
    assert sorted(post_ids(result)) == sorted(to_base36(p.uid) for p in world_posts(sandbox, "python", DAY))


def test_an_expired_token_is_refreshed_once(sandbox):
    run = Run(SandboxTransport(sandbox))
    run.collect(RedditSource(subreddit="duckdb", collect_comments=False))
    assert run.token_requests() == 1
    sandbox.platforms["reddit"].wall_clock.now += 7200  # the sandbox expires the token; our cache does not know
    landed_before = len(run.landed)
    result = run.collect(RedditSource(subreddit="duckdb", collect_comments=False))
    assert run.token_requests() == 2 and post_ids(result)
    assert all(r.status == 200 for r in run.landed[landed_before:])


def test_bad_credentials_fail_with_auth_error_naming_the_variables(sandbox):
    secret = "s3cr3t-value-never-shown"
    run = Run(SandboxTransport(sandbox), credentials={"REDDIT_CLIENT_ID": "someone", "REDDIT_CLIENT_SECRET": secret})
    with pytest.raises(AuthError) as error:
        run.collect(RedditSource(subreddit="duckdb"))
    message = str(error.value)
    assert "reddit" in message and "REDDIT_CLIENT_ID" in message and "REDDIT_CLIENT_SECRET" in message
    assert "r/duckdb" in message  # the source whose credentials to fix
    assert secret not in message and "someone" not in message
    assert run.landed == []
    live = Connection(PLATFORM, "live", httpx.Client(), {"REDDIT_CLIENT_ID": "x"})
    with pytest.raises(AuthError, match="reddit source r/duckdb: REDDIT_CLIENT_SECRET not set"):
        live.client(RedditSource(subreddit="duckdb"))


def test_an_unknown_subreddit_fails_the_source(sandbox):
    run = Run(SandboxTransport(sandbox))
    with pytest.raises(NotFoundError) as error:
        run.collect(RedditSource(subreddit="nosuchsubreddit"))
    assert error.value.status == 404


def test_the_pacer_keeps_the_collector_under_the_limit(sandbox):
    shrink_limits(sandbox)
    clock = sandbox.platforms["reddit"].wall_clock
    sandbox.platforms["reddit"].requests_per_window = 20
    run = Run(SandboxTransport(sandbox), pacer_time=clock)
    result = run.collect(RedditSource(subreddit="python", comment_depth=2), BUSY_DAY)
    assert result.stats.morechildren_calls > 20  # more calls than one window allows
    assert run.client.session.stats.throttled == 0
    assert run.client.session.limiter.waited >= 600  # waited for at least one window to reset


# -- the pacer --------------------------------------------------------------------------------


class RateLimitPacer(Limiter):
    """Reddit's limits on a test clock, driven call by call as prawcore's tests drive its
    rate limiter: `before_call`, then `after_response` with the response's headers."""

    def __init__(self, clock, sleep):
        super().__init__(LIMITS, SharedState(MemoryStore(), "reddit-pacer"), clock=clock, sleep=sleep)
        self._permit = None

    def before_call(self) -> None:
        self._permit = self.acquire("GET", API_BASE + "/")

    def after_response(self, headers) -> None:
        response = httpx.Response(200, headers=headers)
        if self._permit is None:  # a call made without before_call still used one
            self.count_unreserved("GET", API_BASE + "/", response)
        else:
            self.settle(self._permit, response, Outcome.OK)
            self._permit = None

    @property
    def slept(self) -> float:
        return self.waited

    def window(self) -> dict[str, float]:
        [limit] = LIMITS.limits
        return self.snapshot()["limits"].get(limit.name) or {"limit": limit.limit, "used": 0.0}


def test_pacer_lets_a_burst_through_then_holds_to_the_even_pace():
    clock = FakeTime(0.0)
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    pacer.after_response({"x-ratelimit-used": "50", "x-ratelimit-remaining": "950.0", "x-ratelimit-reset": "590"})
    pacer.before_call()
    assert pacer.slept == 0  # within the burst allowance
    pacer.after_response({"x-ratelimit-used": "150", "x-ratelimit-remaining": "850.0", "x-ratelimit-reset": "580"})
    pacer.before_call()
    # 50 calls past the burst at 0.6 s each = 30 s of pace, 20 s elapsed: 10 s ahead.
    assert pacer.slept == pytest.approx(10.0)


def test_pacer_sleeps_to_the_reset_when_nothing_remains_and_counts_headerless_calls():
    clock = FakeTime(0.0)
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)
    pacer.after_response({"x-ratelimit-used": "999", "x-ratelimit-remaining": "1.0", "x-ratelimit-reset": "42"})
    pacer.after_response({})  # a response without headers still used a call
    assert pacer.window()["used"] == pacer.window()["limit"] == 1000
    pacer.before_call()
    assert clock.now == pytest.approx(42.0)


# -- over real HTTP ---------------------------------------------------------------------------


def test_collecting_over_http_lands_what_collecting_in_process_lands(sandbox):
    source = RedditSource(subreddit="duckdb", comment_depth=6)
    in_process = Run(SandboxTransport(sandbox))
    in_process.collect(source)

    server = make_server(sandbox, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        over_http = Run(LoopbackSandboxTransport(f"http://{host}:{port}"))
        result = over_http.collect(source)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    assert post_ids(result) and result.stats.comment_pages > 0
    assert [(r.method, r.endpoint, r.params, r.body) for r in over_http.landed] == [
        (r.method, r.endpoint, r.params, r.body) for r in in_process.landed
    ]
    assert over_http.comments() == world_comments(sandbox, world_posts(sandbox, "duckdb", DAY), 6)
