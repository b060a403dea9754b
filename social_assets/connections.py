"""Which API a platform talks to, and with whose credentials.

The mode is explicit: `SOCIAL_API_MODE=sandbox|live`, overridable per platform with
`SOCIAL_API_MODE_<PLATFORM>` (e.g. `SOCIAL_API_MODE_REDDIT=live`). The default is `sandbox`,
whatever credentials are set or not needed, so nothing reaches a real platform by accident.

Credentials belong to a source: each source may name the environment variables it uses
(`credentials:` in the sources file), else the platform's default variables are used. A
platform declares its auth kinds in order of preference; a source uses the first whose
credentials are all set (an auth that needs none always qualifies). In live mode a source with
no usable auth is a configuration error naming the source and the variables (`CredentialsNotSet`
when none of them is set at all: an optional companion API, YouTube Analytics, is then skipped). In sandbox mode
credentials that are set are the ones sent, else the sandbox's own; the sandbox runs in process
unless `SOCIAL_SANDBOX_URL` points at a served one (`social-assets sandbox serve`). Sandbox code
is imported only in sandbox mode.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import httpx

from social_assets.core.api import ApiSpec, Auth, api_key_params, authenticator, describe_variables, resolve_values
from social_assets.core.errors import AuthError, CredentialsNotSet
from social_assets.core.http import ApiSession, LandedResponse, json_problem
from social_assets.core.limits import Limiter, shared_state
from social_assets.core.rest import RestClient
from social_assets.platforms.base import Platform, SourceConfig

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MODE_VARIABLE = "SOCIAL_API_MODE"
MODES = ("sandbox", "live")


class ConfigurationError(ValueError):
    """A setting that cannot work; the message names the setting and what it accepts."""


def api_mode(platform: Platform | str, environ: Mapping[str, Any] | None = None) -> str:
    """"live" or "sandbox" for a platform (`SOCIAL_API_MODE_<PLATFORM>`, then `SOCIAL_API_MODE`)."""
    environ = os.environ if environ is None else environ
    name = platform if isinstance(platform, str) else platform.name
    specific = f"{MODE_VARIABLE}_{name.upper()}"
    for variable in (specific, MODE_VARIABLE):
        value = str(environ.get(variable) or "").strip().lower()
        if value:
            if value not in MODES:
                raise ConfigurationError(f"{variable}={value!r}: expected one of {', '.join(MODES)}")
            return value
    return "sandbox"


@dataclass
class Connection:
    platform: Platform
    mode: str  # "live", "sandbox (in-process)" or "sandbox (<url>)"
    http: httpx.Client
    # Credential values by variable name (whatever is set; values are never logged).
    environ: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_live(self) -> bool:
        return self.mode == "live"

    def close(self) -> None:
        self.http.close()

    def client(
        self, source: SourceConfig | None, sink: Callable[[LandedResponse], None] | None = None
    ) -> RestClient:
        """The platform's API as `source` sees it (None: the platform-wide credentials). Its
        companion APIs (`ApiSpec.companions`) open on first use, with their own credentials,
        sharing the client's sink, item check and call counts."""
        client = self._client(self.platform.api, source, sink)
        for name, spec in self.platform.api.companions.items():
            client.companions[name] = lambda spec=spec: self._client(spec, source, sink)
        return client

    def _client(
        self, spec: ApiSpec, source: SourceConfig | None, sink: Callable[[LandedResponse], None] | None
    ) -> RestClient:
        platform = self.platform
        names = source.credentials if source is not None else {}
        who = f"{platform.name} source {source.account_id}" if source is not None else platform.name
        auth, variables, values = self._auth_for(spec, names, who)
        base_url = (source.base_url if source is not None else None) or auth.base_url or spec.base_url
        hint = f"{describe_variables(tuple(variables))} ({who})" if variables else who
        # Limits, breakers and tokens are shared by every user of this credential at this host.
        shared = shared_state(self.http, platform.name, httpx.URL(base_url).host, *values)
        session = ApiSession(
            platform=platform.name, http=self.http, sink=sink, limiter=Limiter(spec.limits, shared),
            errors=spec.errors, validate=json_problem, redact_body=spec.redact_body,
            secrets={v for v in values if v}, credential_hint=f"check {hint}",
        )
        session.authenticate = authenticator(
            platform.name, auth, values, self.http, shared, spec.headers, hint, session.secrets.add
        )
        return RestClient(session, base_url, spec.headers, api_key_params(auth, values))

    def _auth_for(self, spec: ApiSpec, names: Mapping[str, str], who: str) -> tuple[Auth, list[str], tuple[str, ...]]:
        for auth in spec.auth:
            variables, values = resolve_values(auth, names, self.environ)
            if all(values):  # an auth needing no credentials qualifies at once
                return auth, variables, values
        if not self.is_live:
            from social_assets.sandbox.app import sandbox_credentials

            sandbox = sandbox_credentials(self.platform.name)
            for auth in spec.auth:
                if auth.variables and all(v in sandbox for v in auth.variables):
                    return auth, list(auth.variables), tuple(sandbox[v] for v in auth.variables)
        preferred = spec.auth[0]
        variables, values = resolve_values(preferred, names, self.environ)
        missing = [name for name, value in zip(variables, values) if not value]
        none_set = not any(any(resolve_values(auth, names, self.environ)[1]) for auth in spec.auth)
        raise (CredentialsNotSet if none_set else AuthError)(
            self.platform.name, "AUTH", spec.base_url, None,
            f"{who}: {describe_variables(tuple(missing))} not set (live mode needs {preferred.kind.value} credentials)",
        )


def connect(
    platform: Platform,
    environ: Mapping[str, Any] | None = None,
    sandbox_url: str | None = None,
    sandbox: Any = None,
    mode: str | None = None,
) -> Connection:
    """A connection to `platform` in its mode. `environ` holds the credential variables that
    are set, by name (default: the process environment)."""
    environ = os.environ if environ is None else environ
    mode = mode or api_mode(platform, environ)
    values = {name: str(value) for name, value in environ.items() if value}
    if mode == "live":
        return Connection(platform, "live", httpx.Client(timeout=TIMEOUT), values)
    from social_assets.sandbox.app import LoopbackSandboxTransport, SandboxTransport

    if sandbox_url:
        transport: httpx.BaseTransport = LoopbackSandboxTransport(sandbox_url)
        label = f"sandbox ({sandbox_url})"
    else:
        transport = SandboxTransport(sandbox or shared_sandbox())
        label = "sandbox (in-process)"
    return Connection(platform, label, httpx.Client(transport=transport, timeout=TIMEOUT), values)


_SANDBOX: Any = None


def shared_sandbox() -> Any:
    """One in-process sandbox per process, so rate limits and quotas add up across clients."""
    global _SANDBOX
    if _SANDBOX is None:
        from social_assets.sandbox.app import Sandbox

        _SANDBOX = Sandbox()
    return _SANDBOX


def credential_variables(platforms: Mapping[str, Platform], sources: Mapping[str, list[SourceConfig]]) -> set[str]:
    """Every variable a credential may come from: the platforms' defaults and those the
    sources name."""
    names = {v for platform in platforms.values() for v in platform.credentials}
    for entries in sources.values():
        for source in entries:
            names.update(source.credentials.values())
    return names

