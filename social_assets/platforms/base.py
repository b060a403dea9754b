"""What a platform folder provides. Adding a platform means adding one folder under
`social_assets/platforms/` whose `__init__.py` exposes `PLATFORM = Platform(...)`.

A platform brings:
- `source_type`: the pydantic model of one entry of its section in the sources file;
- `normalizers`: for each resource, a function from one raw response body (and, as keyword
  arguments, the landed response's `context`) to `Normalized`;
- `credentials`: the environment variables that switch it from the sandbox to the real API,
  and `sandbox_credentials`, the values the sandbox accepts in their place;
- `make_collector`: builds the client that walks the API for one source and day;
- `sandbox`: the class that emulates the platform's API over the synthetic world;
- `refresh_posts`: fetches the current metrics of known posts (the hourly refresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field

from social_assets.core.records import Normalized, Resource

if TYPE_CHECKING:
    from social_assets.core.http import ApiSession, LandedResponse
    from social_assets.sandbox.world import World


class SourceConfig(BaseModel):
    """One entry of the sources file. Platforms subclass it with their account selector
    (subreddit, user, channel, ...) and narrow `sort` to what their API accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    post_limit: int = Field(default=100, gt=0, le=1000, description="most posts to read per run")
    collect_comments: bool = True
    comment_depth: int = Field(default=10, ge=0, le=50, description="0 = top-level comments only")
    sort: str = "new"

    @property
    def account_id(self) -> str:
        """The tracked account or community, as it appears in `analytics.*.account_id`."""
        raise NotImplementedError

    # Defaults applied to every source of the platform, overridable per source and per
    # platform in the sources file.
    OPTION_NAMES: ClassVar[tuple[str, ...]] = ("post_limit", "collect_comments", "comment_depth", "sort")


@dataclass(frozen=True)
class DayWindow:
    """The half-open UTC interval [start, end) of one daily partition."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


class Collector(Protocol):
    """Walks a platform's API for one source and day, handing every response it wants kept to
    the session's sink (`ApiSession.request(..., land_as=...)`)."""

    session: "ApiSession"

    def collect(self, source: Any, window: DayWindow) -> None: ...


class PlatformSandbox(Protocol):
    """Emulation of one platform's API. Instances are built with the shared synthetic world."""

    hosts: ClassVar[tuple[str, ...]]
    # The accounts that exist on the platform, as (kind, handle); the world gives each its
    # followers, posting rate and posts. Anything else answers the platform's "not found".
    catalog: ClassVar[tuple[tuple[str, str], ...]]

    def __init__(self, world: "World") -> None: ...

    def handle(self, request: "SandboxRequest", fault: str | None = None) -> "SandboxResponse":
        """Answer `request`. With `fault` (a kind of `social_assets.sandbox.faults`), answer it
        as that fault would look on this platform and say so in `injected_fault`, without
        charging the platform's limits; or decline (answer normally, `injected_fault` None)
        when the fault cannot show on this answer. Genuine limit refusals win over faults."""
        ...

    def fault_kinds(self, request: "SandboxRequest") -> frozenset[str]:
        """The fault kinds this request can show (e.g. duplicates only on a second page)."""
        ...


@dataclass(frozen=True)
class SandboxRequest:
    method: str
    host: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return default

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


@dataclass
class SandboxResponse:
    status: int
    body: Any  # JSON-serializable, or bytes sent as is
    headers: dict[str, str] | None = None
    # For the request log (SOCIAL_SANDBOX_LOG): the request broke the platform's limit, and the
    # fault the sandbox injected (a kind of `social_assets.sandbox.faults`), if any.
    refused_for_overuse: bool = False
    injected_fault: str | None = None


@dataclass(frozen=True)
class Platform:
    name: str
    source_type: type[SourceConfig]
    normalizers: Mapping[Resource, Callable[[Any], Normalized]]
    # Environment variable names, e.g. ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET").
    credentials: tuple[str, ...]
    # The same keys with the values the sandbox accepts.
    sandbox_credentials: Mapping[str, str]
    # (httpx client, credentials keyed by variable name, sink for landed responses) -> collector
    make_collector: Callable[
        [httpx.Client, Mapping[str, str], Callable[["LandedResponse"], None] | None], Collector
    ]
    sandbox: type[PlatformSandbox]
    # (collector, post ids) -> None: fetch current metrics of these posts with the fewest calls
    # (batch lookups), landing each response as "posts". Feeds the hourly engagement refresh.
    refresh_posts: Callable[[Any, list[str]], None] | None = None
    # The platform's rate limits and quotas (core.limits.LimitPolicy), for health reports.
    limits: Any = None
