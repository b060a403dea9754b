"""The kinds of limit platforms impose, each a pure state machine over a small JSON dict.

Every kind answers two questions, always given the time (epoch seconds) so that tests can pin it
and processes on one clock agree:

- `reserve(state, now, cost)`: may a call costing `cost` go, and when? `Admit(slot)` reserves it
  (send at `slot`), `Wait(until)` reserves nothing (ask again then), `Exhausted(until)` means do
  not wait in this run;
- `observe(state, headers, now, outcome, cost)`: what a response teaches about the limit.

Platforms declare their limits with these kinds in their own folder (`LimitPolicy`); the
`Limiter` keeps the states in a shared store. The kinds:

- `WindowLimit`: N calls per window (Reddit, X, Mastodon), learned from count/reset headers;
- `SlidingWindow`: N calls in any span of the window's length (TikTok), without headers;
- `DailyQuota`: units or calls per day, reset at midnight in a time zone (YouTube, TikTok
  Research, LinkedIn); `MonthlyQuota` the same per calendar month (X's post-read cap);
- `UsageShare`: percentages of an unpublished limit (Facebook/Instagram Graph).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Mapping, Union

from social_assets.core.errors import Outcome

State = dict[str, Any]
# Seconds before a window's end within which a call may still land in the next window.
TURN_MARGIN = 1.5


@dataclass(frozen=True)
class Admit:
    slot: float  # reserved: send no earlier than this


@dataclass(frozen=True)
class Wait:
    until: float  # nothing reserved: ask again at this time
    why: str = "rate limit spent"


@dataclass(frozen=True)
class Exhausted:
    until: float  # spent until this time: fail instead of waiting
    why: str
    zone: tzinfo = timezone.utc  # how to show `until` (a daily quota's own time zone)


Decision = Union[Admit, Wait, Exhausted]


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _iso_epoch(value: str | None) -> float | None:
    """An ISO 8601 timestamp with a zone (`2026-04-11T23:15:00.796213Z`) as epoch seconds."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return moment.timestamp() if moment is not None and moment.tzinfo is not None else None


# -- N calls per window -----------------------------------------------------------------------


@dataclass(frozen=True)
class WindowReport:
    """One response's account of the window: calls allowed (None: not said exactly) and used,
    and when it ends."""

    limit: float | None
    used: float
    remaining: float
    resets_at: float


@dataclass(frozen=True)
class WindowHeaders:
    """The header names a platform reports its window in. Reddit: `X-Ratelimit-Used`,
    `-Remaining`, `-Reset` in seconds from now; X: `x-rate-limit-limit`, `-remaining`, `-reset`
    as an absolute epoch second; Mastodon: `X-RateLimit-Reset` as an ISO 8601 timestamp
    (`reset_is_iso`). A reset written as an ISO timestamp is read as absolute whatever the
    flags say, as Mastodon.py does."""

    remaining: str
    reset: str
    reset_is_epoch: bool
    used: str | None = None
    limit: str | None = None
    reset_is_iso: bool = False  # how the platform writes it (the sandbox writes it so too)

    def read(self, headers: Mapping[str, str], now: float) -> WindowReport | None:
        remaining, reset = _number(headers.get(self.remaining)), _number(headers.get(self.reset))
        absolute = self.reset_is_epoch
        if reset is None:
            reset, absolute = _iso_epoch(headers.get(self.reset)), True
        if remaining is None or reset is None:
            return None
        used = _number(headers.get(self.used)) if self.used else None
        limit = _number(headers.get(self.limit)) if self.limit else None
        if limit is None and used is not None and remaining > 0:
            # Only while calls remain: past the limit, "used" counts the refused calls too.
            limit = used + remaining
        if used is None:
            used = (limit - remaining) if limit is not None else 0.0
        return WindowReport(limit, used, remaining, reset if absolute else now + reset)


