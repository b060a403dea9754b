"""The parts of Bluesky's lexicon objects (app.bsky.feed.defs, app.bsky.actor.defs) the
normalizers read. Unknown fields are ignored: the lexicons grow, and the body is landed verbatim. Every count is optional in the
lexicon and stays None when absent (quoteCount is missing from 2023 answers)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Ref(_Model):
    uri: str
    cid: str | None = None


class ReplyRef(_Model):
    root: Ref
    parent: Ref


class PostRecord(_Model):
    """`app.bsky.feed.post`, the record as the author wrote it."""

    text: str = ""
    created_at: str = Field(alias="createdAt")
    reply: ReplyRef | None = None


class Author(_Model):
    did: str
    handle: str | None = None


class PostView(_Model):
    uri: str
    author: Author
    record: PostRecord
    embed: dict[str, Any] | None = None  # the hydrated `#view` union
    reply_count: StrictInt | None = Field(default=None, alias="replyCount")
    repost_count: StrictInt | None = Field(default=None, alias="repostCount")
    like_count: StrictInt | None = Field(default=None, alias="likeCount")


class ProfileView(_Model):
    """`profileViewDetailed` (getProfile, getProfiles)."""

    did: str
    handle: str | None = None
    followers_count: StrictInt | None = Field(default=None, alias="followersCount")
    follows_count: StrictInt | None = Field(default=None, alias="followsCount")
    posts_count: StrictInt | None = Field(default=None, alias="postsCount")
