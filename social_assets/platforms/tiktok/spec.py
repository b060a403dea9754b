"""TikTok as the seam sees it (PLATFORMS.md §6): two APIs on one host, each with its own
credentials, limits and errors.

- **Display API v2** (`API`), for accounts that authorized the app: profile, videos, the
  metrics refresh. OAuth 2.0 with a refresh token that rotates on every use (`TIKTOK_CLIENT_KEY`,
  `TIKTOK_CLIENT_SECRET`, `TIKTOK_REFRESH_TOKEN`; the client proves itself with `client_key` and
  `client_secret` in the form). The newest refresh token is kept sealed in the limit store and
  shared by every process (`core.limits.tokens`: one process refreshes at a time, so a
  refresh token is never spent twice). Limits: 600 requests a minute per endpoint, a sliding
  window, no headers.
- **Research API** (`RESEARCH_API`, the companion `research`): comments and their replies,
  with a client-credentials token (`TIKTOK_RESEARCH_CLIENT_KEY`, `TIKTOK_RESEARCH_CLIENT_SECRET`).
  A daily quota of 1,000 requests and 100,000 records, reset at 00:00 UTC and shared by every
  process: once spent, TikTok comments pause until the reset.

Errors: every answer is `{"data": ..., "error": {"code", "message", "log_id"}}`, and success is
`error.code == "ok"`: a non-ok code is an error even on HTTP 200, decided by the code.

Decisions on what the documentation leaves open (each tested in
`social_assets_tests/platforms/tiktok/`):
- `OK_NEEDS_2XX`: "ok" on an HTTP error status is still an error (by its status): a body a
  proxy or gateway answered cannot vouch for itself.
- `UNKNOWN_CODE_ON_2XX`: a non-ok code the table does not know, on a 2xx, is an invalid
  request (not retried), with the code in the message.
- `RESEARCH_QUOTA_IN_REQUESTS`: records are never more than 100 per request (`max_count` is at
  most 100), so 1,000 requests can never read more than 100,000 records: the request quota
  alone keeps both. TikTok's refusal `daily_quota_limit_exceeded` (⚠ code name from the FAQ)
  spends it too.
- `TOKEN_LIFETIMES`: the docs disagree (access 24 h and refresh 365 days, or 2 h and 180
  days): the lifetimes TikTok sends (`expires_in`) are used, never a constant.
"""

from __future__ import annotations

import os
import re
from datetime import timezone
from typing import Any

from pydantic import field_validator

from social_assets.core.api import ApiSpec, Auth, AuthKind, Capabilities
from social_assets.core.errors import Envelope, ErrorKind, ErrorTable, rule
from social_assets.core.limits import DailyQuota, LimitPolicy, SlidingWindow
from social_assets.platforms.base import SourceConfig

PLATFORM = "tiktok"
API_BASE = "https://open.tiktokapis.com"
TOKEN_URL = f"{API_BASE}/v2/oauth/token/"
DISPLAY_VARIABLES = ("TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET", "TIKTOK_REFRESH_TOKEN")
RESEARCH_VARIABLES = ("TIKTOK_RESEARCH_CLIENT_KEY", "TIKTOK_RESEARCH_CLIENT_SECRET")
RESEARCH = "research"  # the companion API's name

PAGE_SIZE = 20  # video/list `max_count` and video/query ids: at most 20
RESEARCH_PAGE_SIZE = 100  # research `max_count`: at most 100
CALLS_PER_MINUTE = 600
RESEARCH_DAILY_REQUESTS = 1_000
RESEARCH_DAILY_RECORDS = 100_000
OK = "ok"

_USERNAME = re.compile(r"^[A-Za-z0-9_.]{2,24}$")


class TikTokSource(SourceConfig):
    """One account that authorized the app, by its username: `{account: brand_official}`
    (account_id `@brand_official`). The Display API reads the account whose refresh token the
    source's credentials hold; the walk checks that it is this one."""

    account: str

    @field_validator("account")
    @classmethod
    def _username(cls, value: str) -> str:
        name = value.removeprefix("@")
        if not _USERNAME.match(name):
            raise ValueError(f"TikTok username {value!r} is not valid: 2 to 24 letters, digits, '_' or '.'")
        return name

    @property
    def account_id(self) -> str:
        return f"@{self.account.lower()}"


def comments_unavailable(source: TikTokSource) -> str | None:
    """Why the source can have no comments: in live mode, Research credentials it lacks."""
    from social_assets.connections import api_mode  # connections imports the platforms

    if api_mode(PLATFORM) != "live":
        return None  # the sandbox issues its own Research credentials
    variables = [source.credentials.get(name, name) for name in RESEARCH_VARIABLES]
    missing = [name for name in variables if not os.environ.get(name)]
    if not missing:
        return None
    return (f"TikTok gives comments only through its Research API (the Display API has none); "
            f"set {' and '.join(missing)} (Research API client credentials) to collect them")


def envelope(body: Any) -> Envelope | None:
    """TikTok's `error` object, None when its code is "ok"; an OAuth endpoint's
    `{"error": "<code>", "error_description"}` too."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return Envelope(code=error, message=str(body.get("error_description") or ""))
    if not isinstance(error, dict) or not isinstance(error.get("code"), str) or error["code"] == OK:
        return None
    return Envelope(code=error["code"], message=str(error.get("message") or ""))


_2XX = range(200, 300)
ERRORS = ErrorTable(
    envelope=envelope,
    rules=(
        rule(ErrorKind.AUTH, codes=["access_token_invalid", "invalid_grant", "invalid_client"]),
        rule(ErrorKind.PERMISSION, codes=["scope_not_authorized", "scope_permission_missed"]),
        rule(ErrorKind.INVALID, codes=["invalid_params", "invalid_request"]),
        rule(ErrorKind.THROTTLED, codes=["rate_limit_exceeded"]),
        rule(ErrorKind.QUOTA, codes=["daily_quota_limit_exceeded"]),
        rule(ErrorKind.TRANSIENT, codes=["internal_error"]),
        # UNKNOWN_CODE_ON_2XX: a code we do not know, on a 2xx, is not a success.
        rule(ErrorKind.INVALID, statuses=_2XX),
    ),
)

LIMITS = LimitPolicy(
    platform=PLATFORM,
    limits=(SlidingWindow("requests per minute", CALLS_PER_MINUTE, 60, per_endpoint=True),),
)
RESEARCH_LIMITS = LimitPolicy(
    platform=PLATFORM,
    # RESEARCH_QUOTA_IN_REQUESTS: 1,000 requests of at most 100 records keep the 100,000 records.
    limits=(DailyQuota("research requests", RESEARCH_DAILY_REQUESTS, timezone.utc),),
)

RESEARCH_API = ApiSpec(
    base_url=API_BASE,
    auth=(Auth(AuthKind.CLIENT_CREDENTIALS, RESEARCH_VARIABLES, token_url=TOKEN_URL, client_auth="form",
               client_id_field="client_key"),),
    limits=RESEARCH_LIMITS,
    errors=ERRORS,
)

API = ApiSpec(
    base_url=API_BASE,
    auth=(Auth(AuthKind.REFRESH_TOKEN, DISPLAY_VARIABLES, token_url=TOKEN_URL, client_auth="form",
               client_id_field="client_key"),),
    limits=LIMITS,
    errors=ERRORS,
    companions={RESEARCH: RESEARCH_API},
)

# TikTok threads are two levels: a comment and its replies (a reply to a reply joins the thread).
CAPABILITIES = Capabilities(comments=True, max_depth=1, sorts=(), batch_lookup=PAGE_SIZE)