@dataclass(frozen=True)
class WindowLimit:
    """`limit` calls per `window` seconds: the defaults until the platform's headers say
    otherwise (headers always win: another client may share the credential).

    Pacing: `burst_share` of a window's calls may go at once; after that call k of the window
    goes no earlier than `window_start + (k - burst) * window / limit`, so the calls spread
    evenly to the window's end and the next window opens with its own burst (prawcore's
    courtesy; 1.0 = go flat out and stop only when nothing remains). Whatever the pacing says,
    no call is admitted once the window's count is used up: it waits for the reset.

    A call admitted in the window's last moments (`turn_margin`) may reach the platform after
    its window turned: it is counted in both, so the next window never gets one call too many.

    State: `limit`, `used` (the platform's count or our reservations, whichever is higher),
    `resets_at`, `confirmed` (the reset came from the platform, not our guess) and
    `straddling` (calls admitted within `turn_margin` of the reset).
    """

    name: str
    limit: float
    window: float
    burst_share: float = 1.0
    headers: WindowHeaders | None = None
    per_endpoint: bool = False  # X counts each endpoint separately

    def state_name(self, endpoint: str) -> str:
        return f"{self.name} {endpoint}" if self.per_endpoint else self.name

    def reserve(self, state: State | None, now: float, cost: int) -> tuple[State, Decision]:
        current = self._current(state, now)
        if current["used"] + cost > current["limit"]:
            return current, Wait(current["resets_at"], f"window '{self.name}' of {current['limit']:g} calls spent")
        burst = self.burst_share * current["limit"]
        start = current["resets_at"] - self.window
        slot = start + max(0.0, current["used"] - burst) * self.window / current["limit"]
        current["used"] += cost
        if max(now, slot) >= current["resets_at"] - self.turn_margin:
            # It may reach the platform after the window turned there: it counts in the next one too.
            current["straddling"] = current.get("straddling", 0.0) + cost
        return current, Admit(max(now, slot))

    @property
    def turn_margin(self) -> float:
        """How close to a window's end a call may land in the next window: resets are known to
        the whole second, and a call takes a moment to reach the platform (a quarter of a
        window at most, for the seconds-long windows of tests)."""
        return min(TURN_MARGIN, self.window / 4)

    def observe(self, state: State | None, headers: Mapping[str, str], now: float, outcome: Outcome, cost: int) -> State:
        current = self._current(state, now)
        if outcome is Outcome.NOT_SENT:
            current["used"] = max(0.0, current["used"] - cost)
            return current
        report = self.headers.read(headers, now) if self.headers else None
        if report is not None:
            self._learn(current, report, now)
        if outcome is Outcome.THROTTLED and (report is None or report.remaining <= 0):
            # The window is spent, whatever we counted. (A 429 whose headers still show calls
            # left is a short throttle: backing off is enough, no need to sit out the window.)
            current["used"] = max(current["used"], current["limit"])
        return current

    def count_unreserved(self, state: State | None, now: float, cost: int) -> State:
        """A call made without a reservation (another client of the credential) still counts."""
        current = self._current(state, now)
        current["used"] += cost
        return current

    def blocked_until(self, state: State | None, now: float) -> float | None:
        if state is None:
            return None
        current = self._current(state, now)
        return current["resets_at"] if current["used"] >= current["limit"] else None

    def headroom(self, state: State | None, now: float) -> tuple[float, float, float | None]:
        """(calls left, calls allowed, when the window resets) as known now."""
        if state is None:
            return float(self.limit), float(self.limit), None
        current = self._current(state, now)
        return max(0.0, current["limit"] - current["used"]), current["limit"], current["resets_at"]

    def _learn(self, current: State, report: WindowReport, now: float) -> None:
        if report.limit is not None and report.limit > 0:
            current["limit"] = report.limit
        elif report.remaining <= 0 and report.used > 0:
            current["limit"] = min(current["limit"], report.used)  # at most what was counted
        same_window = current["confirmed"] and abs(report.resets_at - current["resets_at"]) <= self.window / 2
        if same_window:
            # Our count includes calls still in flight; the platform's includes other clients'.
            current["used"] = max(current["used"], report.used)
            # Resets come in whole seconds rounded up, so each one bounds the true end from
            # above: the earliest seen is the closest.
            current["resets_at"] = min(current["resets_at"], report.resets_at)
        elif report.resets_at > now:  # a late answer from a window already over teaches nothing
            platform_is_ahead = current["confirmed"] and report.resets_at > current["resets_at"]
            # The platform's window turned before ours: its count is the new window's.
            current["used"] = report.used if platform_is_ahead else max(current["used"], report.used)
            current["resets_at"] = report.resets_at
            current["confirmed"] = True

    def _current(self, state: State | None, now: float) -> State:
        """A copy of the state with the window turned over if its reset has passed."""
        if state is None:
            return {"limit": float(self.limit), "used": 0.0, "resets_at": now + self.window, "confirmed": False}
        current = dict(state)
        if now >= current["resets_at"]:
            # Windows follow each other on the platform's grid: keep to it.
            turns = math.floor((now - current["resets_at"]) / self.window) + 1
            current["resets_at"] += turns * self.window
            straddling = current.pop("straddling", 0.0)
            current["used"] = straddling if turns == 1 else 0.0
        return current


