"""Pydantic models of the Reddit API objects this project reads.

Reddit wraps every object as a "thing": `{"kind": "t3", "data": {...}}`, and lists them in a
`Listing` thing. Kinds: t1 comment, t2 account, t3 link (a post), t5 subreddit, `more` (a stub
for comments left out of a tree). Only the fields we use are declared; everything else is kept
(`extra="allow"`) so the models accept both the 2016 schema (52 keys per post) and the 2026 one
(107+).

Quirks the models absorb:
- a comment's `replies` is a Listing, or the empty string "" when it has none;
- `edited` is `false` or the epoch seconds of the edit;
- `author_fullname` is absent on deleted posts and comments (author "[deleted]");
- `depth` is absent in 2016 comment trees;
- a `more` stub with id "_" (count 0, no children) is "continue this thread", not "load more".

Listings are validated shallowly: their children stay raw `Thing`s, so the normalizer can
validate each item on its own and reject one bad item without losing the rest.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from social_assets.core.timeutil import EpochSeconds

CONTINUE_THREAD_ID = "_"


class RedditModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Thing(RedditModel):
    """Any wrapped object; `data` is validated later against the model its kind calls for."""

    kind: str
    data: dict[str, Any]


class ListingData(RedditModel):
    after: str | None = None
    before: str | None = None
    dist: int | None = None
    children: list[Thing]


class Listing(RedditModel):
    kind: Literal["Listing"]
    data: ListingData

    @property
    def children(self) -> list[Thing]:
        return self.data.children

    @property
    def after(self) -> str | None:
        return self.data.after


# -- posts (t3) -------------------------------------------------------------------------------


class MediaSource(RedditModel):
    """`media_metadata[...].s`: the full-size rendition. Images carry `u`; animated images
    carry `gif` and `mp4` instead."""

    u: str | None = None
    gif: str | None = None
    mp4: str | None = None

    @property
    def url(self) -> str | None:
        return self.u or self.gif or self.mp4


class MediaItem(RedditModel):
    status: str | None = None
    e: str | None = None  # "Image", "AnimatedImage", "RedditVideo"
    s: MediaSource | None = None


class GalleryItem(RedditModel):
    media_id: str
    caption: str | None = None


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
    """A post (kind t3)."""

    id: str
    name: str | None = None
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
    edited: bool | float = False
    subreddit: str | None = None
    removed_by_category: str | None = None  # deleted, moderator, reddit, author, ...: the post is gone


# -- comments (t1) and stubs (more) -----------------------------------------------------------


class Comment(RedditModel):
    """A comment (kind t1)."""

    id: str
    name: str | None = None
    body: str
    author: str | None = None
    author_fullname: str | None = None
    created_utc: EpochSeconds  # finite, 1970..9999: NaN or 1e20 rejects the item
    score: int | None = None
    parent_id: str
    link_id: str
    depth: int | None = None
    # A Listing of replies, or "" for none (also "" for every comment in /api/morechildren).
    replies: Listing | Literal[""] = ""
    edited: bool | float = False
    permalink: str | None = None


class More(RedditModel):
    """A stub for comments left out of a tree (kind `more`)."""

    id: str
    name: str | None = None
    parent_id: str
    count: int = 0
    depth: int | None = None
    children: list[str] = Field(default_factory=list)

    @property
    def is_continue_thread(self) -> bool:
        # "continue this thread": the tree was cut at its depth limit below `parent_id`.
        return self.id == CONTINUE_THREAD_ID


class MoreChildrenData(RedditModel):
    things: list[Thing] = Field(default_factory=list)


class MoreChildrenJson(RedditModel):
    errors: list[Any] = Field(default_factory=list)
    data: MoreChildrenData | None = None


class MoreChildrenResponse(RedditModel):
    """`POST /api/morechildren` with `api_type=json`: a flat list of t1 and `more` things in
    pre-order; the tree is rebuilt from each comment's `parent_id`."""

    json_: MoreChildrenJson = Field(alias="json")


# -- accounts (t2) and subreddits (t5) --------------------------------------------------------


class ProfileSubreddit(RedditModel):
    """The profile page of a user, a subreddit named `u_<name>`; its subscribers are the
    user's followers."""

    display_name: str | None = None
    subscribers: int | None = None


class Account(RedditModel):
    """A redditor (kind t2), as `/user/{name}/about` returns it."""

    name: str
    id: str | None = None
    created_utc: float | None = None
    link_karma: int | None = None
    comment_karma: int | None = None
    total_karma: int | None = None
    is_suspended: bool = False
    subreddit: ProfileSubreddit | None = None


class PartialAccount(RedditModel):
    """One value of `/api/user_data_by_account_ids`, a dict keyed by t2 fullname."""

    name: str
    created_utc: float | None = None
    link_karma: int | None = None
    comment_karma: int | None = None


class Subreddit(RedditModel):
    """A subreddit (kind t5), as `/r/{name}/about` returns it."""

    display_name: str
    id: str | None = None
    name: str | None = None
    subscribers: int | None = None
    created_utc: float | None = None


# -- errors -----------------------------------------------------------------------------------


class ErrorEnvelope(RedditModel):
    """`{"message": "Unauthorized", "error": 401}`; 403 sometimes comes without a message.
    Some endpoints answer `{"reason": "USER_DOESNT_EXIST", "explanation": ..., "message": ...}`."""

    error: int | str | None = None
    message: str | None = None
    reason: str | None = None
    explanation: str | None = None
