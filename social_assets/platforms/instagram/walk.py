"""Reading one Instagram account's day (all calls through the source's `RestClient`, which lands them):

1. profile: `GET /me?fields=<profile>,insights.metric(follower_count).period(day).since().until()`,
   the counts and, by field expansion, the daily new followers of the last 30 days (landed as
   "profiles"). Accounts that do not qualify (under 100 followers) are refused the insights
   (code 10 or 100): the profile is asked again without them. The token names the account: one
   of another username is a configuration error.
2. posts: `GET /{id}/media` with the media fields, the carousel children's URLs and the
   lifetime insights (reach, saved, shares, views) expanded into each media, 50 a page by
   `paging.next`, newest first, until a post older than the day (landed as "posts"). Should
   Graph refuse the insights expansion (code 100, e.g. a media kind without them), the pages
   are read again without it: the counts stay, the insights are null.
3. comments, per post with comments: `GET /{media-id}/comments` with one level of `replies`
   expanded (landed as "comments" with the media id beside the body); a comment whose replies
   run past the expansion's page follows the replies' own `paging.next`.

The refresh: `GET /?ids=` (50 media a call) with the same fields: counts and insights arrive
late (up to 48 h), so the hourly refresh brings them up to date.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Sequence

import httpx

from social_assets.core.errors import AuthError, InvalidRequestError, NotFoundError, PermissionDeniedError
from social_assets.core.http import server_day
from social_assets.core.records import Gone
from social_assets.core.rest import RestClient, batches
from social_assets.core.timeutil import utc_now
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.graph.api import BATCH_IDS, GraphNext, data_items, lookup, posts_of_day
from social_assets.platforms.graph.bodies import timestamp
from social_assets.platforms.instagram.spec import PLATFORM, TOKEN_VARIABLE, InstagramSource

PROFILE_FIELDS = "id,username,name,followers_count,follows_count,media_count"
HISTORY_DAYS = 30  # follower_count gives at most 30 days
MEDIA_FIELDS = ("id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,timestamp,username,"
                "like_count,comments_count,children{media_type,media_url,thumbnail_url}")
MEDIA_INSIGHTS = "insights.metric(reach,saved,shares,views)"
COMMENT_FIELDS = "id,text,timestamp,username,like_count,parent_id"
PAGE_SIZE = "50"


class InstagramWalk:
    def __init__(self, client: RestClient, source: InstagramSource):
        self.client = client
        self.source = source
        self.user_id: str | None = None
        self.insights = True  # media insights by field expansion, until Graph refuses them

    def profile(self) -> None:
        # The 30 days are the API's: ask its clock first (one small call a day).
        clock = self.client.call("GET", "/me", params={"fields": "id"})
        today = server_day(clock) if clock is not None else utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
        since, until = int((today - timedelta(days=HISTORY_DAYS)).timestamp()), int(today.timestamp())
        history = f"insights.metric(follower_count).period(day).since({since}).until({until})"
        try:
            body = self.client.get("/me", params={"fields": f"{PROFILE_FIELDS},{history}"}, land_as="profiles")
        except (PermissionDeniedError, InvalidRequestError):
            body = self.client.get("/me", params={"fields": PROFILE_FIELDS}, land_as="profiles")
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise NotFoundError(PLATFORM, "GET", self.client.url("/me"), 200, f"{self.source.account_id}: no account in the answer")
        username = str(body.get("username") or "").lower()
        if username and username != self.source.user:
            raise AuthError(PLATFORM, "GET", self.client.url("/me"), 200,
                            f"the token of instagram source {self.source.account_id} belongs to @{username}; "
                            f"check {TOKEN_VARIABLE} (or the source's own credential variable)")
        self.user_id = body["id"]

    def posts(self, window: DayWindow) -> list[PostRef]:
        if self.user_id is None:
            self.profile()
        try:
            return self._posts(window)
        except InvalidRequestError:
            if not self.insights:
                raise
            self.insights = False
            return self._posts(window)

    def _posts(self, window: DayWindow) -> list[PostRef]:
        fields = f"{MEDIA_FIELDS},{MEDIA_INSIGHTS}" if self.insights else MEDIA_FIELDS
        pages = self.client.pages("GET", f"/{self.user_id}/media", GraphNext(), params={"fields": fields, "limit": PAGE_SIZE},
                                  land_as="posts")
        return posts_of_day(pages, window, self.source.post_limit, lambda item: timestamp(item, "timestamp"), _comments_count)

    def comments(self, post: PostRef) -> None:
        fields = COMMENT_FIELDS + (f",replies{{{COMMENT_FIELDS}}}" if self.source.comment_depth >= 1 else "")
        context = {"post_id": post.post_id}
        try:
            for page in self.client.pages("GET", f"/{post.post_id}/comments", GraphNext(),
                                          params={"fields": fields, "limit": PAGE_SIZE}, land_as="comments", context=context):
                for comment in data_items(page):
                    self._more_replies(comment, post)
        except NotFoundError:
            pass  # deleted since it was listed: no comments, not a failure

    def _more_replies(self, comment: dict, post: PostRef) -> None:
        replies = comment.get("replies")
        paging = replies.get("paging") if isinstance(replies, dict) else None
        url = paging.get("next") if isinstance(paging, dict) else None
        if isinstance(url, str) and url.startswith("https://") and isinstance(comment.get("id"), str):
            context = {"post_id": post.post_id, "parent_id": comment["id"]}
            for _ in self.client.pages("GET", str(httpx.URL(url).copy_remove_param("access_token")), GraphNext(),
                                       land_as="comments", context=context):
                pass  # landing is the point


def refresh(client: RestClient, media_ids: Sequence[str]) -> list[Gone]:
    """Current counts and insights of known media: `GET /?ids=`, 50 a call, landed as "posts".
    A media Graph says does not exist was deleted: it is reported gone (`graph.api.lookup`)."""
    return [gone for batch in batches(media_ids, BATCH_IDS) for gone in lookup(client, batch, f"{MEDIA_FIELDS},{MEDIA_INSIGHTS}")]


def _comments_count(item: dict) -> int | None:
    comments = item.get("comments_count")
    return comments if isinstance(comments, int) else None
