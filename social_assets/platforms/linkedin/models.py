"""Pydantic models of the LinkedIn REST objects read here: only the fields used, the rest ignored
(`extra="ignore"`: the body is landed verbatim). Times are epoch milliseconds; URNs are strings."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class LinkedInModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def from_ms(value: Any) -> datetime:
    """Epoch milliseconds (an int; never a bool or a float with a fraction) as a UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise ValueError(f"expected epoch milliseconds, found {value!r}")
    return datetime.fromtimestamp(int(value) / 1000, timezone.utc)


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


Milliseconds = Annotated[datetime, BeforeValidator(from_ms)]
MaybeMilliseconds = Annotated[datetime | None, BeforeValidator(lambda value: None if value is None else from_ms(value))]


class Media(LinkedInModel):
    id: str  # urn:li:image:..., urn:li:video:..., urn:li:document:...


class Article(LinkedInModel):
    source: str | None = None
    title: str | None = None


class MultiImage(LinkedInModel):
    images: list[Media] = Field(default_factory=list)


class Content(LinkedInModel):
    media: Media | None = None
    article: Article | None = None
    multiImage: MultiImage | None = None
    poll: dict[str, Any] | None = None


class Post(LinkedInModel):
    id: str  # urn:li:share:... or urn:li:ugcPost:...
    author: str
    commentary: str = ""  # "little text" format
    createdAt: MaybeMilliseconds = None
    publishedAt: MaybeMilliseconds = None
    lifecycleState: str | None = None
    content: Content | None = None


class Stamp(LinkedInModel):
    time: Milliseconds
    actor: str | None = None


class Message(LinkedInModel):
    text: str = ""


class LikesSummary(LinkedInModel):
    totalLikes: int | None = Field(default=None, ge=0)


class CommentsSummary(LinkedInModel):
    totalFirstLevelComments: int | None = Field(default=None, ge=0)
    aggregatedTotalComments: int | None = Field(default=None, ge=0)


class Comment(LinkedInModel):
    id: str
    commentUrn: str | None = None
    actor: str | None = None
    object: str | None = None  # what it comments on: the post (or its activity), or a comment
    parentComment: str | None = None  # set on a reply
    message: Message = Field(default_factory=Message)
    created: Stamp
    likesSummary: LikesSummary | None = None
    commentsSummary: CommentsSummary | None = None

    @property
    def urn(self) -> str:
        return self.commentUrn or self.model_extra.get("$URN") or self.id  # type: ignore[union-attr]
