"""Fault injection: a sandbox that fights back.

`SOCIAL_SANDBOX_FAULTS` picks a profile, read when the `Sandbox` is built:

- `none` (default): nothing is injected;
- `flaky`: about 10% of requests fail transiently;
- `storm`: about 37%: 429 bursts, 5xx, timeouts, dropped connections, truncated bodies,
  expired tokens, duplicate items across pages, a field renamed or missing.

Who does what:
- `FaultInjector.draw` (here) decides, per request, whether it gets a fault and which kind,
  from the kinds the platform says the request can show (`PlatformEmulation.fault_kinds`);
- the platform's emulation shapes it (`engine.Emulation.handle(request, fault)`): its own
  error envelopes and headers for 429/5xx/expired tokens, its own items for content faults.
  It reports what it really injected in `SandboxResponse.injected_fault` (it may decline,
  e.g. a truncated body on a 404, or any fault once the client is over its limit: real
  refusals always win);
- the router (`app.py`) delivers the wire faults: it raises the httpx error a network would
  (in process) or stalls / hangs up / cuts the body (served).

Injected faults are never charged against the platform's limits, so a client that retries
them is not pushed into real overuse; the request log tells the two apart.

Faults are transient, as in life: each request draws afresh from a seeded RNG, and a request
that failed `MAX_FAULTS_IN_A_ROW` times in a row (same method, URL and body) goes through, so
a client that retries at least that many times always gets its answer.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Collection
from pathlib import Path

PROFILE_VARIABLE = "SOCIAL_SANDBOX_FAULTS"
LOG_VARIABLE = "SOCIAL_SANDBOX_LOG"

# Chance that a request starts a fault. A 429 burst then refuses 1-2 more requests, which lifts
# the share of faulted requests to about 10.5% (flaky) and 37% (storm).
PROFILES = {"none": 0.0, "flaky": 0.09, "storm": 0.33}

RATE_LIMITED = "429_burst"
SERVER_ERROR = "5xx"
TIMEOUT = "timeout"
DROPPED_CONNECTION = "dropped_connection"
TRUNCATED_BODY = "truncated_body"
EXPIRED_TOKEN = "expired_token"
DUPLICATE_ITEMS = "duplicate_items"
FIELD_RENAMED = "field_renamed"
FIELD_MISSING = "field_missing"

FAULT_KINDS = (
    RATE_LIMITED, SERVER_ERROR, TIMEOUT, DROPPED_CONNECTION, TRUNCATED_BODY,
    EXPIRED_TOKEN, DUPLICATE_ITEMS, FIELD_RENAMED, FIELD_MISSING,
)
# Any request can meet these; the router delivers the last three itself.
GENERIC_FAULTS = frozenset({RATE_LIMITED, SERVER_ERROR, TIMEOUT, DROPPED_CONNECTION, TRUNCATED_BODY})
WIRE_FAULTS = frozenset({TIMEOUT, DROPPED_CONNECTION, TRUNCATED_BODY})
FIELD_FAULTS = frozenset({FIELD_RENAMED, FIELD_MISSING})

MAX_FAULTS_IN_A_ROW = 3
EXTRA_BURST_REFUSALS = (1, 2)  # after the first injected 429, this many more in a row


def profile_from(value: str | None) -> str:
    """The profile named by `value` (None or "" = `none`); a clear error for anything else."""
    name = (value or "none").strip().lower()
    if name not in PROFILES:
        raise ValueError(f"{PROFILE_VARIABLE}={value!r} is not a fault profile; use one of: {', '.join(PROFILES)}")
    return name


class FaultInjector:
    """Draws faults for one sandbox. Not thread-safe: the router calls it under its lock."""

    def __init__(self, profile: str = "none", seed: int = 0):
        self.profile = profile_from(profile)
        self.rate = PROFILES[self.profile]
        self.rng = random.Random(f"faults|{seed}")
        self._burst_left: dict[str, int] = {}  # platform -> injected 429s still to come
        # Platforms whose burst just ended: their next request gets no 429, so a burst is at
        # most 1 + max(EXTRA_BURST_REFUSALS) refusals in a row, as documented. Without the
        # gap, a fresh draw could extend it, and LinkedIn reads that many 429s in a row as its
        # daily limit spent (platforms/linkedin/spec.py, PAUSE_AFTER_429S).
        self._cooling: set[str] = set()
        self._in_a_row: dict[tuple, int] = {}  # request identity -> faults it met in a row

    def draw(self, platform: str, request_key: tuple, kinds: Collection[str]) -> str | None:
        """The fault this request should get, or None."""
        if not self.rate or not kinds:
            return None
        in_a_row = self._in_a_row.get(request_key, 0)
        if in_a_row >= MAX_FAULTS_IN_A_ROW:
            return None
        if self._burst_left.get(platform) and RATE_LIMITED in kinds:
            return RATE_LIMITED
        if self.rng.random() >= self.rate:
            return None
        # A token does not expire twice in a row: a refreshed token gets through.
        excluded = ({EXPIRED_TOKEN} if in_a_row else set()) | ({RATE_LIMITED} if platform in self._cooling else set())
        choices = sorted(set(kinds) - excluded)
        return self.rng.choice(choices) if choices else None

    def settle(self, platform: str, request_key: tuple, injected: str | None) -> None:
        """Record what the platform really injected (it may have declined the draw)."""
        if injected is None:
            self._in_a_row.pop(request_key, None)
        else:
            self._in_a_row[request_key] = self._in_a_row.get(request_key, 0) + 1
        if injected != RATE_LIMITED:
            self._burst_left.pop(platform, None)  # anything else ends a burst
            self._cooling.discard(platform)  # and is the gap after one
        elif platform not in self._burst_left:
            self._burst_left[platform] = self.rng.randint(*EXTRA_BURST_REFUSALS)  # a burst starts
        elif self._burst_left[platform] > 1:
            self._burst_left[platform] -= 1
        else:
            del self._burst_left[platform]
            self._cooling.add(platform)

    def cut(self, length: int) -> int:
        """Where to cut a body of `length` bytes: always short of the end, so JSON breaks."""
        return self.rng.randint(max(1, length // 4), max(1, length * 3 // 4)) if length > 1 else 0


def tamper(item: dict, path: tuple[str, ...], fault: str, renamed_to: str) -> bool:
    """Drop (`field_missing`) or rename (`field_renamed`) the field at `path` of one item,
    as a changed or broken API would. False if the item has no such field."""
    *parents, name = path
    for key in parents:
        item = item.get(key)
        if not isinstance(item, dict):
            return False
    if name not in item:
        return False
    value = item.pop(name)
    if fault == FIELD_RENAMED:
        item[renamed_to] = value
    return True


class RequestLog:
    """Appends one JSON line per served request. Each line is one `write` system call on a file
    opened with O_APPEND, so lines stay whole across server threads and processes sharing it."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def write(self, entry: dict) -> None:
        line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
