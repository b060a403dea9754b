"""What the sandbox router and a platform emulation exchange: one request, one response, and
the contract an emulation fulfils (`PlatformEmulation`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Protocol
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from social_assets.sandbox.world import World


@dataclass(frozen=True)
class SandboxRequest:
    method: str
    host: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    # Start the page this many items early: an injected `duplicate_items` fault, which the
    # engine's pagers act out (see `engine.py`). Never set by a client.
    overlap: int = 0

    def param(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    def params(self) -> dict[str, str]:
        """Query and form parameters together (APIs that take either, like Reddit's POSTs)."""
        return {**dict(self.query), **(self.form() if self.body else {})}


@dataclass
class SandboxResponse:
    status: int
    body: Any  # JSON-serializable, or bytes sent as is
    headers: dict[str, str] | None = None
    # For the request log (SOCIAL_SANDBOX_LOG): the request broke the platform's limit, and the
    # fault the sandbox injected (a kind of `social_assets.sandbox.faults`), if any.
    refused_for_overuse: bool = False
    injected_fault: str | None = None


class PlatformEmulation(Protocol):
    """Emulation of one platform's API, built with the shared synthetic world and the
    credential values configured in the environment (accepted besides its built-in ones)."""

    hosts: ClassVar[tuple[str, ...]]
    # The accounts that exist on the platform, as (kind, handle); the world gives each its
    # followers, posting rate and posts. Anything else answers the platform's "not found".
    catalog: ClassVar[tuple[tuple[str, str], ...]]

    def __init__(self, world: "World", configured: Mapping[str, str] | None = None) -> None: ...

    def handle(self, request: SandboxRequest, fault: str | None = None) -> SandboxResponse:
        """Answer `request`. With `fault` (a kind of `social_assets.sandbox.faults`), answer it
        as that fault would look on this platform and say so in `injected_fault`, without
        charging the platform's limits; or decline (answer normally, `injected_fault` None)
        when the fault cannot show on this answer. Genuine limit refusals win over faults."""
        ...

    def fault_kinds(self, request: SandboxRequest) -> frozenset[str]:
        """The fault kinds this request can show (e.g. duplicates only on a second page)."""
        ...
