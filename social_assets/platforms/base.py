"""The platform contract. Adding a platform means adding one folder under
`social_assets/platforms/` whose `__init__.py` exposes `PLATFORM = Platform(...)`, and its
sandbox routes (see README "Adding a platform").

A platform brings:
- `api` (`core.api.ApiSpec`): base URL, auth kinds, default headers, limits, error table and
  body redaction;
- `capabilities`: comments or not, reply depth, sort orders, batch lookup size;
- `source_type`: the pydantic model of one entry of its section in the sources file;
- `walk`: the hand-written part, a class built per source over a `core.rest.RestClient` that
  lands the source's profile, its posts of a day and each post's comments;
- `refresh`: fetches the current metrics of known posts with the fewest calls (the hourly
  refresh), landing each response as "posts"; it returns the posts its lookup says are gone
  (`core.records.gone_posts`: a 404, or missing from a batch), whose content the core purges;
- `normalizers`: for each resource, a function from one raw response body (and, as keyword
  arguments, the landed response's `context`) to `Normalized`.

Its sandbox emulation lives apart, in `social_assets/sandbox/platforms/<name>.py`: production
code never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Mapping, Protocol, Sequence

from pydantic import BaseModel, ConfigDict, Field

from social_assets.core.api import ApiSpec, Capabilities
from social_assets.core.records import Gone, Normalized, Resource

if TYPE_CHECKING:
    from social_assets.core.rest import RestClient


class SourceConfig(BaseModel):
    """One entry of the sources file. Platforms subclass it with their account selector
    (subreddit, user, channel, ...) and narrow `sort` to what their API accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    post_limit: int = Field(default=100, gt=0, le=1000, description="most posts to read per run")
    collect_comments: bool = True
    comment_depth: int = Field(default=10, ge=0, le=50, description="0 = top-level comments only")
    # Only on platforms that declare sort orders (`Capabilities.sorts`); None: the first of them.
    sort: str | None = None
    # The environment variables this source's credentials are in, by the platform's default
    # variable name, e.g. {REDDIT_CLIENT_ID: ACME_REDDIT_ID}. Unnamed ones keep their default.
    credentials: dict[str, str] = Field(default_factory=dict)

    @property
    def account_id(self) -> str:
        """The tracked account or community, as it appears in `analytics.*.account_id`."""
        raise NotImplementedError

    @property
    def base_url(self) -> str | None:
        """The API this source lives on, when not the platform's (a Mastodon instance)."""
        return None

    # Options that `defaults` may set for every source of a platform.
    OPTION_NAMES: ClassVar[tuple[str, ...]] = ("post_limit", "collect_comments", "comment_depth", "sort", "credentials")


@dataclass(frozen=True)
class DayWindow:
    """The half-open UTC interval [start, end) of one daily partition."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class PostRef:
    """A post a walk kept for the day: what the core needs to decide on its comments."""

    post_id: str
    comments: int | None  # the platform's comment count; 0 means there is nothing to fetch


class Walk(Protocol):
    """Reads one source through its `RestClient`, landing every response it wants kept
    (`client.call(..., land_as=...)`). Built per source: `walk(client, source)`."""

    def profile(self) -> None: ...

    def posts(self, window: DayWindow) -> list[PostRef]: ...

    def comments(self, post: PostRef) -> None: ...


@dataclass(frozen=True)
class Platform:
    name: str
    api: ApiSpec
    capabilities: Capabilities
    source_type: type[SourceConfig]
    walk: Callable[["RestClient", Any], Walk]
    normalizers: Mapping[Resource, Callable[..., Normalized]]
    # (client, post ids) -> the posts found gone (or None): land the current metrics of these
    # posts as "posts". Items a body marks as deleted are reported by the normalizers instead.
    refresh: Callable[["RestClient", Sequence[str]], Iterable[Gone] | None] | None = None
    # (source) -> why this source can have no comments (credentials it lacks), or None: the
    # sources file then turns `collect_comments` off, or refuses it when a user turned it on.
    comments_unavailable: Callable[[Any], str | None] | None = None

    @property
    def limits(self) -> Any:
        return self.api.limits

    @property
    def credentials(self) -> tuple[str, ...]:
        """Every default credential variable of the platform, over all its auth kinds and APIs."""
        specs = (self.api, *self.api.companions.values())
        return tuple(dict.fromkeys(v for spec in specs for auth in spec.auth for v in auth.variables))
