"""Instagram Graph bodies -> the cross-platform records.

- posts: a media page (`/{id}/media`, `/tags`, `/stories`, hashtag `top_media`), one media,
  an `?ids=` map, or `business_discovery`'s nested media. `like_count` -> likes,
  `comments_count` -> comments; the insights expanded into a media give reach, saves
  (`saved`), shares, views (and the deprecated impressions). A metric Graph does not give is
  null, never 0. Content type: CAROUSEL_ALBUM gallery (its children's media URLs), VIDEO and
  reels video, IMAGE image. A media without `timestamp` (not asked for) is rejected.
- comments: a comments page, each with one level of `replies` attached to it (depth 1, parent
  the top-level comment), or a replies page (`parent_id` beside the body, or the reply's own).
  The media is `post_id` beside the body (the walk records it), else the comment's `media.id`.
- profiles: an account (`followers_count`, `follows_count`, `media_count`) or a
  `business_discovery` answer. Expanded account insights `follower_count` (new followers per
  day, PLATFORMS.md section 4) become past counts, one record each with `observed_at` = the
  day's end (the pipeline's derived follower snapshots): counted back from the current
  `followers_count` by the new followers of the days after it (⚠ unfollows are not in
  `follower_count`, so a past figure is at most what it was).
- An error body `{"error": {...}}` names the Graph error (type, code, subcode).
"""

from __future__ import annotations

from typing import Any

from social_assets.core.history import counted_back
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
    text,
    timestamp,
)

PLATFORM = "instagram"
_CONTENT_TYPES: dict[str, ContentType] = {"CAROUSEL_ALBUM": "gallery", "VIDEO": "video", "IMAGE": "image"}
_MEDIA_KEYS = ("media_type", "timestamp", "caption", "permalink", "like_count", "media_url")


def normalize_posts(body: Any) -> Normalized[PostRecord]:
    if isinstance(body, dict) and isinstance(body.get("business_discovery"), dict):
        body = body["business_discovery"].get("media") or {"data": []}
    return attempt_each(objects(PLATFORM, body, _is_media, "Instagram media"), _post, item_id=item_id)


def normalize_comments(body: Any, post_id: str | None = None, parent_id: str | None = None) -> Normalized[CommentRecord]:
    items = objects(PLATFORM, body, lambda i: "text" in i or ("timestamp" in i and "media_type" not in i), "Instagram comments")
    result: Normalized = Normalized()
    for item in items:
        top = attempt_each([item], lambda i: _comment(i, post_id, parent_id), item_id=item_id)
        result.records += top.records
        result.rejected += top.rejected
        replies = item.get("replies") if isinstance(item, dict) else None
        if top.records and isinstance(replies, dict) and isinstance(replies.get("data"), list):
            parent = top.records[0]
            nested = attempt_each(replies["data"], lambda i: _comment(i, parent.post_id, parent.comment_id), item_id=item_id)
            result.records += nested.records
            result.rejected += nested.rejected
    return result


def normalize_profiles(body: Any) -> Normalized[ProfileRecord]:
    if isinstance(body, dict) and isinstance(body.get("business_discovery"), dict):
        body = {k: v for k, v in body["business_discovery"].items() if k != "media"}
    result: Normalized = Normalized()
    for item in objects(PLATFORM, body, _is_account, "an Instagram account"):
        profile = attempt_each([item], _profile, item_id=item_id)
        result.records += profile.records
        result.rejected += profile.rejected
        for record in profile.records:
            result.records += _follower_history(item, record)
    return result


# -- records ----------------------------------------------------------------------------------


def _post(item: Any) -> PostRecord:
    item = obj(item)
    media_type = item.get("media_type")
    product = item.get("media_product_type")
    insights = insight_totals(item)
    owner = item.get("owner")
    return PostRecord(
        platform=PLATFORM,
        post_id=required_id(item, "media"),
        author_id=str(owner["id"]) if isinstance(owner, dict) and owner.get("id") is not None else None,
        author_username=item.get("username") if isinstance(item.get("username"), str) else None,
        text=text(item.get("caption"), "caption"),
        content_type="video" if product == "REELS" else _CONTENT_TYPES.get(str(media_type), "other"),
        media_urls=_media_urls(item),
        published_at=timestamp(item, "timestamp"),
        likes=count(item.get("like_count"), "like_count"),
        comments=count(item.get("comments_count"), "comments_count"),
        shares=insights.get("shares"),
        views=insights.get("views"),
        saves=insights.get("saved"),
        reach=insights.get("reach"),
        impressions=insights.get("impressions"),
        permalink=item.get("permalink") if isinstance(item.get("permalink"), str) else None,
    )


def _media_urls(item: dict) -> list[str]:
    children = item.get("children")
    data = children.get("data") if isinstance(children, dict) else None
    if isinstance(data, list) and data:
        return [c["media_url"] for c in data if isinstance(c, dict) and isinstance(c.get("media_url"), str)]
    return [item["media_url"]] if isinstance(item.get("media_url"), str) else []


def _comment(item: Any, post_id: str | None, parent_id: str | None) -> CommentRecord:
    item = obj(item)
    media = item.get("media")
    post = post_id or (str(media["id"]) if isinstance(media, dict) and media.get("id") else None)
    if not post:
        raise Unusable("the media it belongs to is unknown: a comments body does not name it (the collector records it)")
    comment_id = required_id(item, "comment")
    parent = parent_id or (str(item["parent_id"]) if item.get("parent_id") not in (None, comment_id) else None)
    sender = item.get("from")
    author = item.get("username") or (sender.get("username") if isinstance(sender, dict) else None)
    return CommentRecord(
        platform=PLATFORM, comment_id=comment_id, post_id=post, parent_id=parent,
        author_username=author if isinstance(author, str) else None, text=text(item.get("text"), "text"),
        published_at=timestamp(item, "timestamp"), likes=count(item.get("like_count"), "like_count"),
        depth=0 if parent is None else 1,
    )


def _profile(item: Any) -> ProfileRecord:
    item = obj(item)
    username = item.get("username") if isinstance(item.get("username"), str) else None
    followers = count(item.get("followers_count"), "followers_count")
    return ProfileRecord(
        platform=PLATFORM, account_id=f"@{username.lower()}" if username else required_id(item, "account"),
        username=username, followers=followers, following=count(item.get("follows_count"), "follows_count"),
        posts_count=count(item.get("media_count"), "media_count"),
    )


def _follower_history(item: dict, profile: ProfileRecord) -> list[ProfileRecord]:
    """Followers at each day's end from the expanded `follower_count` (new followers a day)."""
    insights = item.get("insights")
    rows = insights.get("data") if isinstance(insights, dict) else None
    row = next((r for r in rows or [] if isinstance(r, dict) and r.get("name") == "follower_count"), None)
    if profile.followers is None or row is None or not isinstance(row.get("values"), list):
        return []
    gains = []
    for value in row["values"]:
        try:
            gained = count(obj(value).get("value"), "follower_count value")
            gains.append((timestamp(value, "end_time"), gained or 0))
        except Unusable:
            continue  # one unreadable day is left out, not the profile
    return [ProfileRecord(**{**profile.model_dump(), "followers": followers, "following": None, "posts_count": None,
                             "observed_at": end})
            for end, followers in counted_back(profile.followers, sorted(gains, reverse=True)) if followers >= 0]


def _is_media(item: dict) -> bool:
    return any(key in item for key in _MEDIA_KEYS) and "values" not in item


def _is_account(item: dict) -> bool:
    return any(key in item for key in ("followers_count", "follows_count", "media_count", "biography"))
