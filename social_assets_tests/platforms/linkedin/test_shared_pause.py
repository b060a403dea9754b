"""LinkedIn's midnight pause is shared across processes: two real processes, each with the client
the pipeline builds (store from `SOCIAL_LIMIT_STORE`, key from a hash of the credential), against
a sandbox served over real HTTP whose own daily limit is smaller than our budget, so it answers a
bare 429 again and again. After `PAUSE_AFTER_429S` of them in a row, counted across both
processes, each process is paused until the next midnight UTC and sends nothing more."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone

from social_assets.core.errors import QuotaExhaustedError
from social_assets.core.limits import Limiter
from social_assets.platforms.linkedin import PLATFORM as LINKEDIN
from social_assets.platforms.linkedin.spec import LIMITS, PAUSE_AFTER_429S
from social_assets_tests.core.conftest import _quiet_environment, served_sandbox, store_url  # noqa: F401 (fixtures)
from social_assets_tests.core.test_shared_limits import _collector, _run

SANDBOX_DAILY_LIMIT, CALLS_PER_PROCESS = 3, 6
PATH = "/rest/networkSizes/urn:li:organization:2414183"


def _linkedin_process(base_url: str, store: str, results) -> None:
    client = _collector(LINKEDIN, base_url, store)
    client.session.backoff_initial, client.session.backoff_max = 0.01, 0.05  # the 429s come at once
    # Wait a second at most (the other process may hold the store a moment), never for the reset
    # however near midnight the test runs: the pause is what is tested.
    client.session.limiter = Limiter(replace(LIMITS, max_wait=1.0), client.session.limiter.state)
    answered, paused = 0, []
    for n in range(CALLS_PER_PROCESS):
        try:
            client.get(f"/networkSizes/urn%3Ali%3Aorganization%3A2414183?edgeType=COMPANY_FOLLOWED_BY_MEMBER&n={n}")
            answered += 1
        except QuotaExhaustedError as error:
            paused.append(error.resets_at.isoformat() if error.resets_at else None)
    results.put((answered, paused, client.session.stats.calls))


def next_midnight_utc() -> str:
    return datetime.combine(datetime.now(timezone.utc).date() + timedelta(days=1), time.min, timezone.utc).isoformat()


def test_a_persistent_429_pauses_linkedin_until_midnight_utc_in_every_process(store_url):
    with served_sandbox() as served:
        served.sandbox.platforms["linkedin"].daily_quota = SANDBOX_DAILY_LIMIT
        before = next_midnight_utc()
        outcomes = _run(_linkedin_process, served.url, store_url)
        midnights = {before, next_midnight_utc()}  # two only if the run crossed midnight
    calls = [status for _, platform, path, status in served.requests if path == PATH]
    assert sum(answered for answered, _, _ in outcomes) == SANDBOX_DAILY_LIMIT == calls.count(200)
    # Both processes were paused, each until the next midnight UTC, for every call left.
    assert all(paused and len(set(paused)) == 1 and set(paused) <= midnights for _, paused, _ in outcomes)
    assert sum(len(paused) for _, paused, _ in outcomes) == 2 * CALLS_PER_PROCESS - SANDBOX_DAILY_LIMIT
    # The pause came after the run of 429s (one more may have been in flight in each process
    # when it was recorded), and after it neither process sent anything.
    assert PAUSE_AFTER_429S <= calls.count(429) <= PAUSE_AFTER_429S + 2
    assert sum(sent for *_, sent in outcomes) == len(calls)
