"""Pydantic models of the TikTok objects this project reads (PLATFORMS.md §6c): only the fields
used; the rest is ignored (`extra="ignore"`: the body is landed verbatim, so it needs no copy here). Every field is optional because TikTok returns only the
`fields` asked for; a count it does not send stays None."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictInt


class TikTokModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Video(TikTokModel):
    """A Display API video (and a Research API one, which adds `username`, `region_code`...)."""

    id: str | int | None = None  # a string in the Display API, an int64 in the Research API
    create_time: StrictInt | None = None  # UTC epoch seconds
    title: str | None = None
    video_description: str | None = None
    duration: int | None = None  # seconds
    cover_image_url: str | None = None  # expires after 6 hours
    share_url: str | None = None
    embed_link: str | None = None
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None
    view_count: int | None = None
    username: str | None = None  # Research API only


class Comment(TikTokModel):
    """A Research API comment: ids are int64 JSON numbers."""

    id: str | int | None = None
    video_id: str | int | None = None
    text: str | None = None
    like_count: int | None = None
    reply_count: int | None = None
    parent_comment_id: str | int | None = None
    create_time: StrictInt | None = None


class User(TikTokModel):
    open_id: str | None = None
    username: str | None = None  # needs scope user.info.profile
    display_name: str | None = None
    follower_count: int | None = None  # needs scope user.info.stats, as the three below
    following_count: int | None = None
    likes_count: int | None = None
    video_count: int | None = None
