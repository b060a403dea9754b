"""X API v2 as the seam sees it: where it is, how it authenticates, its limits and errors, what
it can give, and what a source of it is.

Auth, in order of preference: an app-only bearer token (`X_BEARER_TOKEN`), or user-context
OAuth 2.0 whose refresh token rotates on every use (`X_CLIENT_ID`, `X_CLIENT_SECRET`,
`X_REFRESH_TOKEN`; the rotated token is kept sealed in the limit store, see
`core.limits.tokens`).

Limits (PLATFORMS.md §3): 15-minute windows counted per endpoint, reported in
`x-rate-limit-limit/-remaining/-reset` with the reset as an absolute epoch second; 300 calls is
the default until the headers say (the smallest published value of the endpoints read here).
Besides, a monthly post-read cap: counted here in calls of up to `PAGE_SIZE` posts (an upper
bound of the posts read), and spent for the month when X answers 429 `usage-capped`. ⚠ X
resets the cap on the account's billing day; it is taken as the 1st of the month, UTC.
"""

from __future__ import annotations

import re
from datetime import timezone
from typing import Any

import httpx
from pydantic import field_validator

from social_assets.core.api import ApiSpec, Auth, AuthKind, Capabilities
from social_assets.core.errors import Envelope, ErrorKind, ErrorTable, rule
from social_assets.core.limits import LimitPolicy, MonthlyQuota, WindowHeaders, WindowLimit
from social_assets.platforms.base import SourceConfig

PLATFORM = "x"
API_BASE = "https://api.x.com"
TOKEN_URL = "https://api.x.com/2/oauth2/token"
BEARER_VARIABLE = "X_BEARER_TOKEN"
USER_CONTEXT_VARIABLES = ("X_CLIENT_ID", "X_CLIENT_SECRET", "X_REFRESH_TOKEN")
PAGE_SIZE = 100  # the most posts a timeline, search or lookup call returns
MONTHLY_POST_READS = 3_000_000  # the reported pay-per-use cap
WINDOW_CALLS, WINDOW_SECONDS = 300, 900

_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")


class XSource(SourceConfig):
    """One account by its username, e.g. `{user: XDevelopers}` (account_id `@XDevelopers`)."""

    user: str

    @field_validator("user")
    @classmethod
    def _username(cls, value: str) -> str:
        name = value.removeprefix("@")
        if not _USERNAME.match(name):
            raise ValueError(f"X username {value!r} is not valid: 1 to 15 letters, digits or '_'")
        return name

    @property
    def account_id(self) -> str:
        return f"@{self.user}"


def endpoint_of(method: str, url: str) -> str:
    """`GET /2/users/{id}/tweets`: ids and usernames out of the path, so each endpoint has one
    window and one breaker, as X counts them."""
    parts = [p for p in httpx.URL(url).path.split("/") if p]
    named = ["{username}" if i and parts[i - 1] == "username" else "{id}" if p.isdigit() else p for i, p in enumerate(parts)]
    return f"{method} /" + "/".join(named)


RATE_LIMIT_HEADERS = WindowHeaders(
    limit="x-rate-limit-limit", remaining="x-rate-limit-remaining", reset="x-rate-limit-reset", reset_is_epoch=True
)
LIMITS = LimitPolicy(
    platform=PLATFORM,
    limits=(
        WindowLimit("calls", limit=WINDOW_CALLS, window=WINDOW_SECONDS, headers=RATE_LIMIT_HEADERS, per_endpoint=True),
        MonthlyQuota("post reads (calls of up to 100 posts)", MONTHLY_POST_READS // PAGE_SIZE, timezone.utc),
    ),
    endpoint=endpoint_of,
)


def envelope(body: Any) -> Envelope | None:
    """X's request errors: problem JSON `{"title", "detail", "type", "status"}` (the type's
    last segment is the code: `usage-capped`, `invalid-request`), or a bare
    `{"errors": [{"code": 88, "message": ...}]}`. A 200's item errors are not envelopes."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("title"), str) or isinstance(body.get("type"), str):
        kind = str(body.get("type") or "")
        code = kind.rsplit("/", 1)[-1] if "/" in kind else None
        title = str(body.get("title") or "")
        detail = str(body.get("detail") or "")
        message = f"{title}: {detail}" if detail and detail != title else title or detail
        return Envelope(code=code, reasons=frozenset([title]) if title else frozenset(), message=message)
    errors = body.get("errors")
    if "data" not in body and isinstance(errors, list) and errors and isinstance(errors[0], dict) and "code" in errors[0]:
        return Envelope(code=str(errors[0]["code"]), message=str(errors[0].get("message") or ""))
    return None


ERRORS = ErrorTable(
    envelope=envelope,
    rules=(
        # The monthly cap: `{"title": "UsageCapExceeded", "type": ".../problems/usage-capped"}`.
        rule(ErrorKind.QUOTA, statuses=[429], codes=["usage-capped"]),
        rule(ErrorKind.QUOTA, statuses=[429], reasons=["UsageCapExceeded"]),
    ),
)

API = ApiSpec(
    base_url=API_BASE,
    auth=(
        Auth(AuthKind.BEARER, (BEARER_VARIABLE,)),
        Auth(AuthKind.REFRESH_TOKEN, USER_CONTEXT_VARIABLES, token_url=TOKEN_URL),
    ),
    limits=LIMITS,
    errors=ERRORS,
)

# Replies come from a whole conversation, at any depth; the refresh looks up 100 posts a call.
CAPABILITIES = Capabilities(comments=True, max_depth=None, sorts=(), batch_lookup=PAGE_SIZE)
