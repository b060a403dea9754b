"""A circuit breaker per platform endpoint, as a pure state machine over a small JSON dict.

closed --(`failures` failed calls in a row)--> open --(cooldown over)--> half-open: one probe
goes out, every other call still fails fast. The probe succeeds: closed. It fails: open again,
for twice the cooldown (up to `max_cooldown`).

Only failures that say the endpoint is unwell count: 5xx, 408, timeouts, dropped connections,
unusable bodies (`Outcome.FAILED`). A 404 or a 429 is an answer from a working endpoint; pacing
deals with the latter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from social_assets.core.errors import Outcome

State = dict[str, Any]
CLOSED: State = {"state": "closed", "failures": 0}


@dataclass(frozen=True)
class BreakerRule:
    failures: int = 5  # failed calls in a row that open the breaker (a request's retries count)
    cooldown: float = 30.0  # how long it stays open the first time
    max_cooldown: float = 600.0
    probe_timeout: float = 120.0  # a probe that never reports back frees the slot after this

    def admit(self, state: State | None, now: float) -> tuple[State, float | None, bool]:
        """(new state, refused until when or None, whether this call is the probe)."""
        current = dict(state or CLOSED)
        if current["state"] == "closed":
            return current, None, False
        if now < current["until"]:
            return current, current["until"], False
        # Open and cooled down, or a probe that went silent: this call probes.
        current.update(state="half-open", until=now + self.probe_timeout)
        return current, None, True

    def record(self, state: State | None, now: float, outcome: Outcome, probe: bool, note: str) -> State:
        current = dict(state or CLOSED)
        if outcome is Outcome.NOT_SENT:
            if probe:  # let the next call probe instead
                current.update(state="open", until=now)
            return current
        if outcome is not Outcome.FAILED:
            return dict(CLOSED)
        current["last_failure"] = note
        if probe or current["state"] == "half-open":
            cooldown = min(self.max_cooldown, 2 * current.get("cooldown", self.cooldown))
            current.update(state="open", until=now + cooldown, cooldown=cooldown)
            return current
        current["failures"] = current.get("failures", 0) + 1
        if current["state"] == "closed" and current["failures"] >= self.failures:
            current.update(state="open", until=now + self.cooldown, cooldown=self.cooldown)
        return current
