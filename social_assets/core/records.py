"""The cross-platform normalized schema.

Every platform's normalizer turns one raw API response body into these records. The same
records feed the `social-assets normalize` command and the pipeline's `normalized.*` tables,
so a field added here is added everywhere.

A count the platform does not report is None, never 0: "unknown" and "nobody liked it" are
different facts for an analyst.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

Resource = Literal["posts", "comments", "profiles"]
RESOURCES: tuple[Resource, ...] = ("posts", "comments", "profiles")

ContentType = Literal["text", "link", "image", "gallery", "video", "poll", "other"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    platform: str


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return value.astimezone(timezone.utc)


class PostRecord(_Record):
    post_id: str
    author_id: str | None
    author_username: str | None
    text: str
    content_type: ContentType
    media_urls: list[str] = Field(default_factory=list)
    published_at: datetime
    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None
    permalink: str | None
    # Reported by some platforms only (Instagram, Facebook, TikTok, LinkedIn, X): None elsewhere.
    saves: int | None = None
    impressions: int | None = None
    reach: int | None = None
    clicks: int | None = None
    watch_time_seconds: float | None = None

    _utc = field_validator("published_at")(_require_utc)


class CommentRecord(_Record):
    comment_id: str
    post_id: str
    # None for a top-level comment: its parent is the post itself.
    parent_id: str | None
    author_username: str | None
    text: str
    published_at: datetime
    likes: int | None
    # 0 for a top-level comment, 1 for a reply to it, and so on.
    depth: int = Field(ge=0)

    _utc = field_validator("published_at")(_require_utc)


class ProfileRecord(_Record):
    account_id: str
    username: str | None
    followers: int | None
    following: int | None
    posts_count: int | None


RecordT = TypeVar("RecordT", PostRecord, CommentRecord, ProfileRecord)

RECORD_TYPES: dict[Resource, type[_Record]] = {
    "posts": PostRecord,
    "comments": CommentRecord,
    "profiles": ProfileRecord,
}


class Rejected(BaseModel):
    """An item of a valid response that could not be normalized. `payload` is the item as
    the platform sent it, kept in the dead letters so it can be replayed."""

    item_id: str | None
    reason: str
    payload: Any = None


class Normalized(BaseModel, Generic[RecordT]):
    """What a normalizer makes of one response body: the clean records and the rejects."""

    records: list[RecordT] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)


class NotAResponse(ValueError):
    """The body is not a response of the requested resource (wrong shape or an API error).

    The message is one line, fit to show to a user as is.
    """


class ApiErrorBody(NotAResponse):
    """The body is the platform's error envelope rather than data."""

    def __init__(self, platform: str, status: int | str | None, message: str):
        self.platform = platform
        self.status = status
        self.error_message = message
        super().__init__(f"{platform} API error {status}: {message}")
