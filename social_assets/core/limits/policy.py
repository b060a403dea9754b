"""What a platform declares about its limits, in its own folder: one `LimitPolicy`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import httpx

from social_assets.core.limits.breaker import BreakerRule
from social_assets.core.limits.kinds import Kind


def path_endpoint(method: str, url: str) -> str:
    """The default endpoint name: method and path. Platforms whose paths carry ids (Reddit's
    `/r/{name}/new`) name their endpoints themselves, so that limits and breakers stay few."""
    return f"{method} {httpx.URL(url).path}"


@dataclass(frozen=True)
class LimitPolicy:
    platform: str
    limits: tuple[Kind, ...]
    # Quota units a call of an endpoint costs (YouTube: search 100, most lists 1).
    cost: Callable[[str], int] = lambda endpoint: 1
    endpoint: Callable[[str, str], str] = path_endpoint
    # Which answers mean "slow down" or "quota spent" is the platform's error table (core.errors).
    breaker: BreakerRule = field(default_factory=BreakerRule)
    # A wait longer than this pauses the platform (QuotaExhaustedError) instead of sleeping.
    max_wait: float = 900.0
