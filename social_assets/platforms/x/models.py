"""Pydantic models of the X API v2 objects this project reads: only the fields used, the rest
ignored (`extra="ignore"`: the body is landed verbatim). Fields X leaves out unless asked for (`tweet.fields`, `user.fields`,
`media.fields`) are optional; a count X does not send stays None."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class XModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TweetMetrics(XModel):
    retweet_count: int | None = None
    reply_count: int | None = None
    like_count: int | None = None
    quote_count: int | None = None
    bookmark_count: int | None = None
    impression_count: int | None = None


class Attachments(XModel):
    media_keys: list[str] = Field(default_factory=list)
    poll_ids: list[str] = Field(default_factory=list)


class Reference(XModel):
    type: str  # replied_to, quoted, retweeted
    id: str


class NoteTweet(XModel):
    text: str


class Tweet(XModel):
    id: str
    text: str
    created_at: datetime | None = None
    author_id: str | None = None
    conversation_id: str | None = None
    note_tweet: NoteTweet | None = None  # the whole text of a long post; `text` is cut
    public_metrics: TweetMetrics | None = None
    attachments: Attachments | None = None
    referenced_tweets: list[Reference] = Field(default_factory=list)
    entities: dict[str, Any] | None = None

    def reference(self, kind: str) -> str | None:
        return next((ref.id for ref in self.referenced_tweets if ref.type == kind), None)


class UserMetrics(XModel):
    followers_count: int | None = None
    following_count: int | None = None
    tweet_count: int | None = None


class User(XModel):
    id: str
    username: str
    name: str | None = None
    public_metrics: UserMetrics | None = None


class Variant(XModel):
    url: str
    bit_rate: int | None = None
    content_type: str | None = None


class Media(XModel):
    media_key: str
    type: str  # photo, video, animated_gif
    url: str | None = None
    preview_image_url: str | None = None
    variants: list[Variant] = Field(default_factory=list)

    def best_url(self) -> str | None:
        """The photo, else the video's highest-bitrate rendition, else its preview image."""
        videos = sorted((v for v in self.variants if v.bit_rate is not None), key=lambda v: v.bit_rate or 0)
        return self.url or (videos[-1].url if videos else None) or self.preview_image_url
