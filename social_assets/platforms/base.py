"""What a platform folder provides. Adding a platform means adding one folder under
`social_assets/platforms/` whose `__init__.py` exposes `PLATFORM = Platform(...)`.

A platform brings:
- `source_type`: the pydantic model of one entry of its section in the sources file;
- `normalizers`: for each resource, a function from one raw response body (and, as keyword
  arguments, the landed response's `context`) to `Normalized`;
- `credentials`: the environment variables that switch it from the sandbox to the real API;
- `make_collector`: builds the client that walks the API for one source and day;
- `refresh_posts`: fetches the current metrics of known posts (the hourly refresh);
- `hosts`: the API hosts its client calls (health probes each).

Its sandbox emulation lives apart, in `social_assets/sandbox/platforms/<name>.py`: production
code never imports it.
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


@dataclass(frozen=True)
class Platform:
    name: str
    source_type: type[SourceConfig]
    normalizers: Mapping[Resource, Callable[[Any], Normalized]]
    # Environment variable names, e.g. ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET").
    credentials: tuple[str, ...]
    # (httpx client, credentials keyed by variable name, sink for landed responses) -> collector
    make_collector: Callable[
        [httpx.Client, Mapping[str, str], Callable[["LandedResponse"], None] | None], Collector
    ]
    # (collector, post ids) -> None: fetch current metrics of these posts with the fewest calls
    # (batch lookups), landing each response as "posts". Feeds the hourly engagement refresh.
    refresh_posts: Callable[[Any, list[str]], None] | None = None
    # The platform's rate limits and quotas (core.limits.LimitPolicy), for health reports.
    limits: Any = None
    # The API hosts the client calls, e.g. ("www.reddit.com", "oauth.reddit.com"): health
    # probes each.
    hosts: tuple[str, ...] = ()