# -- N calls in any span of a window's length --------------------------------------------------


@dataclass(frozen=True)
class SlidingWindow:
    """At most `limit` calls in any `window` seconds (TikTok: 600 a minute per endpoint, a
    one-minute sliding window, no rate-limit headers). A fixed window does not keep to this: it
    lets a full window's calls go on either side of its reset.

    State: `counts`, calls per whole second (`"<epoch second>": n`). A call is admitted when
    the seconds from `window` ago to now hold fewer than `limit - cost + 1`; the oldest second
    is counted whole, which can only overcount, so no span of `window` seconds ever holds more
    than `limit` calls. The state keeps at most `window + 1` entries; `window` is whole seconds.
    """

    name: str
    limit: int
    window: float
    per_endpoint: bool = False

    def state_name(self, endpoint: str) -> str:
        return f"{self.name} {endpoint}" if self.per_endpoint else self.name

    def reserve(self, state: State | None, now: float, cost: int) -> tuple[State, Decision]:
        current = self._current(state, now)
        counts = current["counts"]
        excess = sum(counts.values()) + cost - self.limit
        if excess > 0:
            # Wait until enough of the oldest seconds have left the window.
            dropped = 0
            for second in sorted(counts, key=int):
                dropped += counts[second]
                if dropped >= excess:
                    return current, Wait(int(second) + self.window + 1, f"sliding window '{self.name}' of {self.limit} calls spent")
        second = str(math.floor(now))
        counts[second] = counts.get(second, 0) + cost
        return current, Admit(now)

    def observe(self, state: State | None, headers: Mapping[str, str], now: float, outcome: Outcome, cost: int) -> State:
        current = self._current(state, now)
        counts = current["counts"]
        if outcome is Outcome.NOT_SENT:
            newest = max(counts, key=int, default=None)
            if newest is not None:
                counts[newest] -= cost
                if counts[newest] <= 0:
                    del counts[newest]
        # A 429 is left to the session's backoff: every process sharing the credential counts
        # here, so one means a client outside the store, and no header says for how long.
        return current

    def count_unreserved(self, state: State | None, now: float, cost: int) -> State:
        current = self._current(state, now)
        second = str(math.floor(now))
        current["counts"][second] = current["counts"].get(second, 0) + cost
        return current

    def blocked_until(self, state: State | None, now: float) -> float | None:
        if state is None:
            return None
        counts = self._current(state, now)["counts"]
        if sum(counts.values()) < self.limit:
            return None
        return min(int(second) for second in counts) + self.window + 1

    def headroom(self, state: State | None, now: float) -> tuple[float, float, float | None]:
        """(calls that may go now, the limit, when the oldest counted second leaves the window)."""
        counts = self._current(state, now)["counts"]
        oldest = min((int(second) for second in counts), default=None)
        return max(0.0, self.limit - sum(counts.values())), float(self.limit), None if oldest is None else oldest + self.window + 1

    def _current(self, state: State | None, now: float) -> State:
        """A copy of the state without the seconds that have left the window."""
        earliest = math.floor(now) - self.window
        counts = {s: n for s, n in ((state or {}).get("counts") or {}).items() if int(s) >= earliest and n > 0}
        return {"counts": counts}


