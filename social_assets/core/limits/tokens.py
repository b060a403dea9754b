"""OAuth access tokens shared by every process using one credential, with refresh-token rotation.

`TokenCache.get()` returns a token that is valid for at least `margin` more seconds: the one in
the shared store if there is one, else a new one from `fetch`. `get(refused=token)` (after a
401) replaces that token unless another process already has. One process at a time fetches: it
takes a short lease in the store, so a rotating refresh token (TikTok, X) is never spent twice.
A refresh token the endpoint returns replaces the one used, and is kept for the next refresh.

Tokens are stored sealed (Fernet, with a key derived from the app's secret), under a key that
is a hash of the credential: reading the store gives neither the secret nor a usable token.

A token that cannot be had is an `AuthError` naming the platform and the variables to fix; the
fetch functions raise it (`OAuthClient` does for standard endpoints).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from social_assets.core.errors import AuthError, TransientApiError
from social_assets.core.limits.shared import SharedState

TOKEN_TTL = 400 * 86400.0  # refresh tokens live up to a year (LinkedIn 365 days)


@dataclass(frozen=True)
class TokenGrant:
    """A token endpoint's answer."""

    access_token: str = field(repr=False)
    expires_in: float | None = None
    refresh_token: str | None = field(default=None, repr=False)  # a rotated one, when given


@dataclass(frozen=True)
class _Use:
    access_token: str


@dataclass(frozen=True)
class _Fetch:
    refresh_token: str | None


@dataclass(frozen=True)
class _Wait:
    pass


class TokenCache:
    """One credential's access token, shared through the store (see the module docstring)."""

    def __init__(
        self,
        platform: str,
        shared: SharedState,
        secret: str,
        fetch: Callable[[str | None], TokenGrant],
        *,
        refresh_token: str | None = None,
        clock: Callable[[], float] = time.time,
        margin: float = 60.0,
        lease: float = 30.0,
    ):
        """`fetch(refresh_token)` gets a new token (with None: the first one, or a client
        credentials grant); `refresh_token` is the configured one, used until a rotated one is kept."""
        self.platform = platform
        self._shared = shared
        self._fernet = Fernet(_derive_key(secret, shared.scope))
        self._fetch = fetch
        self._seed_refresh_token = refresh_token
        self._clock = clock
        self._margin, self._lease = margin, lease
        self._owner = uuid.uuid4().hex

    @property
    def key(self) -> str:
        return self._shared.key("token")

    def get(self, refused: str | None = None) -> str:
        """A usable access token; `refused` is one the API just answered 401 to."""
        while True:
            now = self._clock()
            step = self._shared.store.transact(self.key, lambda doc, now=now: self._plan(doc, now, refused), TOKEN_TTL)
            if isinstance(step, _Use):
                return step.access_token
            if isinstance(step, _Fetch):
                return self._renew(step.refresh_token)
            # Another process is fetching; its token will be in the store. (Real time: the
            # fetch takes real time whatever clock judges expiry.)
            time.sleep(0.02)

    def _plan(self, doc: dict | None, now: float, refused: str | None) -> tuple[dict, Any]:
        doc = dict(doc or {})
        token = self._open(doc.get("sealed"))
        if token and token["access_token"] != refused and now < token["renew_at"]:
            return doc, _Use(token["access_token"])
        if doc.get("lease_until", 0) > now and doc.get("lease_owner") != self._owner:
            return doc, _Wait()
        doc.update(lease_until=now + self._lease, lease_owner=self._owner)
        kept = token.get("refresh_token") if token else None
        return doc, _Fetch(kept or self._seed_refresh_token)

    def _renew(self, refresh_token: str | None) -> str:
        """Fetch a token (this process holds the lease), keep it sealed, free the lease."""
        try:
            grant, used = self._fetch_with_fallback(refresh_token)
        except BaseException:
            self._release()
            raise
        now = self._clock()
        lifetime = grant.expires_in if grant.expires_in else 3600.0
        token = {
            "access_token": grant.access_token,
            # Renew a minute early (a tenth of a short lifetime) so no request carries a dying token.
            "renew_at": now + lifetime - min(self._margin, lifetime / 10),
            "refresh_token": grant.refresh_token or used,  # the rotated one when the endpoint sent one
        }
        sealed = self._fernet.encrypt(json.dumps(token).encode()).decode()
        self._shared.store.transact(self.key, lambda doc: ({"sealed": sealed}, None), TOKEN_TTL)
        return grant.access_token

    def _fetch_with_fallback(self, refresh_token: str | None) -> tuple[TokenGrant, str | None]:
        try:
            return self._fetch(refresh_token), refresh_token
        except AuthError:
            seed = self._seed_refresh_token
            if seed is None or refresh_token in (None, seed):
                raise
            # The kept (rotated) token was refused: the configured one may be newer (re-authorized).
            return self._fetch(seed), seed

    def _release(self) -> None:
        def change(doc: dict | None) -> tuple[dict | None, None]:
            doc = dict(doc or {})
            if doc.get("lease_owner") == self._owner:
                doc.pop("lease_owner", None)
                doc.pop("lease_until", None)
            return doc or None, None

        self._shared.store.transact(self.key, change, TOKEN_TTL)

    def _open(self, sealed: str | None) -> dict | None:
        if not sealed:
            return None
        try:
            return json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            return None  # sealed with another secret (the credential changed): fetch anew


