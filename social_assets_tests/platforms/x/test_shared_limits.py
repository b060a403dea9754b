"""Two processes sharing one X credential stay inside its 15-minute window together: real
processes, each with the client the pipeline builds (store from `SOCIAL_LIMIT_STORE`, key from
a hash of the bearer token), against a sandbox served over real HTTP whose window is shrunk to
6 calls per 3 seconds. X reports the window's end as an absolute epoch second."""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import replace

import httpx

from social_assets.core.limits import Limiter, WindowLimit
from social_assets.platforms.x import PLATFORM as X
from social_assets.platforms.x.spec import API_BASE, LIMITS
from social_assets.sandbox.app import LoopbackSandboxTransport
from social_assets_tests.clients import sandbox_client
from social_assets_tests.core.conftest import _quiet_environment, served_sandbox, store_url  # noqa: F401 (fixtures)

WINDOW_SECONDS, CALLS_PER_WINDOW, CALLS_PER_PROCESS = 3, 6, 6
PATH = "/2/users/by/username/XDevelopers"


def _x_process(base_url: str, store_url: str, results) -> None:
    os.environ["SOCIAL_LIMIT_STORE"] = store_url
    session = sandbox_client(X, httpx.Client(transport=LoopbackSandboxTransport(base_url))).session
    # The sandbox's window is 3 s here, not X's 900: keep to that grid (the limit comes from headers).
    limits = tuple(replace(k, window=WINDOW_SECONDS) if isinstance(k, WindowLimit) else k for k in LIMITS.limits)
    session.limiter = Limiter(replace(LIMITS, limits=limits), session.limiter.state)
    statuses = []
    for n in range(CALLS_PER_PROCESS):
        response = session.get(f"{API_BASE}{PATH}", params={"user.fields": "public_metrics", "n": str(n)})
        statuses.append(response.status_code)
    results.put((statuses, session.stats.throttled, session.stats.retries, session.limiter.waited))


def test_two_processes_share_one_x_credential_inside_its_window(store_url):
    with served_sandbox() as served:
        x = served.sandbox.platforms["x"]
        x.requests_per_window, x.window_seconds = CALLS_PER_WINDOW, WINDOW_SECONDS
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        workers = [context.Process(target=_x_process, args=(served.url, store_url, results)) for _ in range(2)]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=10)
    assert [w.exitcode for w in workers] == [0, 0]
    calls = [(t, status) for t, platform, path, status in served.requests if path == PATH]
    assert [status for _, status in calls] == [200] * 2 * CALLS_PER_PROCESS  # never a 429
    assert all(statuses == [200] * CALLS_PER_PROCESS and throttled == retries == 0
               for statuses, throttled, retries, _ in outcomes)
    # Twelve calls cannot fit one 6-call window: together the processes waited for a reset ...
    assert sum(waited for *_, waited in outcomes) > 0
    # ... and no window of the sandbox's clock saw more than its limit.
    per_window: dict[int, int] = {}
    for t, _ in calls:
        per_window[int(t // WINDOW_SECONDS)] = per_window.get(int(t // WINDOW_SECONDS), 0) + 1
    assert max(per_window.values()) <= CALLS_PER_WINDOW and len(per_window) >= 2
