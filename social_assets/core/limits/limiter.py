"""The limiter: one platform's limits and endpoint breakers, applied around every HTTP exchange.

`ApiSession` asks `acquire(method, url)` before each exchange: the limiter reserves the call in
every limit of the platform's policy (in one store transaction, so processes sharing the
credential take turns), sleeps until the call's slot, and hands back a `Permit`. Or it refuses
at once: `QuotaExhaustedError` when a quota is spent or the wait would outlast `max_wait`,
`CircuitOpenError` when the endpoint's breaker is open. After the exchange, `settle(permit,
response, outcome)` feeds the response's headers to the limits and the outcome to the breaker.

All limit and breaker states of one credential live in one document (`<scope>/limits`), so a
call is reserved in all its limits at once or in none.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import httpx

from social_assets.core.errors import CircuitOpenError, Outcome, QuotaExhaustedError
from social_assets.core.limits.kinds import Admit, Exhausted
from social_assets.core.limits.policy import LimitPolicy
from social_assets.core.limits.shared import SharedState

# Long enough for a daily quota's day; a document nobody touched for this long is dropped.
STATE_TTL = 3 * 86400.0


@dataclass(frozen=True)
class Permit:
    """A reserved call: what it was reserved in, and how long the limiter held it back."""

    endpoint: str
    cost: int
    limits: tuple[str, ...]
    probe: bool  # the half-open breaker's one trial call
    waited: float


@dataclass(frozen=True)
class Settled:
    retry_after: float | None = None  # seconds until a throttled limit resets
    resets_at: datetime | None = None  # when a throttled or spent limit comes back
    refunded: int = 0  # units given back (a call the quota refused is not charged)
    paused: bool = False  # the quota is spent, or the wait is longer than a run should sleep


@dataclass(frozen=True)
class Headroom:
    """What is left of one limit, as the shared state knows it (for health reports)."""

    limit: str  # its name; per-endpoint windows add the endpoint
    remaining: float
    of: float
    resets_at: datetime | None


@dataclass(frozen=True)
class _Reserved:
    slot: float
    limits: tuple[str, ...]
    probe: bool


@dataclass(frozen=True)
class _BreakerOpen:
    until: float
    failures: str


@dataclass
class Limiter:
    policy: LimitPolicy
    state: SharedState
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    waited: float = field(default=0.0, init=False)  # seconds held back, over this limiter's life

    @property
    def key(self) -> str:
        return self.state.key("limits")

    def acquire(self, method: str, url: str) -> Permit:
        endpoint = self.policy.endpoint(method, url)
        cost = self.policy.cost(endpoint)
        waited = 0.0
        while True:
            now = self.clock()
            decision = self.state.store.transact(
                self.key, lambda doc, now=now: self._reserve(doc, now, endpoint, cost), STATE_TTL
            )
            if isinstance(decision, _Reserved):
                delay = decision.slot - now
                if delay > 0:
                    self._hold(delay)
                    waited += delay
                return Permit(endpoint, cost, decision.limits, decision.probe, waited)
            if isinstance(decision, _BreakerOpen):
                raise CircuitOpenError(
                    self.policy.platform, method, url,
                    f"{endpoint} is failing ({decision.failures}); circuit open, next probe at "
                    f"{_moment(decision.until).isoformat()}",
                    retry_at=_moment(decision.until),
                )
            if isinstance(decision, Exhausted) or decision.until - now > self.policy.max_wait:
                resets_at = _moment(decision.until, getattr(decision, "zone", timezone.utc))
                raise QuotaExhaustedError(
                    self.policy.platform, method, url, None,
                    f"{decision.why}; paused until {resets_at.isoformat()} (not retried before then)",
                    resets_at=resets_at,
                )
            delay = max(decision.until - now, 0.001)
            self._hold(delay)
            waited += delay

    def settle(self, permit: Permit, response: httpx.Response | None, outcome: Outcome, note: str = "") -> Settled:
        now = self.clock()
        headers = response.headers if response is not None else httpx.Headers()
        return self.state.store.transact(
            self.key, lambda doc: self._observe(doc, now, permit, headers, outcome, note), STATE_TTL
        )

    def count_unreserved(self, method: str, url: str, response: httpx.Response) -> None:
        """A call that was made without a permit (by another client of the credential) still
        counts; learn what its response says."""
        endpoint = self.policy.endpoint(method, url)
        cost = self.policy.cost(endpoint)
        now = self.clock()

        def change(doc: dict | None) -> tuple[dict, None]:
            doc = _document(doc)
            for kind in self.policy.limits:
                name = kind.state_name(endpoint)
                doc["limits"][name] = kind.count_unreserved(doc["limits"].get(name), now, cost)
            return doc, None

        self.state.store.transact(self.key, change, STATE_TTL)
        permit = Permit(endpoint, 0, tuple(k.state_name(endpoint) for k in self.policy.limits), False, 0.0)
        self.settle(permit, response, Outcome.OK)

    def headroom(self) -> list[Headroom]:
        """What is left of each limit now, including per-endpoint windows seen so far."""
        now, states = self.clock(), self.snapshot()["limits"]
        found = []
        for kind in self.policy.limits:
            names = [n for n in states if n == kind.name or n.startswith(kind.name + " ")] or [kind.name]
            for name in sorted(names):
                remaining, of, resets = kind.headroom(states.get(name), now)
                zone = getattr(kind, "zone", timezone.utc)
                found.append(Headroom(name, remaining, of, _moment(resets, zone) if resets is not None else None))
        return found

    def snapshot(self) -> dict[str, Any]:
        """The shared state as stored (for tests, benchmarks and debugging)."""
        return _document(self.state.store.read(self.key))

    # -- the pure parts, run inside store transactions ------------------------------------------

    def _reserve(self, doc: dict | None, now: float, endpoint: str, cost: int) -> tuple[dict, Any]:
        doc = _document(doc)
        breaker, refused_until, probe = self.policy.breaker.admit(doc["breakers"].get(endpoint), now)
        if refused_until is not None:
            return doc, _BreakerOpen(refused_until, breaker.get("last_failure", "repeated failures"))
        reserved: dict[str, dict] = {}
        slots = []
        for kind in self.policy.limits:
            name = kind.state_name(endpoint)
            state, decision = kind.reserve(doc["limits"].get(name), now, cost)
            if not isinstance(decision, Admit):
                return doc, decision  # nothing reserved anywhere, breaker untouched
            reserved[name] = state
            slots.append(decision.slot)
        doc["limits"].update(reserved)
        doc["breakers"][endpoint] = breaker
        return doc, _Reserved(max(slots, default=now), tuple(reserved), probe)

    def _observe(self, doc: dict | None, now: float, permit: Permit, headers: httpx.Headers,
                 outcome: Outcome, note: str) -> tuple[dict, Settled]:
        doc = _document(doc)
        blocked: list[tuple[float, Any]] = []
        for kind in self.policy.limits:
            name = kind.state_name(permit.endpoint)
            if name not in permit.limits:
                continue
            state = kind.observe(doc["limits"].get(name), headers, now, outcome, permit.cost)
            doc["limits"][name] = state
            until = kind.blocked_until(state, now)
            if until is not None:
                blocked.append((until, getattr(kind, "zone", timezone.utc)))
        doc["breakers"][permit.endpoint] = self.policy.breaker.record(
            doc["breakers"].get(permit.endpoint), now, outcome, permit.probe, note
        )
        latest = max(blocked, key=lambda b: b[0], default=None)
        refused = outcome in (Outcome.THROTTLED, Outcome.QUOTA)
        retry_after = max(0.0, latest[0] - now) if latest and outcome is Outcome.THROTTLED else None
        return doc, Settled(
            retry_after=retry_after,
            resets_at=_moment(*latest) if latest and refused else None,
            # A call the platform refused for quota is not charged (YouTube).
            refunded=permit.cost if outcome in (Outcome.QUOTA, Outcome.NOT_SENT) else 0,
            paused=outcome is Outcome.QUOTA or (retry_after or 0.0) > self.policy.max_wait,
        )

    def _hold(self, seconds: float) -> None:
        self.sleep(seconds)
        self.waited += seconds


def _document(doc: dict | None) -> dict:
    doc = doc or {}
    return {"limits": dict(doc.get("limits") or {}), "breakers": dict(doc.get("breakers") or {})}


def _moment(epoch: float, zone: Any = timezone.utc) -> datetime:
    return datetime.fromtimestamp(epoch, zone)
