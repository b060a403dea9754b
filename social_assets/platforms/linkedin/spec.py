"""LinkedIn's Community Management API (organization pages) as the seam sees it (PLATFORMS.md §7).

Every request carries `LinkedIn-Version` (`VERSION`, pinned here; `LINKEDIN_VERSION` overrides it:
versions sunset about a year after release) and `X-Restli-Protocol-Version: 2.0.0`.

Auth, in order of preference: a refresh token where the app has programmatic refresh (the
client proves itself in the form), else the 60-day member access token as is. A refresh token
lives 365 days from the first authorization, and refreshing does not extend it: a source may
say when its token expires (`token_expires_on`) so `health` warns before.

Limits: daily, per application and per member, reset at midnight UTC, unpublished and sent in no
header. So our own calls are counted against a daily budget per credential
(`LINKEDIN_DAILY_CALL_BUDGET`), shared by every process through the limiter's store. ⚠ Decision
`PAUSE_AFTER_429S`: LinkedIn also answers 429 for "infrastructure protection", so one 429 is
retried like any throttle; 429s that keep coming (that many in a row, across processes) mean the
day's limit is spent, and LinkedIn is paused until the next midnight UTC in every process.

Errors: `{"message", "serviceErrorCode", "status"}` (+ `"code"` lately); statuses decide.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, timezone
from typing import Any, Mapping
from urllib.parse import quote

import httpx
from pydantic import field_validator

from social_assets.core.api import ApiSpec, Auth, AuthKind, Capabilities
from social_assets.core.errors import Envelope, ErrorTable, Outcome
from social_assets.core.limits import DailyQuota, LimitPolicy
from social_assets.platforms.base import SourceConfig

PLATFORM = "linkedin"
BASE_URL = "https://api.linkedin.com/rest"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
VERSION_VARIABLE = "LINKEDIN_VERSION"
VERSION = os.environ.get(VERSION_VARIABLE) or "202610"  # YYYYMM; the one place it is pinned
HEADERS = {"LinkedIn-Version": VERSION, "X-Restli-Protocol-Version": "2.0.0"}
ACCESS_TOKEN_VARIABLE = "LINKEDIN_ACCESS_TOKEN"
REFRESH_VARIABLES = ("LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET", "LINKEDIN_REFRESH_TOKEN")
ACCESS_TOKEN_DAYS, REFRESH_TOKEN_DAYS = 60, 365
EXPIRY_WARNING_DAYS = 14  # `health` warns this long before a token expires

BUDGET_VARIABLE = "LINKEDIN_DAILY_CALL_BUDGET"
# ⚠ LinkedIn publishes no numbers (Developer Portal -> app -> Analytics shows them per app); a
# guess that leaves room for the hourly refresh of a few pages. Configure it to the app's figure.
DEFAULT_DAILY_CALL_BUDGET = 2_000
PAUSE_AFTER_429S = 4  # more than a short burst of throttling (the sandbox's bursts are 1-3)

PAGE_SIZE = 50  # ⚠ posts/comments `count`: the docs do not agree on the maximum (100?); 50 is safe
BATCH_SIZE = 20  # URNs per socialMetadata / share statistics / posts batch, to keep URLs short

_ORGANIZATION = re.compile(r"^(?:urn:li:organization:)?(\d{1,19})$")


class LinkedInSource(SourceConfig):
    """An organization page by its id or URN, e.g. `{organization: 2414183}` (account_id
    `urn:li:organization:2414183`)."""

    organization: str
    comment_depth: int = 1  # comments and their replies: the two levels LinkedIn shows
    # When the refresh token (or, without one, the access token) expires: `health` warns
    # `EXPIRY_WARNING_DAYS` before. LinkedIn gives it with the token (`refresh_token_expires_in`).
    token_expires_on: date | None = None

    @field_validator("organization", mode="before")
    @classmethod
    def _organization_urn(cls, value: Any) -> str:
        match = _ORGANIZATION.match(str(value).strip())
        if not match:
            raise ValueError(f"LinkedIn organization {value!r} is not valid: expected its numeric id or "
                             "'urn:li:organization:<id>'")
        return f"urn:li:organization:{match[1]}"

    @property
    def account_id(self) -> str:
        return self.organization

    def token_expiry(self, today: date) -> tuple[str, bool] | None:
        """What `health` says about this source's token, and whether it has expired (None:
        nothing to say)."""
        if self.token_expires_on is None:
            return None
        days = (self.token_expires_on - today).days
        if days < 0:
            return f"linkedin source {self.account_id}: its token expired on {self.token_expires_on}; authorize again", True
        if days <= EXPIRY_WARNING_DAYS:
            return (f"linkedin source {self.account_id}: its token expires on {self.token_expires_on} "
                    f"(in {days} days); authorize again before then"), False
        return None


def encode(value: str) -> str:
    """A URN (or any value) for a path or query: every reserved character encoded."""
    return quote(value, safe="")


def restli_list(values: list[str]) -> str:
    """Rest.li 2.0 `List(a,b)`: the items encoded, the syntax not."""
    return f"List({','.join(encode(v) for v in values)})"


def restli_query(params: Mapping[str, str | list[str]]) -> str:
    """A query string in Rest.li 2.0 encoding: lists as `List(...)`, values already in Rest.li
    syntax (starting with `(`) kept, every other value encoded."""
    def one(value: str | list[str]) -> str:
        if isinstance(value, list):
            return restli_list(value)
        return value if value.startswith("(") else encode(value)

    return "&".join(f"{name}={one(value)}" for name, value in params.items())


def daily_budget(environ: Mapping[str, str] = os.environ) -> int:
    raw = environ.get(BUDGET_VARIABLE)
    if not raw:
        return DEFAULT_DAILY_CALL_BUDGET
    try:
        budget = int(raw)
    except ValueError:
        budget = 0
    if budget <= 0:
        raise ValueError(f"{BUDGET_VARIABLE}={raw!r} is not a number of calls a day (a positive integer)")
    return budget


@dataclass(frozen=True)
class DailyCallBudget(DailyQuota):
    """Our calls counted against a daily budget (the quota), and the 429 rule of the module
    docstring: `pause_after` throttles in a row spend the day; any other answer resets the run."""

    pause_after: int = PAUSE_AFTER_429S

    def observe(self, state: dict | None, headers: Mapping[str, str], now: float, outcome: Outcome, cost: int) -> dict:
        current = super().observe(state, headers, now, outcome, cost)
        if outcome is Outcome.THROTTLED:
            current["throttled_in_a_row"] = current.get("throttled_in_a_row", 0) + 1
            if current["throttled_in_a_row"] >= self.pause_after:
                current["used"] = max(current["used"], self.limit)
        elif outcome is not Outcome.NOT_SENT:
            current["throttled_in_a_row"] = 0
        return current


_URN_IN_PATH = re.compile(r"/urn(?:%3A|:)[^/]+")


def endpoint_of(method: str, url: str) -> str:
    """`GET /rest/socialActions/{urn}/comments`: URNs out of the path, one breaker an endpoint."""
    return f"{method} {_URN_IN_PATH.sub('/{urn}', httpx.URL(url).raw_path.decode().split('?')[0])}"


LIMITS = LimitPolicy(
    platform=PLATFORM,
    limits=(DailyCallBudget("calls (our count; LinkedIn's limits are unpublished)", daily_budget(), timezone.utc),),
    endpoint=endpoint_of,
)


def envelope(body: Any) -> Envelope | None:
    """`{"message": "...", "serviceErrorCode": 65601, "status": 401}` (+ `"code"` lately)."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), str) or "status" not in body:
        return None
    code = body.get("serviceErrorCode")
    return Envelope(code=str(code) if code is not None else None, subcode=body.get("code"), message=body["message"])


API = ApiSpec(
    base_url=BASE_URL,
    auth=(
        Auth(AuthKind.REFRESH_TOKEN, REFRESH_VARIABLES, token_url=TOKEN_URL, client_auth="form"),
        Auth(AuthKind.BEARER, (ACCESS_TOKEN_VARIABLE,)),
    ),
    limits=LIMITS,
    errors=ErrorTable(envelope=envelope),  # statuses decide; 429 is a throttle (see the module docstring)
    headers=HEADERS,
)

# Comments and their replies (one level below); no sort parameter; 20 URNs per metrics batch.
CAPABILITIES = Capabilities(comments=True, max_depth=1, sorts=(), batch_lookup=BATCH_SIZE)