# -- units or calls per day -------------------------------------------------------------------


@dataclass(frozen=True)
class DailyQuota:
    """`limit` units per day, reset at midnight in `zone` (YouTube: 10,000 units, Pacific;
    TikTok Research and LinkedIn: calls, UTC). Nothing is waited for: once spent (by our count
    or by the platform's refusal) every call fails fast until the reset.

    State: `day` (ISO date in `zone`) and `used`.
    """

    name: str
    limit: int
    zone: tzinfo
    period = "daily"  # how refusals name the budget

    def state_name(self, endpoint: str) -> str:
        return self.name

    def day_of(self, now: float) -> date:
        return datetime.fromtimestamp(now, self.zone).date()

    def next_reset(self, now: float) -> float:
        """The next midnight in `zone`, as epoch seconds (a 23- or 25-hour day around DST)."""
        return datetime.combine(self.day_of(now) + timedelta(days=1), time.min, self.zone).timestamp()

    def reserve(self, state: State | None, now: float, cost: int) -> tuple[State, Decision]:
        current = self._current(state, now)
        if current["used"] + cost > self.limit:
            spent = f"{self.period} quota '{self.name}' of {self.limit:,} spent ({current['used']:,} used)"
            return current, Exhausted(self.next_reset(now), spent, self.zone)
        current["used"] += cost
        return current, Admit(now)

    def observe(self, state: State | None, headers: Mapping[str, str], now: float, outcome: Outcome, cost: int) -> State:
        current = self._current(state, now)
        if outcome is Outcome.NOT_SENT:
            current["used"] = max(0, current["used"] - cost)
        elif outcome is Outcome.QUOTA:
            current["used"] = max(current["used"], self.limit)  # the platform says so
        return current

    def count_unreserved(self, state: State | None, now: float, cost: int) -> State:
        current = self._current(state, now)
        current["used"] += cost
        return current

    def blocked_until(self, state: State | None, now: float) -> float | None:
        if state is None:
            return None
        return self.next_reset(now) if self._current(state, now)["used"] >= self.limit else None

    def headroom(self, state: State | None, now: float) -> tuple[float, float, float | None]:
        """(units left today, units a day, the next reset)."""
        return max(0, self.limit - self._current(state, now)["used"]), self.limit, self.next_reset(now)

    def _current(self, state: State | None, now: float) -> State:
        today = self.day_of(now).isoformat()
        if state is None or state.get("day") != today:
            return {"day": today, "used": 0}
        return dict(state)


@dataclass(frozen=True)
class MonthlyQuota(DailyQuota):
    """`limit` units per calendar month, reset at midnight on the 1st in `zone` (X's monthly
    post-read cap). The state's `day` is the first day of the month it counts."""

    period = "monthly"

    def day_of(self, now: float) -> date:
        return datetime.fromtimestamp(now, self.zone).date().replace(day=1)

    def next_reset(self, now: float) -> float:
        first = self.day_of(now)
        following = first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
        return datetime.combine(following, time.min, self.zone).timestamp()


# -- percentages of an unpublished limit ------------------------------------------------------


