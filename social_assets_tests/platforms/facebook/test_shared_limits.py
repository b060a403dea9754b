"""Two processes on one Page token stay under Graph's usage ceiling together: real processes,
each with the client the pipeline builds (store from `SOCIAL_LIMIT_STORE`, key from a hash of
the Page token), against a sandbox served over real HTTP whose usage window is shrunk to 20
calls per 3 seconds. Graph reports no counts, only the percentage used: the clients slow down
from 50 % (the test's threshold) and never reach 100 %, where the Page would be throttled."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import httpx

from social_assets.core.limits import Limiter, UsageShare
from social_assets.platforms.facebook import PLATFORM as FACEBOOK
from social_assets.platforms.facebook.spec import API
from social_assets.sandbox.app import LoopbackSandboxTransport
from social_assets_tests.clients import sandbox_client
from social_assets_tests.core.conftest import _quiet_environment, served_sandbox, store_url  # noqa: F401 (fixtures)
from social_assets_tests.core.test_shared_limits import _run

WINDOW_SECONDS, CALLS_PER_WINDOW, CALLS_PER_PROCESS = 3, 20, 15
PATH = "/v24.0/sandboxcafe"


def _page_process(base_url: str, store_url: str, results) -> None:
    os.environ["SOCIAL_LIMIT_STORE"] = store_url
    session = sandbox_client(FACEBOOK, httpx.Client(transport=LoopbackSandboxTransport(base_url))).session
    # Graph's hour is 3 s here: spread the calls left from half the share on (headers decide the rest).
    [usage] = API.limits.limits
    assert isinstance(usage, UsageShare)
    shrunk = replace(usage, calls_per_window=CALLS_PER_WINDOW, window=WINDOW_SECONDS, slow_at=50.0)
    session.limiter = Limiter(replace(API.limits, limits=(shrunk,)), session.limiter.state)
    shares = []
    for n in range(CALLS_PER_PROCESS):
        response = session.get(f"https://graph.facebook.com{PATH}", params={"fields": "id,followers_count", "n": str(n)})
        usage_header = json.loads(response.headers["x-business-use-case-usage"])
        shares.append(max(entry["call_count"] for entries in usage_header.values() for entry in entries))
    results.put((shares, session.stats.throttled, session.stats.retries, session.limiter.waited))


def test_two_processes_on_one_page_token_stay_under_the_usage_ceiling(store_url):
    with served_sandbox() as served:
        facebook = served.sandbox.platforms["facebook"]
        facebook.requests_per_window, facebook.window_seconds = CALLS_PER_WINDOW, WINDOW_SECONDS
        outcomes = _run(_page_process, served.url, store_url)
    calls = [(t, status) for t, platform, path, status in served.requests if path == PATH]
    assert [status for _, status in calls] == [200] * 2 * CALLS_PER_PROCESS  # never a throttle
    assert all(throttled == retries == 0 for _, throttled, retries, _ in outcomes)
    # The usage the Page reported rose with use and never reached the ceiling ...
    shares = [share for outcome in outcomes for share in outcome[0]]
    assert max(shares) < 100 and max(shares) >= 50
    # ... because together the processes slowed down past half the share,
    assert sum(waited for *_, waited in outcomes) > 0
    # and no window of the sandbox's clock saw more than its limit.
    per_window: dict[int, int] = {}
    for t, _ in calls:
        per_window[int(t // WINDOW_SECONDS)] = per_window.get(int(t // WINDOW_SECONDS), 0) + 1
    assert max(per_window.values()) < CALLS_PER_WINDOW and len(per_window) >= 2
