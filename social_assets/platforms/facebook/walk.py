"""Reading one Facebook Page's day (all calls through the source's `RestClient`, which lands them):

1. profile: `GET /{page}?fields=id,name,username,link,followers_count,fan_count` (landed as
   "profiles"); it gives the Page id.
2. posts: `GET /{page-id}/posts` (the Page's own posts) with `since`/`until` = the day, 100 a
   page by `paging.next`, and the counts by field expansion in the same call: `shares`,
   `reactions.summary(total_count).limit(0)`, `comments.summary(true).limit(0)` (landed as
   "posts"); paging stops too at a post older than the day. Post insights come the same way,
   where the token allows them (`insights.metric(post_total_media_view_unique)`, the post's
   reach): a refusal (permission, or an unknown metric after Graph's metric churn) reads the
   pages again without them, and reach stays null.
3. comments, per post with comments: `GET /{post-id}/comments` (top level, chronological), then
   `GET /{comment-id}/comments` for each comment with replies (landed as "comments" with the
   post, and for replies the comment, beside the body).

The refresh: `GET /?ids=` (50 posts a call) with the same fields (insights only where allowed).
"""

from __future__ import annotations

from typing import Sequence

from social_assets.core.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from social_assets.core.records import Gone
from social_assets.core.rest import RestClient, batches
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.facebook.spec import PLATFORM, FacebookSource
from social_assets.platforms.graph.api import BATCH_IDS, GraphNext, data_items, lookup, posts_of_day
from social_assets.platforms.graph.bodies import summary_total, timestamp

PAGE_FIELDS = "id,name,username,link,followers_count,fan_count"
POST_FIELDS = ("id,message,created_time,permalink_url,full_picture,from,attachments{media_type,type,media,url,subattachments},"
               "shares,reactions.summary(total_count).limit(0),comments.summary(true).limit(0)")
POST_INSIGHTS = "insights.metric(post_total_media_view_unique)"
COMMENT_FIELDS = "id,message,created_time,from,like_count,comment_count,parent{id}"
PAGE_SIZE = "100"


class FacebookWalk:
    def __init__(self, client: RestClient, source: FacebookSource):
        self.client = client
        self.source = source
        self.page_id: str | None = None
        self.insights = True  # post insights by field expansion, until Graph refuses them

    def profile(self) -> None:
        body = self.client.get(f"/{self.source.page}", params={"fields": PAGE_FIELDS}, land_as="profiles")
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise NotFoundError(PLATFORM, "GET", self.client.url(f"/{self.source.page}"), 200,
                                f"Page {self.source.page}: no Page in the answer")
        self.page_id = body["id"]

    def posts(self, window: DayWindow) -> list[PostRef]:
        if self.page_id is None:
            self.profile()
        try:
            return self._posts(window)
        except (InvalidRequestError, PermissionDeniedError):
            if not self.insights:
                raise
            self.insights = False
            return self._posts(window)

    def _posts(self, window: DayWindow) -> list[PostRef]:
        fields = f"{POST_FIELDS},{POST_INSIGHTS}" if self.insights else POST_FIELDS
        params = {"fields": fields, "limit": PAGE_SIZE, "since": str(int(window.start.timestamp())),
                  "until": str(int(window.end.timestamp()))}
        pages = self.client.pages("GET", f"/{self.page_id}/posts", GraphNext(), params=params, land_as="posts")
        return posts_of_day(pages, window, self.source.post_limit, lambda item: timestamp(item, "created_time"),
                            lambda item: summary_total(item, "comments"))

    def comments(self, post: PostRef) -> None:
        params = {"fields": COMMENT_FIELDS, "filter": "toplevel", "order": "chronological", "summary": "true",
                  "limit": PAGE_SIZE}
        try:
            for page in self.client.pages("GET", f"/{post.post_id}/comments", GraphNext(), params=params,
                                          land_as="comments", context={"post_id": post.post_id}):
                for comment in data_items(page):
                    replies = comment.get("comment_count")
                    if self.source.comment_depth >= 1 and isinstance(replies, int) and replies > 0 and comment.get("id"):
                        context = {"post_id": post.post_id, "parent_id": str(comment["id"])}
                        for _ in self.client.pages("GET", f"/{comment['id']}/comments", GraphNext(),
                                                   params={**params, "filter": "stream"}, land_as="comments", context=context):
                            pass  # landing is the point
        except NotFoundError:
            pass  # deleted since it was listed: no comments, not a failure


def refresh(client: RestClient, post_ids: Sequence[str]) -> list[Gone]:
    """Current counts of known posts: `GET /?ids=`, 50 a call, landed as "posts". A post Graph
    says does not exist was deleted: it is reported gone (`graph.api.lookup`)."""
    fields, gone = f"{POST_FIELDS},{POST_INSIGHTS}", []
    for batch in batches(post_ids, BATCH_IDS):
        try:
            gone += lookup(client, batch, fields)
        except (InvalidRequestError, PermissionDeniedError):
            if fields == POST_FIELDS:
                raise
            fields = POST_FIELDS  # the token may not read insights
            gone += lookup(client, batch, fields)
    return gone
