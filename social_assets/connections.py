"""Which API a platform client talks to: the real platform or the sandbox.

A platform goes live when every one of its credential variables is set; otherwise it uses the
sandbox with the sandbox's own credentials. The sandbox runs in process unless
`SOCIAL_SANDBOX_URL` points at a served one (`social-assets sandbox serve`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import httpx

from social_assets.platforms.base import Platform

if TYPE_CHECKING:  # the sandbox is imported only when a platform uses it
    from social_assets.sandbox.app import Sandbox

TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass
class Connection:
    platform: Platform
    mode: str  # "live", "sandbox (in-process)" or "sandbox (<url>)"
    http: httpx.Client
    credentials: Mapping[str, str]

    @property
    def is_live(self) -> bool:
        return self.mode == "live"

    def close(self) -> None:
        self.http.close()


def api_mode(platform: Platform, credentials: Mapping[str, str], sandbox_url: str | None = None) -> str:
    """"live" when every credential of the platform is set, else which sandbox is used."""
    if all(credentials.get(name) for name in platform.credentials):
        return "live"
    return f"sandbox ({sandbox_url})" if sandbox_url else "sandbox (in-process)"


def connect(
    platform: Platform,
    credentials: Mapping[str, str],
    sandbox_url: str | None = None,
    sandbox: Sandbox | None = None,
) -> Connection:
    """`credentials` holds whatever variables are set, by name; values are never logged."""
    mode = api_mode(platform, credentials, sandbox_url)
    if mode == "live":
        own = {name: credentials[name] for name in platform.credentials}
        return Connection(platform, mode, httpx.Client(timeout=TIMEOUT), own)
    from social_assets.sandbox.app import LoopbackSandboxTransport, SandboxTransport, sandbox_credentials

    if sandbox_url:
        transport: httpx.BaseTransport = LoopbackSandboxTransport(sandbox_url)
    else:
        transport = SandboxTransport(sandbox or shared_sandbox())
    return Connection(
        platform, mode, httpx.Client(transport=transport, timeout=TIMEOUT), sandbox_credentials(platform.name)
    )


_SANDBOX: Sandbox | None = None


def shared_sandbox() -> Sandbox:
    """One in-process sandbox per process, so rate limits and quotas add up across clients."""
    from social_assets.sandbox.app import Sandbox

    global _SANDBOX
    if _SANDBOX is None:
        _SANDBOX = Sandbox()
    return _SANDBOX
