"""The TikTok client against the sandbox, as the pipeline builds it: POST bodies landed, paging
by a cursor in the JSON body, the refresh by 20 ids, the account check, the sliding window, the
Research quota pausing comments, and every sandbox fault kind in TikTok's shapes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from social_assets.core.errors import AuthError, QuotaExhaustedError
from social_assets.core.limits import LimitPolicy, SlidingWindow
from social_assets.core.limits.limiter import STATE_TTL
from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import DayWindow
from social_assets.platforms.tiktok.spec import RESEARCH
from social_assets.platforms.tiktok.walk import ResearchQuotaSpent, TikTokWalk, refresh
from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.platforms.tiktok import video_id
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.clients import TestConnection
from social_assets_tests.sandbox.conftest import force, log_lines

TIKTOK = PLATFORMS["tiktok"]
NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
API = "https://open.tiktokapis.com"


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIAL_LIMIT_STORE", str(tmp_path / "limits.sqlite"))
    for name in ("SOCIAL_SANDBOX_FAULTS", "SOCIAL_SANDBOX_LOG", "SOCIAL_API_MODE", "SOCIAL_API_MODE_TIKTOK"):
        monkeypatch.delenv(name, raising=False)
    log = tmp_path / "requests.jsonl"
    sandbox = Sandbox(clock=SandboxClock(NOW), faults="none", log=str(log), credentials={})
    clock = Clock()
    sandbox.platforms["tiktok"].wall_clock = clock
    return sandbox, clock, log


def client_of(sandbox, clock, landed=None, account="dagster_tok"):
    source = TIKTOK.source_type(account=account)
    connection = TestConnection(TIKTOK, httpx.Client(transport=SandboxTransport(sandbox)), clock=clock)
    return connection.client(source, (landed if landed is not None else []).append), source


def day(d: datetime) -> DayWindow:
    return DayWindow(d, d + timedelta(days=1))


def test_a_day_lands_every_post_body_and_pages_by_the_cursor_it_was_given(setup):
    sandbox, clock, _ = setup
    landed = []
    client, source = client_of(sandbox, clock, landed)
    walk = TikTokWalk(client, source)
    walk.profile()
    posts = walk.posts(day(datetime(2026, 11, 12, tzinfo=timezone.utc)))  # a week back: several pages
    lists = [r for r in landed if r.endpoint == f"{API}/v2/video/list/"]
    assert len(lists) >= 2 and all(r.method == "POST" and r.params["fields"].startswith("id,create_time") for r in lists)
    # CURSOR_IS_OPAQUE: the first body has no cursor; each next one the cursor of the answer before.
    assert lists[0].request_body == {"max_count": 20}
    for before, after in zip(lists, lists[1:]):
        assert after.request_body == {"max_count": 20, "cursor": json.loads(before.body)["data"]["cursor"]}
    assert json.loads(lists[-1].body)["data"]["has_more"] is True  # stopped once past the day, not at the end
    world = sandbox.world.posts_on(sandbox.world.account("tiktok", "dagster_tok"), datetime(2026, 11, 12).date())
    assert len(posts) == len(world) > 0
    assert all(r.context == {"username": "dagster_tok", "open_id": walk.context["open_id"]} for r in lists)


def test_comments_and_replies_come_from_the_research_api_with_int64_ids(setup):
    sandbox, clock, _ = setup
    landed = []
    client, source = client_of(sandbox, clock, landed)
    walk = TikTokWalk(client, source)
    walk.profile()
    (post, *_) = [p for p in walk.posts(day(datetime(2026, 11, 18, tzinfo=timezone.utc))) if p.comments]
    walk.comments(post)
    bodies = [r.request_body for r in landed if r.resource == "comments"]
    assert bodies[0] == {"video_id": int(post.post_id), "max_count": 100, "cursor": 0}
    assert all(set(b) == {"comment_id", "max_count", "cursor"} for b in bodies[1:]) and len(bodies) > 1
    # The Research API has a token of its own, separate from the Display API's.
    research = client.companion(RESEARCH)
    assert research.session.limiter.state.scope != client.session.limiter.state.scope
    assert client.session.stats.calls == len(landed)  # one count for both APIs


def test_the_refresh_asks_video_query_twenty_ids_a_call(setup):
    sandbox, clock, _ = setup
    landed = []
    client, source = client_of(sandbox, clock, landed)
    walk = TikTokWalk(client, source)
    walk.profile()
    ids = [p.post_id for p in walk.posts(day(datetime(2026, 11, 10, tzinfo=timezone.utc)))]
    ids += [p.post_id for p in walk.posts(day(datetime(2026, 11, 14, tzinfo=timezone.utc)))]
    ids = (ids * 5)[:45] if len(set(ids)) >= 21 else ids
    landed.clear()
    refresh(client, ids)
    queries = [r.request_body["filters"]["video_ids"] for r in landed]
    unique = list(dict.fromkeys(ids))
    assert [len(q) for q in queries] == [len(unique[i : i + 20]) for i in range(0, len(unique), 20)]
    found = {v["id"] for r in landed for v in json.loads(r.body)["data"]["videos"]}
    assert found == set(unique)


def test_the_refresh_reports_a_video_the_query_leaves_out_gone(setup):
    sandbox, clock, _ = setup
    landed = []
    client, source = client_of(sandbox, clock, landed)
    walk = TikTokWalk(client, source)
    walk.profile()
    ids = [p.post_id for p in walk.posts(day(datetime(2026, 11, 10, tzinfo=timezone.utc)))]
    assert len(ids) >= 2
    account = sandbox.world.account("tiktok", "dagster_tok")
    sandbox.world.delete(next(p for p in sandbox.world.posts(account, since=NOW - timedelta(days=30)) if str(video_id(p)) == ids[1]))
    landed.clear()
    gone = refresh(client, ids)
    assert [(g.resource, g.item_id, g.reason) for g in gone] == [("posts", ids[1], "missing from video/query (deleted)")]
    assert [v["id"] for r in landed for v in json.loads(r.body)["data"]["videos"]] == ids[:1] + ids[2:]


def test_credentials_of_another_account_are_a_configuration_error_naming_the_source(setup):
    sandbox, clock, _ = setup
    client, source = client_of(sandbox, clock, account="tiktok_brand")
    with pytest.raises(AuthError) as refused:
        TikTokWalk(client, source).profile()
    assert "tiktok source @tiktok_brand" in str(refused.value) and "authorize @dagster_tok" in str(refused.value)
    assert "TIKTOK_REFRESH_TOKEN" in str(refused.value)


def test_the_sliding_window_keeps_the_client_inside_the_sandbox_s_limit(setup):
    sandbox, clock, log = setup
    sandbox.platforms["tiktok"].meter.windows[0].limit = 5
    client, _ = client_of(sandbox, clock)
    client.session.limiter.policy = LimitPolicy("tiktok", (SlidingWindow("requests per minute", 5, 60, per_endpoint=True),))
    started = clock.now
    for n in range(8):
        client.session.get(f"{API}/v2/user/info/", params={"fields": "username", "n": str(n)})
    served = [e for e in log_lines(log) if e["path"] == "/v2/user/info/"]
    assert [e["status"] for e in served] == [200] * 8 and not any(e["refused_for_overuse"] for e in served)
    assert clock.now - started >= 60  # the sixth call waited for the first to leave the minute
    # Without the client's window the sandbox refuses the sixth call of a minute.
    raw = httpx.Client(transport=SandboxTransport(sandbox))
    token = client.session.authenticate(False)["Authorization"]
    answers = [raw.post(f"{API}/v2/video/list/", params={"fields": "id"}, json={"max_count": 1},
                        headers={"Authorization": token}) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].json()["error"]["code"] == "rate_limit_exceeded"


def test_a_spent_research_quota_pauses_tiktok_comments_for_every_process_until_midnight_utc(setup):
    sandbox, clock, log = setup
    clock.now = datetime(2026, 11, 20, 15, tzinfo=timezone.utc).timestamp()
    sandbox.platforms["tiktok"].daily_quota = 3  # TikTok's own count, ahead of ours (another lab member)
    client, source = client_of(sandbox, clock)
    walk = TikTokWalk(client, source)
    walk.profile()
    posts = [p for p in walk.posts(day(datetime(2026, 11, 18, tzinfo=timezone.utc))) if p.comments]
    with pytest.raises(ResearchQuotaSpent) as paused:
        for post in posts:
            walk.comments(post)
    message = str(paused.value)
    assert "TikTok comments are paused until 2026-11-21T00:00:00+00:00" in message
    refused = [e for e in log_lines(log) if e["status"] == 429]
    assert len(refused) == 1 and refused[0]["refused_for_overuse"]  # not retried
    # Another process sharing the store: its comments fail at once, without a request; its
    # Display API calls go on (a separate quota).
    sent = len(log_lines(log))
    other, _ = client_of(sandbox, clock)
    with pytest.raises(QuotaExhaustedError):
        TikTokWalk(other, source).comments(posts[0])
    assert len(log_lines(log)) == sent  # (the Research token, too, is shared through the store)
    TikTokWalk(other, source).profile()
    # After midnight UTC the quota is back.
    clock.now = datetime(2026, 11, 21, 0, 0, 1, tzinfo=timezone.utc).timestamp()
    sandbox.platforms["tiktok"].daily_quota = 1000
    TikTokWalk(other, source).comments(posts[0])


def test_our_own_count_of_1000_research_requests_pauses_before_tiktok_refuses(setup):
    sandbox, clock, log = setup
    client, source = client_of(sandbox, clock)
    research = client.companion(RESEARCH).session.limiter
    today = datetime.fromtimestamp(clock.now, timezone.utc).date().isoformat()
    research.state.store.transact(research.key, lambda doc: (
        {"limits": {"research requests": {"day": today, "used": 1000}}, "breakers": {}}, None), STATE_TTL)
    with pytest.raises(ResearchQuotaSpent, match="research requests' of 1,000 spent"):
        TikTokWalk(client, source).comments(_a_post(sandbox))
    assert [e for e in log_lines(log) if e["path"].startswith("/v2/research/")] == []


def _a_post(sandbox):
    from social_assets.platforms.base import PostRef
    from social_assets.sandbox.platforms.tiktok import video_id

    post = sandbox.world.posts_on(sandbox.world.account("tiktok", "dagster_tok"), datetime(2026, 11, 18).date())[0]
    return PostRef(str(video_id(post)), 3)


# -- faults -----------------------------------------------------------------------------------


def test_every_fault_kind_in_tiktok_s_shapes(setup):
    sandbox, clock, log = setup
    client, _ = client_of(sandbox, clock)
    headers = client.session.authenticate(False)
    http = httpx.Client(transport=SandboxTransport(sandbox))
    list_url = f"{API}/v2/video/list/?fields=id,create_time"
    first = http.post(list_url, json={"max_count": 5}, headers=headers).json()["data"]
    second = {"max_count": 5, "cursor": first["cursor"]}
    tiktok = sandbox.platforms["tiktok"]
    kinds = tiktok.fault_kinds(_request(list_url, second))
    assert kinds == {"429_burst", "5xx", "timeout", "dropped_connection", "truncated_body", "expired_token",
                     "duplicate_items", "field_missing", "field_renamed"}

    force(sandbox, "429_burst")
    throttled = http.post(list_url, json=second, headers=headers)
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "rate_limit_exceeded"
    force(sandbox, "5xx")
    failed = http.post(list_url, json=second, headers=headers)
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "internal_error"
    force(sandbox, "duplicate_items")
    again = http.post(list_url, json=second, headers=headers).json()["data"]["videos"]
    clean = http.post(list_url, json=second, headers=headers).json()["data"]["videos"]
    assert again[0]["id"] == first["videos"][-1]["id"] and again[1:] == clean[:4]
    force(sandbox, "field_renamed")
    renamed = http.post(list_url, json=second, headers=headers).json()["data"]["videos"]
    assert sum("createTime" in v and "create_time" not in v for v in renamed) == 1
    force(sandbox, "timeout")
    with pytest.raises(httpx.ReadTimeout):
        http.post(list_url, json=second, headers=headers)
    force(sandbox, "expired_token")
    expired = http.post(list_url, json=second, headers=headers)
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "access_token_invalid"
    assert http.post(list_url, json=second, headers=headers).status_code == 401  # revoked for good
    logged = [e["injected_fault"] for e in log_lines(log) if e["path"] == "/v2/video/list/"]
    assert logged == [None, "429_burst", "5xx", "duplicate_items", None, "field_renamed", "timeout", "expired_token", None]


def _request(url: str, body: dict):
    from urllib.parse import parse_qsl

    from social_assets.sandbox.http import SandboxRequest

    parsed = httpx.URL(url)
    return SandboxRequest("POST", parsed.host, parsed.path, parse_qsl(parsed.query.decode()), {},
                          json.dumps(body).encode())


def test_health_reports_a_spent_research_quota_of_a_live_tiktok(tmp_path, monkeypatch):
    from social_assets.connections import connect
    from social_assets.health import _live_limit

    monkeypatch.setenv("SOCIAL_LIMIT_STORE", str(tmp_path / "limits.sqlite"))
    monkeypatch.setenv("SOCIAL_API_MODE_TIKTOK", "live")
    for name in TIKTOK.credentials:
        monkeypatch.setenv(name, f"planted-{name.lower()}")
    assert _live_limit("tiktok").remaining == 600  # nothing spent: the Display window, whole
    connection = connect(TIKTOK)  # live: no request is sent to read or write the shared state
    try:
        research = connection.client(None).companion(RESEARCH).session.limiter
        today = datetime.now(timezone.utc).date().isoformat()
        research.state.store.transact(research.key, lambda doc: (
            {"limits": {"research requests": {"day": today, "used": 1000}}, "breakers": {}}, None), STATE_TTL)
    finally:
        connection.close()
    limit = _live_limit("tiktok")
    assert limit.exhausted and "research requests" in limit.detail and "00:00 UTC" in limit.detail
