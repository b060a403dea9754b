"""LinkedIn's client against the sandbox and its documented shapes: the headers and Rest.li
encoding of every request, the named decisions on ambiguous documentation (little text, which
count wins, the 429 rule), the daily budget, tokens, the refresh, and health's token warning."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from social_assets.core.errors import AuthError, Outcome, QuotaExhaustedError
from social_assets.platforms.base import DayWindow
from social_assets.platforms.linkedin import PLATFORM as LINKEDIN
from social_assets.platforms.linkedin.normalize import (
    engagement_of,
    merged_metrics,
    normalize_comments,
    normalize_posts,
    normalize_profiles,
    plain_text,
    statistics_of,
)
from social_assets.platforms.linkedin.spec import (
    BASE_URL,
    BUDGET_VARIABLE,
    LIMITS,
    PAUSE_AFTER_429S,
    VERSION,
    DailyCallBudget,
    LinkedInSource,
    restli_query,
)
from social_assets.platforms.linkedin.walk import refresh
from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.platforms.linkedin import post_urn
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.clients import TestConnection, walk

DOCUMENTED = Path(__file__).parent / "documented"
NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)
DAY = DayWindow(datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))
SOURCE = LinkedInSource(organization="2414183")


def documented(name: str) -> dict:
    return json.loads((DOCUMENTED / f"{name}.json").read_text())


class Recording(httpx.BaseTransport):
    """The in-process sandbox, keeping every request as sent (raw URL and headers)."""

    def __init__(self, sandbox: Sandbox):
        self.inner, self.requests = SandboxTransport(sandbox), []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def sandbox_day(environ: dict | None = None, source: LinkedInSource = SOURCE):
    transport = Recording(Sandbox(clock=SandboxClock(NOW), faults="none", log=""))
    landed: list = []
    client = TestConnection(LINKEDIN, httpx.Client(transport=transport), environ).client(source, landed.append)
    walk(LINKEDIN, client, source, DAY)
    return transport.requests, landed


# -- requests -------------------------------------------------------------------------------------


def test_every_request_carries_the_pinned_version_and_rest_li_2_encoding():
    requests, landed = sandbox_day()
    api = [r for r in requests if r.url.host == "api.linkedin.com"]
    assert api and all(r.headers["LinkedIn-Version"] == VERSION and r.headers["X-Restli-Protocol-Version"] == "2.0.0"
                       for r in api)
    raw = [r.url.raw_path.decode() for r in api]
    # URNs URL-encoded in paths and queries, lists in List(...) syntax with encoded items.
    assert any(p.startswith("/rest/networkSizes/urn%3Ali%3Aorganization%3A2414183?") for p in raw)
    assert any("/rest/posts?q=author&author=urn%3Ali%3Aorganization%3A2414183&" in p for p in raw)
    assert any(p.startswith("/rest/socialMetadata?ids=List(urn%3Ali%3A") for p in raw)
    assert any(p.startswith("/rest/posts?ids=List(urn%3Ali%3A") for p in raw)
    assert any(p.startswith("/rest/socialActions/urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A") for p in raw)
    assert not [p for p in raw if "urn:li" in p]
    # The token came from the refresh grant, the client proving itself in the form.
    token = [r for r in requests if r.url.host == "www.linkedin.com"]
    assert len(token) == 1 and b"grant_type=refresh_token" in token[0].read() and b"client_secret=" in token[0].read()
    # Every resource was landed; the post pages and the counts only for the record.
    kinds = {(r.resource, r.normalize, r.endpoint.rsplit("/", 1)[-1]) for r in landed}
    assert ("posts", True, "posts") in kinds and ("posts", False, "socialMetadata") in kinds
    assert ("profiles", True, "urn%3Ali%3Aorganization%3A2414183") in kinds
    assert ("profiles", True, "organizationalEntityFollowerStatistics") in kinds


def test_rest_li_query_encoding():
    query = restli_query({"q": "author", "ids": ["urn:li:share:1", "urn:li:comment:(urn:li:activity:2,3)"],
                          "timeIntervals": "(timeRange:(start:1,end:2),timeGranularityType:DAY)"})
    assert query == ("q=author&ids=List(urn%3Ali%3Ashare%3A1,urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A2%2C3%29)"
                     "&timeIntervals=(timeRange:(start:1,end:2),timeGranularityType:DAY)")


def test_the_version_is_pinned_in_one_place_and_an_environment_variable_overrides_it():
    code = "from social_assets.platforms.linkedin import PLATFORM; print(PLATFORM.api.headers['LinkedIn-Version'])"
    pinned = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}).stdout.strip()
    overridden = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path),
                                     "LINKEDIN_VERSION": "202508"}).stdout.strip()
    assert (pinned, overridden) == (VERSION, "202508") and len(VERSION) == 6


def test_the_sandbox_refuses_a_request_without_the_version_header():
    http = httpx.Client(transport=SandboxTransport(Sandbox(clock=SandboxClock(NOW), faults="none", log="")))
    client = TestConnection(LINKEDIN, http).client(SOURCE)
    client.headers.pop("LinkedIn-Version")
    with pytest.raises(Exception) as raised:
        client.get("/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER")
    assert raised.value.status == 400 and "version must be present" in str(raised.value)


# -- decisions on the documentation ---------------------------------------------------------------


def test_little_text_becomes_plain_text():
    little = r"Q3 \(final\) {hashtag|\#|analytics} by @[Acme \[EU\]](urn:li:organization:1) \*now\* a\\b \~ \_x\_"
    assert plain_text(little) == "Q3 (final) #analytics by Acme [EU] *now* a\\b ~ _x_"


def test_reactions_of_every_type_are_the_likes_and_the_statistics_give_impressions_clicks_and_reach():
    counts = merged_metrics(statistics_of(documented("share_statistics_by_post")["body"]),
                            engagement_of(documented("social_metadata_batch")["body"]))
    result = normalize_posts(documented("posts_batch_get")["body"], metrics=json.dumps(counts))
    share, video = result.records
    # likes: LIKE 12 + PRAISE 3 from socialMetadata, not the statistics' likeCount of 15 (organic only).
    assert (share.likes, share.comments, share.shares) == (15, 5, 4)
    assert (share.impressions, share.clicks, share.reach, share.views) == (1200, 21, 900, None)
    assert (video.likes, video.comments, video.impressions, video.content_type) == (0, 0, 400, "video")
    assert share.text == "Our Q3 report is out (with charts) #analytics thanks to Sandbox Partner"
    assert share.media_urls == ["https://example.com/q3-report"] and share.content_type == "link"
    assert share.permalink == "https://www.linkedin.com/feed/update/urn:li:share:7212345678901234567"
    assert [(r.item_id, r.reason) for r in result.rejected] == [
        ("urn:li:share:7200000000000000001", "Not found: urn:li:share:7200000000000000001")]
    # Without the counts the walk records beside it, a post has none (unknown, not 0).
    assert normalize_posts(documented("post_single")["body"]).records[0].likes is None


def test_a_draft_is_left_out_and_comments_belong_to_the_post_the_walk_asked_about():
    finder = normalize_posts(documented("posts_finder_by_author")["body"])
    assert len(finder.records) == 2 and finder.rejected == []
    body = documented("comments_on_comment")["body"]
    [reply] = normalize_comments(body, post="urn:li:share:7212345678901234567").records
    assert reply.post_id == "urn:li:share:7212345678901234567" and reply.depth == 1
    assert reply.parent_id == "urn:li:comment:(urn:li:activity:7212345678901234567,7212399999999999001)"
    assert normalize_comments(body).records[0].post_id == "urn:li:activity:7212345678901234567"  # the `object`


def test_the_follower_count_needs_the_organization_recorded_beside_it():
    body = documented("network_sizes_followers")["body"]
    [profile] = normalize_profiles(body, organization="urn:li:organization:2414183").records
    assert (profile.account_id, profile.followers) == ("urn:li:organization:2414183", 384921)
    assert "organization is unknown" in normalize_profiles(body).rejected[0].reason


def test_follower_gains_count_back_from_the_count_read_as_derived_past_snapshots():
    body = documented("follower_statistics_daily")["body"]  # 2024-11-13: +40 +2 paid, 2024-11-14: -3
    context = {"organization": "urn:li:organization:2414183", "followers": "1000"}
    utc = lambda *day: datetime(*day, tzinfo=timezone.utc)  # noqa: E731
    on_time = normalize_profiles(body, **context, counted_at="2024-11-15T00:00:00+00:00")
    assert [(r.observed_at, r.followers) for r in on_time.records] == [
        (utc(2024, 11, 15), 1000), (utc(2024, 11, 14), 1003), (utc(2024, 11, 13), 961)]
    assert on_time.rejected == [] and all(r.account_id == context["organization"] for r in on_time.records)
    # LinkedIn a day late: the newest reported day ends with the count read.
    late = normalize_profiles(body, **context, counted_at="2024-11-16T00:00:00+00:00")
    assert [r.followers for r in late.records] == [1000, 1003, 961]
    # A day missing in between stops the chain; the older days are rejected, not guessed.
    gap = {**body, "elements": [body["elements"][0]] + [
        {**body["elements"][1], "timeRange": {"start": 1731715200000, "end": 1731801600000}}]}
    broken = normalize_profiles(gap, **context, counted_at="2024-11-17T00:00:00+00:00")
    assert [r.observed_at for r in broken.records] == [utc(2024, 11, 17), utc(2024, 11, 16)]
    assert [r.item_id for r in broken.rejected] == ["2024-11-13"]
    # Without the count beside it (the normalize command) every day says what it needs.
    assert {r.reason for r in normalize_profiles(body).rejected} == {
        "past follower counts need the organization and the follower count read with it (the walk records "
        "`organization`, `followers` and `counted_at` beside the body)"}


def test_throttles_pause_linkedin_until_midnight_utc_only_when_they_persist():
    budget = DailyCallBudget("calls", 100, timezone.utc)
    now = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc).timestamp()
    state = None
    for _ in range(PAUSE_AFTER_429S - 1):  # a burst: retried, not a pause
        state = budget.observe(state, {}, now, Outcome.THROTTLED, 1)
    assert budget.blocked_until(state, now) is None
    state = budget.observe(state, {}, now, Outcome.OK, 1)  # an answer ends the run of 429s
    for _ in range(PAUSE_AFTER_429S - 1):
        state = budget.observe(state, {}, now, Outcome.THROTTLED, 1)
    assert budget.blocked_until(state, now) is None
    state = budget.observe(state, {}, now, Outcome.THROTTLED, 1)
    assert budget.blocked_until(state, now) == datetime(2026, 11, 21, tzinfo=timezone.utc).timestamp()
    # The next UTC day starts afresh.
    assert budget.blocked_until(state, now + 9 * 3600) is None


def test_the_daily_budget_is_configurable_and_fails_fast_once_spent(monkeypatch):
    from dataclasses import replace

    from social_assets.core.limits import Limiter
    from social_assets.platforms.linkedin.spec import daily_budget

    assert daily_budget({BUDGET_VARIABLE: "250"}) == 250
    with pytest.raises(ValueError, match=BUDGET_VARIABLE):
        daily_budget({BUDGET_VARIABLE: "lots"})
    transport = Recording(Sandbox(clock=SandboxClock(NOW), faults="none", log=""))
    client = TestConnection(LINKEDIN, httpx.Client(transport=transport)).client(SOURCE)
    [kind] = LIMITS.limits
    client.session.limiter = Limiter(replace(LIMITS, limits=(replace(kind, limit=2),)), client.session.limiter.state)
    for n in range(2):
        client.get(f"/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER&n={n}")
    sent = len(transport.requests)
    with pytest.raises(QuotaExhaustedError) as raised:
        client.get("/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER&n=2")
    assert len(transport.requests) == sent  # refused without a request
    assert raised.value.resets_at == datetime.combine(date.today() + timedelta(days=1), datetime.min.time(), timezone.utc)


# -- tokens ---------------------------------------------------------------------------------------


def test_an_expired_or_revoked_access_token_is_a_configuration_error_naming_the_source():
    with pytest.raises(AuthError) as raised:
        sandbox_day(environ={"LINKEDIN_ACCESS_TOKEN": "AQV-a-token-linkedin-no-longer-accepts"})
    message = str(raised.value)
    assert "urn:li:organization:2414183" in message and "LINKEDIN_ACCESS_TOKEN" in message
    assert "AQV-a-token" not in message and "65600" in message


def test_a_refresh_token_past_its_365_days_is_a_configuration_error_naming_the_source():
    from social_assets.sandbox.platforms.linkedin import AUTHORIZED_AT

    later = AUTHORIZED_AT + timedelta(days=366)
    http = httpx.Client(transport=SandboxTransport(Sandbox(clock=SandboxClock(later), faults="none", log="")))
    with pytest.raises(AuthError) as raised:
        TestConnection(LINKEDIN, http).client(SOURCE).get(
            "/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER")
    message = str(raised.value)
    assert "urn:li:organization:2414183" in message and "LINKEDIN_REFRESH_TOKEN" in message
    assert "refresh_token grant was refused" in message and "AQX-sandbox" not in message


def test_health_warns_fourteen_days_before_a_token_expires_and_an_expired_one_is_a_problem(tmp_path):
    from social_assets.health import assess

    soon = LinkedInSource(organization="2414183", token_expires_on=date(2026, 12, 1))
    later = LinkedInSource(organization="1035", token_expires_on=date(2027, 3, 1))
    gone = LinkedInSource(organization="3650502", token_expires_on=date(2026, 11, 19))
    for sources, warned, problem in (([soon, later], True, False), ([later], False, False), ([gone], False, True)):
        report = assess(tmp_path / "none.duckdb", {"linkedin": sources}, NOW, timedelta(hours=36))
        [health] = [h for h in report.platforms if h.platform == "linkedin"]
        assert bool(health.warnings) is warned and any("expired" in p for p in health.problems) is problem
    assert soon.token_expiry(date(2026, 11, 17)) == (
        "linkedin source urn:li:organization:2414183: its token expires on 2026-12-01 (in 14 days); "
        "authorize again before then", False)
    assert soon.token_expiry(date(2026, 11, 16)) is None


# -- the hourly refresh ---------------------------------------------------------------------------


def test_the_refresh_lands_the_current_counts_of_known_posts():
    _, landed = sandbox_day()
    urns = [r for r in landed if r.resource == "posts" and r.normalize]
    post_ids = list(json.loads(urns[0].context["metrics"]))
    transport = Recording(Sandbox(clock=SandboxClock(NOW + timedelta(hours=5)), faults="none", log=""))
    refreshed: list = []
    refresh(TestConnection(LINKEDIN, httpx.Client(transport=transport)).client(SOURCE, refreshed.append), post_ids)
    [batch] = [r for r in refreshed if r.normalize]
    records = normalize_posts(json.loads(batch.body), **batch.context).records
    assert sorted(r.post_id for r in records) == sorted(post_ids)
    assert all(r.impressions is not None and r.clicks is not None and r.likes is not None for r in records)
    assert len(transport.requests) == 5  # token, one post for its author, counts, statistics, the batch


def test_the_refresh_reports_posts_that_answer_404_alone_or_in_the_batch_gone():
    _, landed = sandbox_day()
    post_ids = list(json.loads([r for r in landed if r.resource == "posts" and r.normalize][0].context["metrics"]))
    assert len(post_ids) >= 3
    box = Sandbox(clock=SandboxClock(NOW + timedelta(hours=5)), faults="none", log="")
    posts = {post_urn(p): p for a in box.world.accounts("linkedin") for p in box.world.posts(a, since=DAY.start)}
    for urn in (post_ids[0], post_ids[-1]):  # the first is asked alone for its author, the last only in the batch
        box.world.delete(posts[urn], at=NOW + timedelta(hours=1))
    refreshed: list = []
    gone = refresh(TestConnection(LINKEDIN, httpx.Client(transport=SandboxTransport(box))).client(SOURCE, refreshed.append), post_ids)
    assert [(g.resource, g.item_id) for g in gone] == [("posts", post_ids[0]), ("posts", post_ids[-1])]
    [batch] = [r for r in refreshed if r.normalize]
    assert sorted(r.post_id for r in normalize_posts(json.loads(batch.body), **batch.context).records) == sorted(post_ids[1:-1])


def test_the_organization_is_an_id_or_a_urn():
    assert LinkedInSource(organization=2414183).account_id == "urn:li:organization:2414183"
    assert LinkedInSource(organization="urn:li:organization:1035").account_id == "urn:li:organization:1035"
    with pytest.raises(ValueError, match="numeric id"):
        LinkedInSource(organization="acme-corp")
    assert BASE_URL == "https://api.linkedin.com/rest"
