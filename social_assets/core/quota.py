"""A spent quota, explained in the platform's own words.

The limiter raises a bare `QuotaExhaustedError` (status, endpoint, reset time) for every
platform. A walk wraps its calls in `quota_explained` to re-raise it as its platform's subclass,
whose message says what the quota is and when to collect again (YouTube's daily units, X's
monthly post-read cap); one already explained passes through unchanged.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from social_assets.core.errors import QuotaExhaustedError


@contextmanager
def quota_explained(
    explained: type[QuotaExhaustedError], explain: Callable[[QuotaExhaustedError], QuotaExhaustedError] | None = None
) -> Iterator[None]:
    """Re-raise a `QuotaExhaustedError` as `explain(error)` (default: `explained(error)`),
    unless it already is an `explained`."""
    try:
        yield
    except explained:
        raise
    except QuotaExhaustedError as error:
        raise (explain or explained)(error) from error
