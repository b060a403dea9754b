"""What a platform declares about its API: the first half of the platform contract.

`ApiSpec` says where the API is (a base URL a source may override: a Mastodon source names its
instance), which auth kinds it takes, the headers every request carries, its limits and its
error table, and how to clean a body before it is landed. `Capabilities` says what the API can
give (comments, reply depth, sort orders, batch lookups). The other half, the walks that read a
source's day, is in each platform's `walk.py`; `platforms/base.py` ties both together.

`authenticator` turns an auth kind and the credential values a source resolved into the
callable `ApiSession` asks for headers before each request.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import httpx

from social_assets.core.errors import AuthError, ErrorTable
from social_assets.core.limits import LimitPolicy, OAuthClient, SharedState, TokenCache, TokenGrant


class AuthKind(enum.Enum):
    NONE = "none"  # public data (Bluesky's AppView, public Mastodon)
    API_KEY = "api key"  # a key in a query parameter or header (YouTube)
    BEARER = "bearer token"  # a long-lived token sent as is (X app-only, Graph Page tokens)
    CLIENT_CREDENTIALS = "oauth2 client credentials"  # Reddit app-only, TikTok Research
    REFRESH_TOKEN = "oauth2 refresh with rotation"  # X user context, TikTok, LinkedIn
    SESSION = "session login"  # Bluesky app passwords (createSession / refreshSession)


@dataclass(frozen=True)
class Auth:
    """One way to authenticate. `variables` are the default environment variables holding its
    credentials, in the order the kind uses them (client id before secret; the key or token
    first). A source may name other variables for them in the sources file."""

    kind: AuthKind
    variables: tuple[str, ...] = ()
    # API_KEY: the query parameter (or, with `header`, the header) carrying the key.
    param: str | None = None
    header: str | None = None
    # CLIENT_CREDENTIALS and REFRESH_TOKEN: the token endpoint and how the client proves itself.
    token_url: str | None = None
    client_auth: str = "basic"  # or "form" (TikTok's client_key, LinkedIn)
    client_id_field: str = "client_id"
    # SESSION: (http, credential values) -> a grant; the platform's own login call.
    login: Callable[[httpx.Client, tuple[str, ...]], TokenGrant] | None = None
    # SESSION: (http, refresh token) -> a grant; renews a session without logging in again
    # (Bluesky's refreshSession: logins have a small daily limit). An AuthError from it means
    # the session is over, and the login is used.
    resume: Callable[[httpx.Client, str], TokenGrant] | None = None
    # Where requests authenticated this way go, when not the spec's base URL (Bluesky: a
    # session's calls go to the entryway that issued it, anonymous ones to the public AppView).
    base_url: str | None = None
    scheme: str = "Bearer"  # the Authorization scheme of the token it yields


@dataclass(frozen=True)
class Capabilities:
    comments: bool = True  # whether the API gives comments at all
    max_depth: int | None = None  # deepest reply level it can give (0 = top level); None: any
    sorts: tuple[str, ...] = ()  # accepted values of a source's `sort`, the default first
    batch_lookup: int | None = None  # ids per call of the metrics refresh, if it batches


@dataclass(frozen=True)
class ApiSpec:
    base_url: str
    auth: tuple[Auth, ...]  # in order of preference; the first whose credentials are set is used
    limits: LimitPolicy
    errors: ErrorTable = field(default_factory=ErrorTable)
    headers: Mapping[str, str] = field(default_factory=dict)  # sent with every request
    # Cleans a body before it is landed, after the known secrets are scrubbed.
    redact_body: Callable[[str], str] | None = None
    # Other APIs of the platform, each reached with its own credentials, limits and errors
    # (TikTok's Research API beside its Display API). A walk opens one with
    # `client.companion(name)`; each source's credentials may rename their variables too.
    companions: Mapping[str, "ApiSpec"] = field(default_factory=dict)


Authenticate = Callable[[bool], dict[str, str]]


def authenticator(
    platform: str,
    auth: Auth,
    values: tuple[str, ...],
    http: httpx.Client,
    shared: SharedState,
    headers: Mapping[str, str],
    hint: str,
    on_token: Callable[[str], None],
) -> Authenticate:
    """The headers-per-request callable of an auth kind. `values` are its credentials, in the
    order of `auth.variables`; `on_token` learns every token obtained, so the session can
    scrub it from what it lands; `hint` (source and variables) goes into refusals."""
    if auth.kind in (AuthKind.NONE, AuthKind.API_KEY):
        if auth.kind is AuthKind.API_KEY and auth.header:
            return lambda refresh: {auth.header: values[0]}
        return lambda refresh: {}  # a key in a query parameter is added by the RestClient
    if auth.kind is AuthKind.BEARER:
        return lambda refresh: {"Authorization": f"{auth.scheme} {values[0]}"}

    if auth.kind is AuthKind.SESSION:
        if auth.login is None:
            raise ValueError(f"{platform}: a session auth needs its login call")
        login, resume = auth.login, auth.resume

        def fetch(refresh_token: str | None) -> TokenGrant:
            if refresh_token and resume is not None:
                try:
                    return resume(http, refresh_token)
                except AuthError:
                    pass  # the session ended (expired or revoked refresh token): log in again
            return login(http, values)

        seed = None
    else:
        if not auth.token_url:
            raise ValueError(f"{platform}: an OAuth auth needs its token endpoint")
        client = OAuthClient(
            platform, auth.token_url, values[0], values[1], variables=(hint,),
            client_auth=auth.client_auth, client_id_field=auth.client_id_field, headers=dict(headers),
        )
        if auth.kind is AuthKind.CLIENT_CREDENTIALS:
            fetch = lambda refresh_token: client.client_credentials(http)
            seed = None
        else:
            fetch = lambda refresh_token: client.refresh(http, refresh_token)
            seed = values[2] if len(values) > 2 else None
    tokens = TokenCache(platform, shared, secret="\0".join(values), fetch=fetch, refresh_token=seed)
    state: dict[str, str | None] = {"token": None}

    def authenticate(refresh: bool) -> dict[str, str]:
        try:
            token = tokens.get(refused=state["token"] if refresh else None)
        except AuthError as error:
            raise AuthError(error.platform, error.method, error.endpoint, error.status, error.detail) from None
        state["token"] = token
        on_token(token)
        return {"Authorization": f"{auth.scheme} {token}"}

    return authenticate


def api_key_params(auth: Auth, values: tuple[str, ...]) -> dict[str, str]:
    """Query parameters an auth adds to every request (an API key sent as a parameter)."""
    if auth.kind is AuthKind.API_KEY and auth.param:
        return {auth.param: values[0]}
    return {}


def describe_variables(variables: tuple[str, ...]) -> str:
    return " and ".join(variables)


def resolve_values(auth: Auth, names: Mapping[str, str], environ: Mapping[str, Any]) -> tuple[list[str], tuple[str, ...]]:
    """For one auth: the variables a source uses (its own names where it gives them) and their
    values; missing ones are returned as the first list's names with empty values."""
    variables = [names.get(default, default) for default in auth.variables]
    return variables, tuple(str(environ.get(name) or "") for name in variables)
