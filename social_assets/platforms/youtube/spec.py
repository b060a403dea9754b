"""YouTube Data API v3 as the seam sees it: an API key (the `key` query parameter, never recorded),
a daily quota of units, Google's error envelope, and channels as sources.

The quota (10,000 units a project a day; 1 a list call, failed ones included; search 100) is
counted in the limiter's shared store per key; once spent, calls fail fast until midnight Pacific.
`rateLimitExceeded` is short-term throttling, retried with backoff.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
from pydantic import field_validator

from social_assets.core.api import ApiSpec, Auth, AuthKind, Capabilities
from social_assets.core.errors import Envelope, ErrorKind, ErrorTable, rule
from social_assets.core.limits import DailyQuota, LimitPolicy
from social_assets.platforms.base import SourceConfig

PLATFORM = "youtube"
BASE_URL = "https://www.googleapis.com/youtube/v3"
API_KEY_VARIABLE = "YOUTUBE_API_KEY"
CHANNEL_ID_PATTERN = re.compile(r"^UC[0-9A-Za-z_-]{22}$")
DAILY_QUOTA_UNITS = 10_000
QUOTA_TIME_ZONE = ZoneInfo("America/Los_Angeles")  # the quota resets at midnight Pacific
LISTING_PAGE_SIZE = 50  # the most playlistItems and videos (by id) one call returns
# Units per call where not 1 (determine_quota_cost). The walk uses only 1-unit lists.
METHOD_UNITS = {"search": 100, "captions": 50}
COMMENT_ORDERS = ("time", "relevance")  # commentThreads `order`

# Reasons in Google's error envelope (PLATFORMS.md §2).
AUTH_REASONS = frozenset(
    {"keyInvalid", "keyExpired", "forbidden", "accessNotConfigured", "ipRefererBlocked", "API_KEY_INVALID"}
)
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
THROTTLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
# A video or thread that cannot have comments (disabled, or deleted since we listed it).
NO_COMMENT_REASONS = frozenset({"commentsDisabled", "videoNotFound", "commentNotFound"})


class YouTubeSource(SourceConfig):
    """A channel to collect, by channel id (`UC` + 22 characters; handles are not stable ids)."""

    channel: str
    sort: Literal["time", "relevance"] | None = None  # the commentThreads `order`
    comment_depth: int = 1  # threads and their replies: the two levels YouTube has

    @field_validator("channel")
    @classmethod
    def _must_be_channel_id(cls, value: str) -> str:
        if not CHANNEL_ID_PATTERN.match(value):
            hint = " (that is a handle; use the channel id it resolves to)" if value.startswith("@") else ""
            raise ValueError(
                f"channel {value!r} is not a YouTube channel id: expected 'UC' followed by 22 "
                f"characters of A-Z, a-z, 0-9, '_' or '-'{hint}"
            )
        return value

    @property
    def account_id(self) -> str:
        return self.channel


DAILY_QUOTA = DailyQuota("units", DAILY_QUOTA_UNITS, QUOTA_TIME_ZONE)
LIMITS = LimitPolicy(
    platform=PLATFORM,
    limits=(DAILY_QUOTA,),
    cost=lambda endpoint: METHOD_UNITS.get(endpoint.split(" ", 1)[-1], 1),
    endpoint=lambda method, url: f"{method} {httpx.URL(url).path.rsplit('/', 1)[-1]}",  # "GET videos"
)


def envelope(body: Any) -> Envelope | None:
    """Google's `{"error": {"code": 403, "message": ..., "errors": [{"reason": ...}]}}`, or its
    OAuth endpoints' `{"error": "invalid_grant", "error_description": ...}` (no code, no reasons)."""
    if not isinstance(body, dict) or "error" not in body:
        return None
    error = body["error"]
    if not isinstance(error, dict):
        return Envelope(message=str(body.get("error_description") or error))
    reasons = frozenset(e["reason"] for e in error.get("errors") or [] if isinstance(e, dict) and isinstance(e.get("reason"), str))
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    return Envelope(code=str(error.get("code")), reasons=reasons, message=message)


ERRORS = ErrorTable(
    envelope=envelope,
    rules=(
        rule(ErrorKind.QUOTA, statuses=[403], reasons=QUOTA_REASONS),
        rule(ErrorKind.THROTTLED, statuses=[403, 429], reasons=THROTTLE_REASONS),
        rule(ErrorKind.AUTH, statuses=[400, 401, 403], reasons=AUTH_REASONS),
        rule(ErrorKind.NOT_FOUND, statuses=[403, 404], reasons=NO_COMMENT_REASONS),
    ),
)

# -- YouTube Analytics API v2: past subscriber counts, where a channel authorized it ----------
# (see `analytics.py`). ⚠ Decision `ANALYTICS_TOKEN_ENDPOINT`: PLATFORMS.md §2 names the OAuth2
# scope (yt-analytics.readonly) but not the token endpoint; Google's refresh is a form POST to
# `ANALYTICS_TOKEN_URL` with the client id and secret in the form, and does not rotate the token.
ANALYTICS = "analytics"  # the companion API's name
ANALYTICS_BASE_URL = "https://youtubeanalytics.googleapis.com/v2"
ANALYTICS_TOKEN_URL = "https://oauth2.googleapis.com/token"
ANALYTICS_VARIABLES = ("YOUTUBE_CLIENT_ID", "YOUTUBE_CLIENT_SECRET", "YOUTUBE_REFRESH_TOKEN")
# ⚠ The Analytics API's own quota is not in PLATFORMS.md ("n/a"): its calls are not counted as
# Data API units (cost 0), and one call a source a day stays far below any daily limit.
ANALYTICS_API = ApiSpec(
    base_url=ANALYTICS_BASE_URL,
    auth=(Auth(AuthKind.REFRESH_TOKEN, ANALYTICS_VARIABLES, token_url=ANALYTICS_TOKEN_URL, client_auth="form"),),
    limits=LimitPolicy(platform=PLATFORM, limits=(), cost=lambda endpoint: 0),
    errors=ERRORS,
)

API = ApiSpec(
    base_url=BASE_URL,
    auth=(Auth(AuthKind.API_KEY, (API_KEY_VARIABLE,), param="key"),),
    limits=LIMITS,
    errors=ERRORS,
    companions={ANALYTICS: ANALYTICS_API},
)

CAPABILITIES = Capabilities(comments=True, max_depth=1, sorts=COMMENT_ORDERS, batch_lookup=LISTING_PAGE_SIZE)
