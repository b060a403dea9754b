"""Instagram (business and creator accounts) as the seam sees it: the Instagram API with
Instagram Login at `graph.instagram.com/<VERSION>` (PLATFORMS.md section 4), one long-lived
token per account.

Auth: the account's long-lived token (`INSTAGRAM_ACCESS_TOKEN`, or the source's own variable),
sent as `Authorization: Bearer`. It lives 60 days and is renewed through the GET refresh
(`refresh_access_token?grant_type=ig_refresh_token`), which only takes a token at least 24
hours old: the configured token is used as it is for its first `FIRST_REFRESH_AFTER`, then
renewed, and each renewed token is renewed again `RENEW_BEFORE` its expiry. The newest token is
kept sealed in the shared token store (`SOCIAL_LIMIT_STORE`), so every process and run uses it.
A token Graph refuses (code 190: expired, revoked, password changed) and that cannot be renewed
is a configuration error naming the source and its variable.

Limits and errors: the shared Graph layer (`platforms/graph/api.py`), counted per token.
"""

from __future__ import annotations

import re

import httpx
from pydantic import field_validator

from social_assets.core.api import ApiSpec, Auth, AuthKind, Capabilities
from social_assets.core.errors import AuthError, ErrorKind, TransientApiError
from social_assets.core.limits import TokenGrant
from social_assets.platforms.base import SourceConfig
from social_assets.platforms.graph.api import BATCH_IDS, ERRORS, INSTAGRAM_GRAPH, usage_limits

PLATFORM = "instagram"
TOKEN_VARIABLE = "INSTAGRAM_ACCESS_TOKEN"
REFRESH_URL = "https://graph.instagram.com/refresh_access_token"
FIRST_REFRESH_AFTER = 86400.0  # the refresh refuses tokens younger than 24 hours
RENEW_BEFORE = 7 * 86400.0  # renew a refreshed token a week before its 60 days are over
_USERNAME = re.compile(r"^[A-Za-z0-9._]{1,30}$")


class InstagramSource(SourceConfig):
    """One professional account by its username, e.g. `{user: acme}` (account_id `@acme`); its
    token (one per account) names the account the API reads."""

    user: str

    @field_validator("user")
    @classmethod
    def _username(cls, value: str) -> str:
        name = value.removeprefix("@")
        if not _USERNAME.match(name):
            raise ValueError(f"Instagram username {value!r} is not valid: 1 to 30 letters, digits, '.' or '_'")
        return name.lower()

    @property
    def account_id(self) -> str:
        return f"@{self.user}"


def use_configured(http: httpx.Client, values: tuple[str, ...]) -> TokenGrant:
    """The configured token, as it is, until it may be refreshed (no call)."""
    return TokenGrant(values[0], FIRST_REFRESH_AFTER, refresh_token=values[0])


def refresh_token(http: httpx.Client, token: str) -> TokenGrant:
    """GET refresh_access_token: a new 60-day token for an unexpired one at least a day old."""
    try:
        response = http.get(REFRESH_URL, params={"grant_type": "ig_refresh_token", "access_token": token})
    except httpx.TransportError as exc:
        raise TransientApiError(PLATFORM, "GET", REFRESH_URL, None, type(exc).__name__) from exc
    body = _json(response)
    kind, envelope = ERRORS.classify(response.status_code, body)
    if kind in (ErrorKind.TRANSIENT, ErrorKind.THROTTLED):
        raise TransientApiError(PLATFORM, "GET", REFRESH_URL, response.status_code, "token refresh unavailable")
    new = body.get("access_token") if isinstance(body, dict) else None
    if kind is not None or not isinstance(new, str) or not new:
        code = f"code {envelope.code}" if envelope and envelope.code else f"HTTP {response.status_code}"
        # Never the message: it may echo the token. The variable is named by the session.
        raise AuthError(PLATFORM, "GET", REFRESH_URL, response.status_code, f"the token refresh was refused ({code})")
    lifetime = body.get("expires_in")
    lifetime = float(lifetime) if isinstance(lifetime, (int, float)) and not isinstance(lifetime, bool) else 60 * 86400.0
    return TokenGrant(new, max(3600.0, lifetime - RENEW_BEFORE), refresh_token=new)


def _json(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


API = ApiSpec(
    base_url=INSTAGRAM_GRAPH,
    auth=(Auth(AuthKind.SESSION, (TOKEN_VARIABLE,), login=use_configured, resume=refresh_token),),
    limits=usage_limits(PLATFORM),
    errors=ERRORS,
)

# Replies are one level deep (a reply to a reply attaches to the top-level comment).
CAPABILITIES = Capabilities(comments=True, max_depth=1, batch_lookup=BATCH_IDS)
