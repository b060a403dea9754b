"""Pydantic models of the Mastodon entities this project reads: only the fields used, anything
else the instance sends is ignored (`extra="ignore"`: the body is landed verbatim). Ids are strings (snowflakes beyond 2^53)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class MastodonModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(MastodonModel):
    id: str
    username: str
    acct: str  # "user" for an account of the answering instance, "user@domain" for a remote one
    url: str | None = None
    followers_count: int | None = Field(default=None, ge=0)
    following_count: int | None = Field(default=None, ge=0)
    statuses_count: int | None = Field(default=None, ge=0)


class MediaAttachment(MastodonModel):
    type: str  # image, gifv, video, audio, unknown
    url: str | None = None
    remote_url: str | None = None


class Poll(MastodonModel):
    id: str


class Card(MastodonModel):
    url: str


class Status(MastodonModel):
    id: str
    created_at: datetime
    in_reply_to_id: str | None = None
    content: str = ""  # HTML
    spoiler_text: str = ""
    url: str | None = None
    uri: str | None = None
    account: Account
    reblog: dict[str, Any] | None = None  # the boosted status: a reblog is not its booster's post
    media_attachments: list[MediaAttachment] = Field(default_factory=list)
    poll: Poll | None = None
    card: Card | None = None
    replies_count: int | None = Field(default=None, ge=0)
    reblogs_count: int | None = Field(default=None, ge=0)
    favourites_count: int | None = Field(default=None, ge=0)
