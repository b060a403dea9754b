"""Reading one Mastodon account's day on its own instance.

1. `accounts/lookup?acct=<user>` -> the profile and the account id (landed as "profiles").
2. `accounts/:id/statuses?limit=40&exclude_reblogs=true` pages, newest first, following the
   `Link: <...>; rel="next"` header (`max_id`), until a status older than the day or
   `post_limit` of the day. The last page of an account is `[]` with no Link header. Landed as
   "posts". Replies the account wrote in other people's threads stay out
   (`exclude_replies=true`); its own thread continuations stay in, as Mastodon keeps them.
3. `statuses/:id/context` per post with replies -> its flat descendants (landed as "comments"
   with the post's id beside the body; the normalizer rebuilds the tree).

The refresh: `GET /api/v1/statuses?id[]=..` by 20 ids where the instance has it (Mastodon
>= 4.3); an instance that answers it 404 is older, and gets one `statuses/:id` per post instead,
paced by the same per-instance window.
"""

from __future__ import annotations

from typing import Sequence
from urllib.parse import urlencode

from pydantic import ValidationError

from social_assets.core.errors import NotFoundError
from social_assets.core.records import Gone, gone_posts
from social_assets.core.rest import LinkHeader, RestClient, batches, missing_ids, parsed
from social_assets.platforms.base import DayWindow, PostRef
from social_assets.platforms.mastodon.models import Account, Status
from social_assets.platforms.mastodon.spec import BATCH_LOOKUP, PLATFORM, STATUSES_PAGE, MastodonSource

API = "/api/v1"
NEXT_LINK = LinkHeader()


class MastodonWalk:
    def __init__(self, client: RestClient, source: MastodonSource):
        self.client = client
        self.source = source
        self.account_id: str | None = None

    def profile(self) -> None:
        body = self.client.get(f"{API}/accounts/lookup", params={"acct": self.source.username}, land_as="profiles")
        try:
            self.account_id = Account.model_validate(body).id
        except ValidationError:
            raise NotFoundError(PLATFORM, "GET", self.client.url(f"{API}/accounts/lookup"), 200,
                                f"{self.source.account_id}: the lookup answered no account") from None

    def posts(self, window: DayWindow) -> list[PostRef]:
        if self.account_id is None:
            self.profile()
        params = {"limit": str(STATUSES_PAGE), "exclude_reblogs": "true", "exclude_replies": "true"}
        found: dict[str, PostRef] = {}  # a status repeated across pages counts once
        pages = self.client.pages("GET", f"{API}/accounts/{self.account_id}/statuses", NEXT_LINK, params=params,
                                  land_as="posts")
        for page in pages:
            older = False
            for status in (parsed(Status, item) for item in (page if isinstance(page, list) else [])):
                if status is None or status.reblog or status.created_at >= window.end:
                    continue
                if status.created_at < window.start:
                    older = True  # newest first (pinned statuses come only with pinned=true)
                    continue
                found.setdefault(status.id, PostRef(status.id, status.replies_count))
                if len(found) >= self.source.post_limit:
                    return list(found.values())
            if older:
                break
        return list(found.values())

    def comments(self, post: PostRef) -> None:
        try:
            self.client.get(f"{API}/statuses/{post.post_id}/context", land_as="comments",
                            context={"status_id": post.post_id, "max_depth": str(self.source.comment_depth)})
        except NotFoundError:
            pass  # deleted since it was listed: no comments, not a failure


def refresh(client: RestClient, status_ids: Sequence[str]) -> list[Gone]:
    """Current counts of known statuses, landed as "posts" (see the module docstring). A status
    that answers 404, or that the batch lookup leaves out, was deleted: it is reported gone."""
    ids = list(dict.fromkeys(status_ids))
    missing: list[str] = []
    for done, batch in enumerate(batches(ids, BATCH_LOOKUP)):
        try:
            # Repeated `id[]` parameters go in the URL: the client's params are one value a name.
            body = client.json("GET", f"{API}/statuses?{urlencode([('id[]', i) for i in batch])}", land_as="posts")
        except NotFoundError:
            # No batch lookup before Mastodon 4.3: one call per status for the rest.
            for status_id in ids[done * BATCH_LOOKUP:]:
                try:
                    client.call("GET", f"{API}/statuses/{status_id}", land_as="posts")
                except NotFoundError:
                    missing.append(status_id)  # deleted since
            break
        missing += missing_ids(batch, body, ())
    return gone_posts(missing, "404 or missing from the Mastodon status lookup (deleted)")