@dataclass(frozen=True)
class UsageShare:
    """Graph API limits: the platform says how much of a rolling limit is used, in percent
    (`X-App-Usage: {"call_count": 28, "total_cputime": 25, "total_time": 25}`, and per business
    object in `X-Business-Use-Case-Usage` with `estimated_time_to_regain_access` in minutes),
    never how many calls that is. The highest percentage counts.

    Below `slow_at` percent calls go at once. From there the calls left, estimated as
    `calls_per_window` times the share left, are spread over the window. At 100 %, or when the
    platform names a time to regain access, nothing goes until then (`throttled_pause` when it
    names none, or when a throttle comes with no usage reported).

    State: `used_pct`, `next_at` (the paced slot), `blocked_until`.
    """

    name: str
    calls_per_window: float
    window: float = 3600.0
    slow_at: float = 80.0
    throttled_pause: float = 300.0
    headers: tuple[str, ...] = ("x-app-usage", "x-business-use-case-usage", "x-page-usage")

    def state_name(self, endpoint: str) -> str:
        return self.name

    def reserve(self, state: State | None, now: float, cost: int) -> tuple[State, Decision]:
        current = dict(state or {"used_pct": 0.0, "next_at": 0.0, "blocked_until": 0.0})
        if now < current["blocked_until"]:
            return current, Wait(current["blocked_until"], f"'{self.name}' usage at {current['used_pct']:g} %")
        slot = max(now, current["next_at"])
        current["next_at"] = slot + cost * self.spacing(current["used_pct"])
        return current, Admit(slot)

    def spacing(self, used_pct: float) -> float:
        """Seconds between calls at this usage."""
        if used_pct < self.slow_at:
            return 0.0
        calls_left = self.calls_per_window * max(0.0, 100.0 - used_pct) / 100.0
        return self.window / max(1.0, calls_left)

    def observe(self, state: State | None, headers: Mapping[str, str], now: float, outcome: Outcome, cost: int) -> State:
        current = dict(state or {"used_pct": 0.0, "next_at": 0.0, "blocked_until": 0.0})
        entries = [entry for name in self.headers for entry in _usage_entries(headers.get(name))]
        if entries:
            current["used_pct"] = max(
                float(entry.get(field) or 0) for entry in entries for field in ("call_count", "total_cputime", "total_time")
            )
        regain_minutes = max((float(e.get("estimated_time_to_regain_access") or 0) for e in entries), default=0.0)
        if regain_minutes > 0:
            current["blocked_until"] = max(current["blocked_until"], now + regain_minutes * 60)
        # A throttle answered with usage below 100 % and no time to regain access is a short
        # throttle: backing off is enough. Without usage headers the pause is a guess.
        elif current["used_pct"] >= 100 or (outcome is Outcome.THROTTLED and not entries):
            current["blocked_until"] = max(current["blocked_until"], now + self.throttled_pause)
        return current

    def count_unreserved(self, state: State | None, now: float, cost: int) -> State:
        return dict(state or {"used_pct": 0.0, "next_at": 0.0, "blocked_until": 0.0})

    def blocked_until(self, state: State | None, now: float) -> float | None:
        if state is None or state["blocked_until"] <= now:
            return None
        return state["blocked_until"]

    def headroom(self, state: State | None, now: float) -> tuple[float, float, float | None]:
        """(percent left, 100, when access comes back if blocked)."""
        if state is None:
            return 100.0, 100.0, None
        return max(0.0, 100.0 - state["used_pct"]), 100.0, self.blocked_until(state, now)


def _usage_entries(value: str | None) -> list[dict[str, Any]]:
    """The usage objects of one Graph header: X-App-Usage is one object, X-Business-Use-Case-Usage
    maps business object ids to lists of them."""
    if not value:
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        return []
    if not isinstance(parsed, dict):
        return []
    if any(key in parsed for key in ("call_count", "total_cputime", "total_time")):
        return [parsed]
    return [entry for entries in parsed.values() if isinstance(entries, list) for entry in entries if isinstance(entry, dict)]


Kind = Union[WindowLimit, SlidingWindow, DailyQuota, MonthlyQuota, UsageShare]
