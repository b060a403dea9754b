"""Pydantic models of the YouTube Data API v3 resources this project reads.

Only the fields normalization and the walk read are declared: the body is kept verbatim, so the
rest needs no validation (nor a copy: `extra="ignore"`); camelCase fields are exposed in snake_case.
Timestamps are `IsoDatetime` (pydantic alone would read `"0"` as 1970). Counts are uint64 sent as
strings; None when left out (hidden likes, disabled comments, hidden subscriber counts, or a
`part` not requested). Lists of items stay raw, so one malformed item is rejected alone.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasPath, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from social_assets.core.timeutil import IsoDatetime

# A uint64 count as YouTube sends it ("7920"); pydantic's lax mode turns the string into an int.
Count = Annotated[int, Field(ge=0)]


class YouTubeModel(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True, frozen=True)


class Thumbnail(YouTubeModel):
    url: str


THUMBNAIL_SIZES = ("maxres", "standard", "high", "medium", "default")  # largest first


def best_thumbnail(thumbnails: dict[str, Thumbnail]) -> str | None:
    return next((t.url for t in map(thumbnails.get, THUMBNAIL_SIZES) if t is not None and t.url), None)


class ResourceId(YouTubeModel):  # what a playlist item or a search result points at
    kind: str
    video_id: str | None = None


class PublishedSnippet(YouTubeModel):  # of videos, search results and activities
    published_at: IsoDatetime
    channel_id: str | None = None
    channel_title: str | None = None
    title: str = ""
    description: str = ""
    thumbnails: dict[str, Thumbnail] = Field(default_factory=dict)  # by size


class VideoStatistics(YouTubeModel):
    view_count: Count | None = None
    like_count: Count | None = None
    comment_count: Count | None = None


class Video(YouTubeModel):
    kind: str = "youtube#video"
    id: str
    snippet: PublishedSnippet | None = None
    statistics: VideoStatistics | None = None


class ChannelStatistics(YouTubeModel):
    # Rounded down to three significant figures by YouTube; absent or meaningless when hidden.
    subscriber_count: Count | None = None
    hidden_subscriber_count: bool = False
    video_count: Count | None = None


class Channel(YouTubeModel):
    kind: str = "youtube#channel"
    id: str
    title: str | None = Field(None, validation_alias=AliasPath("snippet", "title"))
    custom_url: str | None = Field(None, validation_alias=AliasPath("snippet", "customUrl"))  # the @handle, if any
    statistics: ChannelStatistics | None = None
    # The one part of contentDetails read (by the walk): the playlist of the channel's uploads.
    uploads_playlist: str | None = Field(None, validation_alias=AliasPath("contentDetails", "relatedPlaylists", "uploads"))


class PlaylistItemSnippet(PublishedSnippet):  # channel_id and channel_title: the playlist's owner
    published_at: IsoDatetime | None = None  # when the item was added to the playlist
    # The video's owner; differs from channel_id in other people's playlists.
    video_owner_channel_id: str | None = None
    video_owner_channel_title: str | None = None
    resource_id: ResourceId | None = None


class PlaylistItemContentDetails(YouTubeModel):
    video_id: str | None = None
    video_published_at: IsoDatetime | None = None  # absent for private and deleted videos


class PlaylistItem(YouTubeModel):
    snippet: PlaylistItemSnippet | None = None
    content_details: PlaylistItemContentDetails | None = None


class SearchResult(YouTubeModel):
    id: ResourceId
    snippet: PublishedSnippet | None = None  # HTML-escaped text, unlike videos.list


class Activity(YouTubeModel):
    snippet: PublishedSnippet | None = None
    type: str | None = Field(None, validation_alias=AliasPath("snippet", "type"))  # upload, like, playlistItem, ...
    # What an upload activity names (with part=contentDetails): the video uploaded.
    upload_video_id: str | None = Field(None, validation_alias=AliasPath("contentDetails", "upload", "videoId"))


class CommentSnippet(YouTubeModel):
    author_display_name: str | None = None
    # Present on thread comments; comments.list(parentId=...) replies leave it out.
    video_id: str | None = None
    text_display: str | None = None
    text_original: str | None = None
    parent_id: str | None = None  # only on replies: the top-level comment's id
    like_count: Count | None = None
    published_at: IsoDatetime


class Comment(YouTubeModel):
    id: str
    snippet: CommentSnippet


class CommentThread(YouTubeModel):  # the three fields of its snippet that are read, through their path
    id: str
    video_id: str | None = Field(None, validation_alias=AliasPath("snippet", "videoId"))
    top_level_comment: Comment = Field(validation_alias=AliasPath("snippet", "topLevelComment"))
    total_reply_count: Count = Field(0, validation_alias=AliasPath("snippet", "totalReplyCount"))
    # The replies inline (with part=replies), raw like list items, so one bad reply does not lose the thread.
    inline_replies: list[Any] = Field(default_factory=list, validation_alias=AliasPath("replies", "comments"))

