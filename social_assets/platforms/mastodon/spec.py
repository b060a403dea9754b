"""Mastodon's API as the seam sees it. There is no central host: each source names its account
as `@user@instance`, and the instance is the API (`https://<instance>/api/v1`).

Auth: public statuses, accounts and threads need no token (AuthKind.NONE); a source may name a
token of its instance (`credentials: {MASTODON_ACCESS_TOKEN: FOSSTODON_TOKEN}`), sent as
`Authorization: Bearer`. With a token, a thread's context is complete (up to 4,096 statuses);
without one Mastodon gives logged-out readers at most 60 descendants, 20 levels deep.

Limits: 300 calls per 5 minutes per instance and per token (or per address without one),
reported in `X-RateLimit-Limit/-Remaining/-Reset` with the reset as an ISO 8601 timestamp
(PLATFORMS.md §10). Limits are kept per host by the seam, so spending one instance's window
never slows another. The reset is taken as the server gives it, without correcting for clock
skew from the `Date` header: a server clock that runs late costs at most one throttled retry.

Errors: `{"error": "<message>"}`; the text differs per endpoint, so the status decides.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from pydantic import field_validator

from social_assets.core.api import ApiSpec, Auth, AuthKind, Capabilities
from social_assets.core.errors import Envelope, ErrorTable
from social_assets.core.limits import LimitPolicy, WindowHeaders, WindowLimit
from social_assets.platforms.base import SourceConfig

PLATFORM = "mastodon"
DEFAULT_INSTANCE = "mastodon.social"  # only for a client without a source (no central host exists)
TOKEN_VARIABLE = "MASTODON_ACCESS_TOKEN"
STATUSES_PAGE = 40  # the most `accounts/:id/statuses` returns per page
BATCH_LOOKUP = 20  # ids per `GET /api/v1/statuses?id[]=` (Mastodon >= 4.3; DEFAULT_STATUSES_LIMIT)
_ACCOUNT = re.compile(r"^@?(?P<user>[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*)@(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$")
_NUMERIC_ID = re.compile(r"/\d+(?=/|$)")


class MastodonSource(SourceConfig):
    """An account on its instance, e.g. `{account: "@Gargron@mastodon.social"}`."""

    account: str

    @field_validator("account")
    @classmethod
    def _user_at_instance(cls, value: str) -> str:
        match = _ACCOUNT.match(value.strip())
        if not match:
            raise ValueError(
                f"Mastodon account {value!r} is not valid: expected '@user@instance', e.g. '@Gargron@mastodon.social'"
            )
        return f"@{match['user']}@{match['host'].lower()}"

    @property
    def username(self) -> str:
        return self.account.split("@")[1]

    @property
    def instance(self) -> str:
        return self.account.rsplit("@", 1)[1]

    @property
    def account_id(self) -> str:
        return self.account

    @property
    def base_url(self) -> str:
        return f"https://{self.instance}"


def endpoint_of(method: str, url: str) -> str:
    """Paths without their ids (`GET /api/v1/statuses/{id}/context`), so each endpoint has one
    breaker and a recorded URL and a sandbox URL name the same endpoint. The host is not part of
    it: limits are already kept per host."""
    return f"{method} {_NUMERIC_ID.sub('/{id}', httpx.URL(url).path)}"


RATE_LIMIT_HEADERS = WindowHeaders(
    limit="x-ratelimit-limit", remaining="x-ratelimit-remaining", reset="x-ratelimit-reset",
    reset_is_epoch=True, reset_is_iso=True,
)
LIMITS = LimitPolicy(
    platform=PLATFORM,
    # Half a window may go at once; the rest is spread to the reset.
    limits=(WindowLimit("calls", limit=300, window=300, burst_share=0.5, headers=RATE_LIMIT_HEADERS),),
    endpoint=endpoint_of,
)


def envelope(body: Any) -> Envelope | None:
    """`{"error": "Record not found"}` (and 422s with `details`)."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return Envelope(message=body["error"])
    return None


API = ApiSpec(
    base_url=f"https://{DEFAULT_INSTANCE}",
    # A token where the source has one, else anonymous public reads.
    auth=(Auth(AuthKind.BEARER, (TOKEN_VARIABLE,)), Auth(AuthKind.NONE)),
    limits=LIMITS,
    errors=ErrorTable(envelope=envelope),  # statuses decide: 401 auth, 404 gone, 429 throttled
)

CAPABILITIES = Capabilities(comments=True, max_depth=None, batch_lookup=BATCH_LOOKUP)
