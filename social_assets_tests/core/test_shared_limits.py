"""Processes sharing one credential stay inside its limits together: real processes, each with a
client built as the pipeline builds it (so the store and key come from the real
wiring: `SOCIAL_LIMIT_STORE` and a hash of the credential), against a sandbox served over real
HTTP with small limits, on each store backend."""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import replace

import httpx

from social_assets.core.errors import QuotaExhaustedError
from social_assets.core.limits import Limiter
from social_assets.platforms.reddit import PLATFORM as REDDIT
from social_assets.platforms.reddit.spec import API_BASE, LIMITS as REDDIT_LIMITS
from social_assets.platforms.youtube import PLATFORM as YOUTUBE
from social_assets.platforms.youtube.spec import BASE_URL, LIMITS as YOUTUBE_LIMITS
from social_assets.sandbox.platforms.youtube import channel_id_for
from social_assets.sandbox.app import LoopbackSandboxTransport, sandbox_credentials
from social_assets_tests.clients import sandbox_client
from social_assets_tests.core.conftest import USER_AGENT, served_sandbox

WINDOW_SECONDS, CALLS_PER_WINDOW, CALLS_PER_PROCESS = 3, 6, 6
DAILY_UNITS, UNITS_TRIED_PER_PROCESS = 10, 8


def _collector(platform, base_url: str, store_url: str):
    os.environ["SOCIAL_LIMIT_STORE"] = store_url
    http = httpx.Client(transport=LoopbackSandboxTransport(base_url))
    return sandbox_client(platform, http)


def _reddit_process(base_url: str, store_url: str, results) -> None:
    session = _collector(REDDIT, base_url, store_url).session
    # The sandbox's window is 3 s here, not Reddit's 600: pace for that (limits come from headers).
    [window] = REDDIT_LIMITS.limits
    session.limiter = Limiter(replace(REDDIT_LIMITS, limits=(replace(window, window=WINDOW_SECONDS),)), session.limiter.state)
    statuses = []
    for n in range(CALLS_PER_PROCESS):
        response = session.get(f"{API_BASE}/r/duckdb/about", params={"raw_json": "1", "n": str(n)},
                               headers={"User-Agent": USER_AGENT})
        statuses.append(response.status_code)
    results.put((statuses, session.stats.throttled, session.stats.retries, session.limiter.waited))


def _youtube_process(base_url: str, store_url: str, results) -> None:
    session = _collector(YOUTUBE, base_url, store_url).session
    [units] = YOUTUBE_LIMITS.limits
    session.limiter = Limiter(replace(YOUTUBE_LIMITS, limits=(replace(units, limit=DAILY_UNITS),)), session.limiter.state)
    admitted = refused = 0
    for n in range(UNITS_TRIED_PER_PROCESS):
        try:
            session.get(f"{BASE_URL}/channels", params={"part": "id", "id": channel_id_for("@socialpulse"),
                                                         "key": sandbox_credentials("youtube")["YOUTUBE_API_KEY"], "n": n})
            admitted += 1
        except QuotaExhaustedError:
            refused += 1
    results.put((admitted, refused, session.stats.calls))


def _run(target, *args) -> list:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=target, args=(*args, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    assert [w.exitcode for w in workers] == [0, 0]
    return outcomes


def test_two_processes_pace_one_reddit_client_inside_its_window(store_url):
    with served_sandbox() as served:
        reddit = served.sandbox.platforms["reddit"]
        reddit.requests_per_window, reddit.window_seconds = CALLS_PER_WINDOW, WINDOW_SECONDS
        outcomes = _run(_reddit_process, served.url, store_url)

    api_calls = [(t, status) for t, platform, path, status in served.requests if path == "/r/duckdb/about"]
    assert [status for _, status in api_calls] == [200] * 2 * CALLS_PER_PROCESS  # never a 429
    assert all(statuses == [200] * CALLS_PER_PROCESS and throttled == retries == 0
               for statuses, throttled, retries, _ in outcomes)
    # Twelve calls cannot fit one 6-call window: together the processes waited for a reset ...
    assert sum(waited for *_, waited in outcomes) > 0
    # ... and no window of the sandbox's clock saw more than its limit.
    per_window: dict[int, int] = {}
    for t, _ in api_calls:
        per_window[int(t // WINDOW_SECONDS)] = per_window.get(int(t // WINDOW_SECONDS), 0) + 1
    assert max(per_window.values()) <= CALLS_PER_WINDOW and len(per_window) >= 2


def test_two_processes_spend_one_youtube_key_s_daily_units_exactly_once(store_url):
    with served_sandbox() as served:
        outcomes = _run(_youtube_process, served.url, store_url)
        used_at_the_sandbox = served.sandbox.platforms["youtube"].units_used()
    assert sum(admitted for admitted, _, _ in outcomes) == DAILY_UNITS
    assert sum(refused for _, refused, _ in outcomes) == 2 * UNITS_TRIED_PER_PROCESS - DAILY_UNITS
    # The refused calls never left the process.
    assert sum(calls for *_, calls in outcomes) == DAILY_UNITS == used_at_the_sandbox


def test_where_limits_are_kept_follows_the_api_a_client_talks_to(tmp_path, monkeypatch):
    from social_assets.core.limits import SQLiteStore, shared_state
    from social_assets.sandbox.app import Sandbox, SandboxTransport

    def state_of(transport):
        return shared_state(httpx.Client(transport=transport), "youtube", "the-key")

    # The in-process sandbox: a store per sandbox object, like the sandbox's own counters.
    first, second = Sandbox(), Sandbox()
    one, again, other = (state_of(SandboxTransport(s)) for s in (first, first, second))
    assert one.store is again.store and one.store is not other.store
    # A served sandbox: shared through SOCIAL_LIMIT_STORE when set, else private to the client.
    served = state_of(LoopbackSandboxTransport("http://127.0.0.1:8765"))
    assert served.scope.startswith("sandbox@http://127.0.0.1:8765/youtube/")
    assert isinstance(served.store, SQLiteStore) and served.store.path == tmp_path / "limits.sqlite"
    monkeypatch.delenv("SOCIAL_LIMIT_STORE")
    transport = LoopbackSandboxTransport("http://127.0.0.1:8765")
    assert state_of(transport).store is state_of(transport).store
    assert state_of(transport).store is not state_of(LoopbackSandboxTransport("http://127.0.0.1:8765")).store
    # The real platform: the configured store, by default next to the warehouse; the key is a hash.
    monkeypatch.setenv("SOCIAL_WAREHOUSE", str(tmp_path / "w" / "warehouse.duckdb"))
    live = state_of(httpx.HTTPTransport())
    assert live.store.path == tmp_path / "w" / "limits.sqlite"
    assert live.scope.startswith("live/youtube/") and "the-key" not in live.scope
