"""The Graph layer Instagram and Facebook share: its error table, `paging.next` paging without the
token, and usage-share pacing against the sandbox's usage headers (which rise with use and
throttle at 100 %)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import httpx
import pytest

from social_assets.core.errors import (
    ErrorKind,
    InvalidRequestError,
    NotFoundError,
    Outcome,
    QuotaExhaustedError,
)
from social_assets.core.limits import Limiter, UsageShare
from social_assets.core.rest import PageRequest
from social_assets.platforms.facebook import PLATFORM as FACEBOOK
from social_assets.platforms.graph.api import ERRORS, EMPTY_PAGES, GraphNext, endpoint_of
from social_assets.sandbox.app import Sandbox, SandboxTransport
from social_assets.sandbox.world import SandboxClock
from social_assets_tests.clients import sandbox_client

NOW = datetime(2026, 11, 20, 3, tzinfo=timezone.utc)


def graph_body(code: int, subcode: int | None = None) -> dict:
    error = {"message": f"(#{code}) something", "type": "OAuthException", "code": code, "fbtrace_id": "Ab"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.parametrize("code, subcode, status, kind", [
    (1, None, 500, ErrorKind.TRANSIENT), (2, None, 503, ErrorKind.TRANSIENT),
    (4, None, 403, ErrorKind.THROTTLED), (17, None, 400, ErrorKind.THROTTLED), (32, None, 400, ErrorKind.THROTTLED),
    (613, None, 400, ErrorKind.THROTTLED), (80001, None, 400, ErrorKind.THROTTLED), (80002, None, 400, ErrorKind.THROTTLED),
    (190, 463, 400, ErrorKind.AUTH), (190, 460, 401, ErrorKind.AUTH), (190, None, 200, ErrorKind.AUTH),
    (10, None, 400, ErrorKind.PERMISSION), (200, None, 403, ErrorKind.PERMISSION), (299, None, 400, ErrorKind.PERMISSION),
    (100, 33, 400, ErrorKind.NOT_FOUND), (100, None, 400, ErrorKind.INVALID),
])
def test_the_graph_error_code_decides_whatever_the_status(code, subcode, status, kind):
    assert ERRORS.classify(status, graph_body(code, subcode))[0] is kind
    assert f"code {code}" in ERRORS.describe(status, json.dumps(graph_body(code, subcode)))


def test_data_is_not_an_error_and_endpoints_carry_no_version_or_ids():
    assert ERRORS.classify(200, {"data": [], "paging": {}})[0] is None
    assert endpoint_of("GET", "https://graph.facebook.com/v10.0/19292868552_10158407654328553/comments") == "GET /{id}/comments"
    assert endpoint_of("GET", "https://graph.instagram.com/v24.0/17841406338772941/media") == "GET /{id}/media"


def page(after: str | None, data: list, token: str = "EAAsecret") -> dict:
    body: dict = {"data": data}
    if after is not None:
        body["paging"] = {"cursors": {"after": after},
                          "next": f"https://graph.facebook.com/v24.0/1/posts?access_token={token}&limit=2&after={after}"}
    return body


def test_paging_next_is_followed_without_its_token_and_stops_on_a_repeated_cursor():
    pager, first = GraphNext(), PageRequest("https://graph.facebook.com/v24.0/1/posts")
    nxt = pager.next_page(first, httpx.Response(200), page("A", [{"id": "1"}]))
    assert nxt is not None and "access_token" not in nxt.url and "after=A" in nxt.url
    assert pager.next_page(nxt, httpx.Response(200), page("B", [{"id": "2"}])) is not None
    assert pager.next_page(nxt, httpx.Response(200), page("A", [{"id": "3"}])) is None  # seen before
    assert pager.next_page(nxt, httpx.Response(200), page(None, [{"id": "4"}])) is None  # no next: the end


def test_an_empty_page_with_next_is_followed_but_not_for_ever():
    pager, request = GraphNext(), PageRequest("https://graph.facebook.com/v24.0/1/posts")
    followed = 0
    for n in range(10):
        request = pager.next_page(request, httpx.Response(200), page(f"C{n}", []))
        if request is None:
            break
        followed += 1
    assert followed == EMPTY_PAGES - 1


def test_a_throttle_below_the_ceiling_is_a_short_one_and_one_without_usage_pauses():
    usage = UsageShare("graph usage", calls_per_window=600)
    reported = {"x-business-use-case-usage": json.dumps({"1": [{"type": "pages", "call_count": 40, "total_cputime": 5,
                                                                "total_time": 5, "estimated_time_to_regain_access": 0}]})}
    assert usage.blocked_until(usage.observe(None, reported, 100.0, Outcome.THROTTLED, 1), 100.0) is None
    assert usage.blocked_until(usage.observe(None, {}, 100.0, Outcome.THROTTLED, 1), 100.0) == 400.0


def _sandbox(**kwargs) -> Sandbox:
    return Sandbox(clock=SandboxClock(NOW), faults="none", log="", **kwargs)


def test_usage_headers_rise_with_use_and_the_ceiling_pauses_the_page_in_every_client():
    box = _sandbox()
    box.platforms["facebook"].requests_per_window = 4
    http = httpx.Client(transport=SandboxTransport(box))
    first, second = sandbox_client(FACEBOOK, http), sandbox_client(FACEBOOK, http)  # one token, one store
    for client in (first, second):  # whatever minute of the hour this runs: never sleep for the reset
        client.session.limiter = Limiter(replace(client.session.limiter.policy, max_wait=1.0), client.session.limiter.state)
    shares = []
    for n in range(4):
        response = first.session.get("https://graph.facebook.com/v24.0/sandboxcafe", params={"n": str(n)})
        [entries] = json.loads(response.headers["x-business-use-case-usage"]).values()
        shares.append(entries[0]["call_count"])
        regain = entries[0]["estimated_time_to_regain_access"]
    assert shares == [25, 50, 75, 100] and regain > 0
    # At 100 % with a time to regain access (minutes): nothing more is sent, by either client.
    calls = first.session.stats.calls + second.session.stats.calls
    for client in (first, second):
        with pytest.raises(QuotaExhaustedError) as paused:
            client.session.get("https://graph.facebook.com/v24.0/sandboxcafe", params={"n": "again"})
        assert "graph usage" in str(paused.value)
    assert first.session.stats.calls + second.session.stats.calls == calls


def test_graph_refusals_become_the_seam_s_errors():
    http = httpx.Client(transport=SandboxTransport(_sandbox()))
    with pytest.raises(NotFoundError) as unknown:
        sandbox_client(FACEBOOK, http).get("/123456789012_999")
    assert "code 100" in str(unknown.value)
    with pytest.raises(InvalidRequestError):
        sandbox_client(FACEBOOK, http).call("POST", "/sandboxcafe")
