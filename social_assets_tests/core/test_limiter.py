"""The limiter on a pinned clock: reserving across limits, waiting, pausing, refunding, and the
circuit breaker's open -> fail fast -> half-open probe -> close cycle."""

from __future__ import annotations

import threading
from datetime import timezone

import httpx
import pytest

from social_assets.core.errors import CircuitOpenError, Outcome, QuotaExhaustedError
from social_assets.core.limits import (
    BreakerRule,
    DailyQuota,
    Limiter,
    LimitPolicy,
    MemoryStore,
    SharedState,
    WindowHeaders,
    WindowLimit,
)

URL = "https://api.example.com/v1/items"
HEADERS = WindowHeaders(used="x-used", remaining="x-remaining", reset="x-reset", reset_is_epoch=False)


def policy(**overrides) -> LimitPolicy:
    settings = dict(
        platform="example",
        limits=(WindowLimit("calls", limit=10, window=60, headers=HEADERS), DailyQuota("units", 25, timezone.utc)),
        breaker=BreakerRule(failures=3, cooldown=30, max_cooldown=100, probe_timeout=20),
        max_wait=120,
    )
    return LimitPolicy(**{**settings, **overrides})


def limiter(clock, store=None, **overrides) -> Limiter:
    return Limiter(policy(**overrides), SharedState(store or MemoryStore(), "test/example/abc"), clock=clock, sleep=clock.sleep)


def answer(status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_a_call_is_reserved_in_every_limit_and_the_window_waits_for_its_reset(clock):
    meter = limiter(clock)
    start = clock.now
    for _ in range(10):
        permit = meter.acquire("GET", URL)
        meter.settle(permit, answer(), Outcome.OK)
    assert permit.limits == ("calls", "units") and permit.cost == 1 and clock.sleeps == []
    permit = meter.acquire("GET", URL)  # the 11th call of the window: held until it resets
    assert clock.now == start + 60 and permit.waited == 60 and meter.waited == 60
    assert meter.snapshot()["limits"]["units"]["used"] == 11


def test_headers_from_the_platform_override_the_configured_defaults(clock):
    meter = limiter(clock)
    permit = meter.acquire("GET", URL)
    meter.settle(permit, answer(x_used="4", x_remaining="0", x_reset="7"), Outcome.OK)  # a 4-call window
    meter.acquire("GET", URL)
    assert clock.sleeps == [7]


def test_a_spent_daily_quota_fails_fast_without_waiting(clock):
    meter = limiter(clock, limits=(DailyQuota("units", 2, timezone.utc),))
    meter.acquire("GET", URL)
    meter.acquire("GET", URL)
    with pytest.raises(QuotaExhaustedError) as refused:
        meter.acquire("GET", URL)
    error = refused.value
    assert error.status is None and error.platform == "example" and clock.sleeps == []
    assert error.resets_at.tzinfo is timezone.utc and (error.resets_at.hour, error.resets_at.minute) == (0, 0)
    assert "daily quota 'units' of 2 spent" in str(error)


def test_a_wait_longer_than_max_wait_pauses_the_platform_instead(clock):
    meter = limiter(clock)
    permit = meter.acquire("GET", URL)
    meter.settle(permit, answer(x_used="10", x_remaining="0", x_reset="600"), Outcome.OK)
    with pytest.raises(QuotaExhaustedError, match="window 'calls' of 10 calls spent; paused until"):
        meter.acquire("GET", URL)
    assert clock.sleeps == []


def test_settling_a_refusal_reports_the_wait_and_a_call_never_sent_is_refunded(clock):
    meter = limiter(clock)
    permit = meter.acquire("GET", URL)
    throttled = meter.settle(permit, answer(429, x_used="3", x_remaining="0", x_reset="20"), Outcome.THROTTLED)
    assert throttled.retry_after == 20 and not throttled.paused and throttled.refunded == 0
    permit = meter.acquire("GET", URL)
    assert meter.snapshot()["limits"]["units"]["used"] == 2
    assert meter.settle(permit, None, Outcome.NOT_SENT).refunded == 1
    assert meter.snapshot()["limits"]["units"]["used"] == 1


def test_limiters_on_one_store_share_the_budget(clock):
    store = MemoryStore()
    meters = [limiter(clock, store, limits=(DailyQuota("units", 50, timezone.utc),)) for _ in range(4)]
    admitted, refused = [], []

    def spend(meter: Limiter) -> None:
        for _ in range(20):
            try:
                admitted.append(meter.acquire("GET", URL))
            except QuotaExhaustedError:
                refused.append(1)

    threads = [threading.Thread(target=spend, args=(m,)) for m in meters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(admitted), len(refused)) == (50, 30)


# -- the breaker ------------------------------------------------------------------------------


def test_the_breaker_opens_fails_fast_probes_and_closes(clock):
    meter = limiter(clock)
    other = "https://api.example.com/v1/other"
    for _ in range(3):
        meter.settle(meter.acquire("GET", URL), None, Outcome.FAILED, "ReadTimeout")

    # Open: no call goes out, at once, with when the next probe is due and why.
    with pytest.raises(CircuitOpenError) as refused:
        meter.acquire("GET", URL)
    assert "GET /v1/items is failing (ReadTimeout)" in str(refused.value)
    assert refused.value.retry_at.timestamp() == clock.now + 30 and clock.sleeps == []
    meter.settle(meter.acquire("GET", other), answer(), Outcome.OK)  # other endpoints go on

    # Cooled down: one probe goes, the rest still fail fast while it is out.
    clock.now += 30
    probe = meter.acquire("GET", URL)
    assert probe.probe
    with pytest.raises(CircuitOpenError):
        meter.acquire("GET", URL)
    meter.settle(probe, answer(503), Outcome.FAILED, "HTTP 503")  # still failing: open for twice as long
    clock.now += 30
    with pytest.raises(CircuitOpenError):
        meter.acquire("GET", URL)
    clock.now += 30
    probe = meter.acquire("GET", URL)
    meter.settle(probe, answer(404), Outcome.OK)  # an answer, even a 404: the endpoint works again
    for _ in range(3):
        assert not meter.acquire("GET", URL).probe
    assert meter.snapshot()["breakers"]["GET /v1/items"] == {"state": "closed", "failures": 0}


def test_a_lost_probe_frees_the_slot_and_throttling_is_no_failure(clock):
    meter = limiter(clock)
    for _ in range(3):
        meter.settle(meter.acquire("GET", URL), answer(429), Outcome.THROTTLED)
    assert meter.snapshot()["breakers"]["GET /v1/items"]["state"] == "closed"
    for _ in range(3):
        meter.settle(meter.acquire("GET", URL), None, Outcome.FAILED, "ConnectError")
    clock.now += 30
    assert meter.acquire("GET", URL).probe  # ... and this probe never reports back
    clock.now += 20
    assert meter.acquire("GET", URL).probe


def test_headroom_says_what_is_left_of_each_limit(clock):
    meter = limiter(clock)
    assert [(h.limit, h.remaining, h.of) for h in meter.headroom()] == [("calls", 10, 10), ("units", 25, 25)]
    permit = meter.acquire("GET", URL)
    meter.settle(permit, answer(x_used="7", x_remaining="3", x_reset="40"), Outcome.OK)
    window, units = meter.headroom()
    assert (window.remaining, window.of, window.resets_at.timestamp()) == (3, 10, clock.now + 40)
    assert (units.remaining, units.of) == (24, 25) and (units.resets_at.hour, units.resets_at.minute) == (0, 0)
