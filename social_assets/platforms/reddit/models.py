"""Pydantic models of the Reddit API objects this project reads.

Reddit wraps every object as a "thing" `{"kind", "data"}`: t1 comment, t2 account, t3 post, t5
subreddit, `more` (a stub for comments left out of a tree), and lists them in a `Listing`. Only
the fields we use are declared; the rest is ignored (`extra="ignore"`: the body is landed verbatim), so both the 2016 schema and
the 2026 one parse. A Listing's children stay raw `Thing`s, so one bad item is rejected alone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from social_assets.core.timeutil import EpochSeconds

CONTINUE_THREAD_ID = "_"


class RedditModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Thing(RedditModel):  # `data` is validated later against the model its kind calls for
    kind: str
    data: dict[str, Any]


class ListingData(RedditModel):  # paging (`after`) is the walk's paginator's business
    children: list[Thing]


class Listing(RedditModel):
    kind: Literal["Listing"]
    data: ListingData

    @property
    def children(self) -> list[Thing]:
        return self.data.children


class MediaSource(RedditModel):  # the full-size rendition: `u` for images, `gif`/`mp4` for animated ones
    u: str | None = None
    gif: str | None = None
    mp4: str | None = None

    @property
    def url(self) -> str | None:
        return self.u or self.gif or self.mp4


class MediaItem(RedditModel):
    status: str | None = None
    s: MediaSource | None = None


class GalleryItem(RedditModel):
    media_id: str


class GalleryData(RedditModel):
    items: list[GalleryItem] = Field(default_factory=list)


class RedditVideo(RedditModel):
    fallback_url: str | None = None


class Media(RedditModel):
    reddit_video: RedditVideo | None = None


class PreviewSource(RedditModel):
    url: str


class PreviewImage(RedditModel):
    source: PreviewSource | None = None


class Preview(RedditModel):
    images: list[PreviewImage] = Field(default_factory=list)


class Link(RedditModel):
    id: str
    title: str
    selftext: str = ""
    author: str | None = None
    author_fullname: str | None = None
    created_utc: EpochSeconds  # finite, 1970..9999: NaN or 1e20 rejects the item
    score: int | None = None
    num_comments: int | None = None
    permalink: str
    url: str | None = None
    is_self: bool = False
    is_video: bool = False
    is_gallery: bool = False
    post_hint: str | None = None
    media: Media | None = None
    secure_media: Media | None = None
    preview: Preview | None = None
    gallery_data: GalleryData | None = None
    media_metadata: dict[str, MediaItem] | None = None
    poll_data: dict[str, Any] | None = None
    removed_by_category: str | None = None  # deleted, moderator, reddit, author, ...: the post is gone


class Comment(RedditModel):
    id: str
    body: str
    author: str | None = None
    created_utc: EpochSeconds  # finite, 1970..9999: NaN or 1e20 rejects the item
    score: int | None = None
    parent_id: str
    link_id: str
    depth: int | None = None
    # A Listing of replies, or "" for none (also "" for every comment in /api/morechildren).
    replies: Listing | Literal[""] = ""


class More(RedditModel):
    id: str
    parent_id: str
    children: list[str] = Field(default_factory=list)

    @property
    def is_continue_thread(self) -> bool:  # the tree was cut at its depth limit below `parent_id`
        return self.id == CONTINUE_THREAD_ID


class MoreChildrenData(RedditModel):
    things: list[Thing] = Field(default_factory=list)


class MoreChildrenJson(RedditModel):  # its `errors` are read by `spec.envelope`
    data: MoreChildrenData | None = None


class MoreChildrenResponse(RedditModel):  # t1 and `more` things in pre-order, linked by `parent_id`
    json_: MoreChildrenJson = Field(alias="json")


class Named(RedditModel):  # an account in /api/user_data_by_account_ids
    name: str


class ProfileSubreddit(RedditModel):  # a user's profile page `u_<name>`: subscribers are followers
    subscribers: int | None = None


class Account(Named):
    subreddit: ProfileSubreddit | None = None


class Subreddit(RedditModel):
    display_name: str
    subscribers: int | None = None