def _seconds(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _derive_key(secret: str, scope: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"social_assets/token-cache/v1", info=scope.encode()).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(key)


# The token endpoint retries its own throttling and server errors, on a budget of its own:
# otherwise a 429 burst there would spend the retries of the API request that needed the token.
TOKEN_ATTEMPTS = 4


@dataclass(frozen=True)
class OAuthClient:
    """A standard (RFC 6749) token endpoint: client credentials and refresh-token grants, the
    client authenticated with HTTP Basic (X, Reddit) or in the form (TikTok's `client_key`,
    LinkedIn). `variables` are what a refusal tells the operator to check."""

    platform: str
    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    variables: tuple[str, ...]
    client_auth: Literal["basic", "form"] = "basic"
    client_id_field: str = "client_id"
    headers: Mapping[str, str] = field(default_factory=dict)  # e.g. Reddit's required User-Agent

    def client_credentials(self, http: httpx.Client) -> TokenGrant:
        return self._grant(http, {"grant_type": "client_credentials"})

    def refresh(self, http: httpx.Client, refresh_token: str | None) -> TokenGrant:
        if not refresh_token:
            raise self._refused(None, "no refresh token is configured")
        return self._grant(http, {"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _grant(self, http: httpx.Client, form: dict[str, str]) -> TokenGrant:
        for attempt in Retrying(
            stop=stop_after_attempt(TOKEN_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.25, max=4),
            retry=retry_if_exception_type(TransientApiError),
            reraise=True,
        ):
            with attempt:
                return self._grant_once(http, form)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _grant_once(self, http: httpx.Client, form: dict[str, str]) -> TokenGrant:
        auth: tuple[str, str] | None = None
        if self.client_auth == "basic":
            auth = (self.client_id, self.client_secret)
        else:
            form = {**form, self.client_id_field: self.client_id, "client_secret": self.client_secret}
        try:
            response = http.post(self.token_url, data=form, auth=auth, headers=dict(self.headers))
        except httpx.TransportError as exc:
            raise TransientApiError(self.platform, "POST", self.token_url, None, type(exc).__name__) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientApiError(self.platform, "POST", self.token_url, response.status_code, "token endpoint unavailable")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "error" in body or response.is_error or not body.get("access_token"):
            code = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), str) else None
            raise self._refused(response.status_code, f"the {form['grant_type']} grant was refused ({code or 'no access_token'})")
        refresh_token = body.get("refresh_token")
        return TokenGrant(
            body["access_token"], _seconds(body.get("expires_in")), refresh_token if isinstance(refresh_token, str) else None
        )

    def _refused(self, status: int | None, what: str) -> AuthError:
        # Name the variables to fix, never their values (nor the endpoint's description, which may echo them).
        return AuthError(self.platform, "POST", self.token_url, status, f"{what}; check {' and '.join(self.variables)}")
