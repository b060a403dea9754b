"""Facebook Graph bodies -> the cross-platform records.

- posts: a posts or feed page (also a Page's videos), one post, or an `?ids=` map. Counts:
  `reactions.summary.total_count` -> likes (every reaction, as Facebook shows them),
  `comments.summary.total_count` -> comments, `shares.count` -> shares. Graph leaves `shares`
  out when a post has none: a post that carries its reactions or comments summary (the counts
  were asked for) and no `shares` has 0 shares; without any count, shares are unknown (null).
  Reach is the expanded post insight `post_total_media_view_unique` (⚠ the successor Meta names
  for the deprecated `post_impressions_unique`), null without it. No views. Text is `message` (a video's `description`); content type from the first
  attachment (photo image, album gallery, video video, share/link link), text without one;
  media URLs are the attachments' images (an album's subattachments), else `full_picture`.
  A post without `created_time` is rejected (a live video has `creation_time` instead).
- comments: a comments page; the post is `post_id` beside the body (the walk records it), and
  a reply's parent `parent_id` beside it or the comment's own `parent.id` (depth 1). Comments
  without `id` (Graph withholds ids from tokens that cannot moderate the Page) are rejected.
- profiles: a Page: `followers_count` -> followers (`fan_count`, the Page's likes, when Graph
  gives no followers_count).
- An error body `{"error": {...}}` names the Graph error (type, code, subcode).
"""

from __future__ import annotations

from typing import Any

from social_assets.core.records import (
    CommentRecord,
    ContentType,
    Normalized,
    PostRecord,
    ProfileRecord,
    Unusable,
    attempt_each,
)
from social_assets.platforms.graph.bodies import (
    count,
    item_id,
    insight_totals,
    obj,
    objects,
    required_id,
    summary_total,
    text,
    timestamp,
)

PLATFORM = "facebook"
_CONTENT_TYPES: dict[str, ContentType] = {
    "photo": "image", "album": "gallery", "video": "video", "video_inline": "video", "video_autoplay": "video",
    "animated_image_video": "video", "share": "link", "link": "link", "native_templates": "link",
}


def normalize_posts(body: Any) -> Normalized[PostRecord]:
    looks = lambda i: any(k in i for k in ("created_time", "message", "permalink_url", "attachments", "creation_time"))  # noqa: E731
    return attempt_each(objects(PLATFORM, body, looks, "Facebook posts"), _post, item_id=item_id)


def normalize_comments(body: Any, post_id: str | None = None, parent_id: str | None = None) -> Normalized[CommentRecord]:
    looks = lambda i: "message" in i or ("created_time" in i and "attachments" not in i)  # noqa: E731
    return attempt_each(objects(PLATFORM, body, looks, "Facebook comments"), lambda i: _comment(i, post_id, parent_id), item_id=item_id)


def normalize_profiles(body: Any) -> Normalized[ProfileRecord]:
    looks = lambda i: any(k in i for k in ("followers_count", "fan_count", "category", "username"))  # noqa: E731
    return attempt_each(objects(PLATFORM, body, looks, "a Facebook Page"), _profile, item_id=item_id)


def _post(item: Any) -> PostRecord:
    item = obj(item)
    post_id = required_id(item, "post")
    sender = item.get("from")
    likes, comments = summary_total(item, "reactions"), summary_total(item, "comments")
    shares = item.get("shares")
    if isinstance(shares, dict):
        shared = count(shares.get("count"), "shares.count")
    else:
        shared = 0 if likes is not None or comments is not None else None  # absent means none (see above)
    permalink = item.get("permalink_url") if isinstance(item.get("permalink_url"), str) else None
    return PostRecord(
        platform=PLATFORM,
        post_id=post_id,
        author_id=str(sender["id"]) if isinstance(sender, dict) and sender.get("id") else post_id.split("_")[0] if "_" in post_id else None,
        author_username=sender.get("name") if isinstance(sender, dict) and isinstance(sender.get("name"), str) else None,
        text=text(item.get("message") if "message" in item else item.get("description"), "message"),
        content_type=_content_type(item),
        media_urls=_media_urls(item),
        published_at=timestamp(item, "created_time"),
        likes=likes, comments=comments, shares=shared, views=None,
        reach=insight_totals(item).get("post_total_media_view_unique"),
        permalink=f"https://www.facebook.com{permalink}" if permalink and permalink.startswith("/") else permalink,
    )


def _attachments(item: dict) -> list[dict]:
    node = item.get("attachments")
    data = node.get("data") if isinstance(node, dict) else None
    return [a for a in data if isinstance(a, dict)] if isinstance(data, list) else []


def _content_type(item: dict) -> ContentType:
    attachments = _attachments(item)
    if not attachments:
        return "video" if "length" in item else "text"
    first = attachments[0]
    return _CONTENT_TYPES.get(str(first.get("media_type") or first.get("type")), "other")


def _media_urls(item: dict) -> list[str]:
    urls = []
    for attachment in _attachments(item):
        subs = attachment.get("subattachments")
        parts = subs.get("data") if isinstance(subs, dict) and isinstance(subs.get("data"), list) else [attachment]
        for part in parts:
            media = part.get("media") if isinstance(part, dict) else None
            image = media.get("image") if isinstance(media, dict) else None
            if isinstance(image, dict) and isinstance(image.get("src"), str):
                urls.append(image["src"])
    if not urls and isinstance(item.get("full_picture"), str):
        urls.append(item["full_picture"])
    return urls


def _comment(item: Any, post_id: str | None, parent_id: str | None) -> CommentRecord:
    item = obj(item)
    comment_id = required_id(item, "comment")
    if not post_id:
        raise Unusable("the post it belongs to is unknown: a comments body does not name it (the collector records it)")
    parent = item.get("parent")
    parent = parent_id or (str(parent["id"]) if isinstance(parent, dict) and parent.get("id") else None)
    sender = item.get("from")
    return CommentRecord(
        platform=PLATFORM, comment_id=comment_id, post_id=post_id, parent_id=parent,
        author_username=sender.get("name") if isinstance(sender, dict) and isinstance(sender.get("name"), str) else None,
        text=text(item.get("message"), "message"), published_at=timestamp(item, "created_time"),
        likes=count(item.get("like_count"), "like_count"), depth=0 if parent is None else 1,
    )


def _profile(item: Any) -> ProfileRecord:
    item = obj(item)
    username = item.get("username") if isinstance(item.get("username"), str) else None
    followers = count(item.get("followers_count"), "followers_count")
    return ProfileRecord(
        platform=PLATFORM, account_id=(username or required_id(item, "Page")).lower(),
        username=username or (item.get("name") if isinstance(item.get("name"), str) else None),
        followers=followers if followers is not None else count(item.get("fan_count"), "fan_count"),
        following=None, posts_count=None,
    )
