"""What Instagram and Facebook Pages share: one Graph API (PLATFORMS.md sections 4 and 5).

- **Version**: pinned here once (`VERSION`), in every path.
- **Auth**: the token goes in `Authorization: Bearer` (⚠ accepted besides the documented
  `access_token` parameter). Decision: no URL we build carries a token, and the `access_token`
  Graph writes into every `paging.next` is taken out before the page is fetched (`GraphNext`),
  so no token reaches a request log or the recorded parameters.
- **Paging**: `paging.next` (`GraphNext`). An empty page can still carry `next`: paging stops
  on a repeated `after` cursor, and after `EMPTY_PAGES` empty pages in a row; walks stop when
  the day's window is passed.
- **Limits** (`usage_limits`): percentages of an unpublished quota in `X-App-Usage`,
  `X-Business-Use-Case-Usage` and `X-Page-Usage` (core `UsageShare`): calls spread out from
  `SLOW_AT` %, and at 100 % (or on a throttle code with no usage reported) nothing goes until
  `estimated_time_to_regain_access`. Limits are kept per token, that is per Page or Instagram
  account (one token per source), and shared by every process through the limit store.
- **Errors** (`ERRORS`): the Graph error object `{"error": {"code", "error_subcode", "type",
  "message", "fbtrace_id"}}`; the code decides, whatever the status (Graph also answers some
  errors with 200): 1, 2 transient; 4, 17, 32, 341, 613, 80001, 80002 throttled; 190 (any
  subcode: 458 app removed, 459 checkpoint, 460 password changed, 463 expired, 464 unconfirmed)
  auth, a configuration error naming the source and its token variable; 10 and 200-299
  permission; 100 with subcode 33 not found (the object does not exist, or not for this
  token); any other 100 invalid.
- **Deleted posts** (`lookup`): Graph fails a whole `?ids=` lookup when one id does not exist
  (code 100, subcode 33, the message naming that id; ⚠ known from client libraries' issues,
  facebook-sdk #115 and #271, not documented): the batch's ids are then asked one by one
  (`fields=id`, not landed), those answering 100/33 are reported gone, and the rest looked up
  again. ⚠ An id left out of a successful answer is reported gone too. ⚠ Graph words 100/33
  "does not exist, cannot be loaded due to missing permissions": a post our own token
  collected is taken as deleted.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Sequence

import httpx

from social_assets.core.errors import Envelope, ErrorKind, ErrorTable, NotFoundError, rule
from social_assets.core.limits import LimitPolicy, UsageShare
from social_assets.core.records import Gone, Unusable, gone_posts
from social_assets.core.rest import PageRequest, RestClient
from social_assets.platforms.base import DayWindow, PostRef

VERSION = "v24.0"
FACEBOOK_GRAPH = f"https://graph.facebook.com/{VERSION}"
INSTAGRAM_GRAPH = f"https://graph.instagram.com/{VERSION}"
BATCH_IDS = 50  # ids per `?ids=` lookup (Graph's maximum)
EMPTY_PAGES = 3  # empty pages in a row that end paging even when they carry `next`

TRANSIENT_CODES = (1, 2)
THROTTLE_CODES = (4, 17, 32, 341, 613, 80001, 80002)
AUTH_CODES = (190,)
PERMISSION_CODES = (10, *range(200, 300))
INVALID_CODES = (100,)
MISSING_OBJECT = "33"  # the subcode of code 100 for an object that does not exist

_TOKEN_PARAM = re.compile(r"(access_token|fb_exchange_token)=[^&\s\"']+")
_VERSION_SEGMENT = re.compile(r"^v\d+(\.\d+)?$")
_ID_SEGMENT = re.compile(r"^\d+(_\d+)?$")


def endpoint_of(method: str, url: str) -> str:
    """`GET /{id}/media`: without the version and ids, so a recorded URL (any version, either
    host) and a sandbox URL name the same endpoint, and each endpoint has one breaker."""
    parts = [p for p in httpx.URL(url).path.split("/") if p]
    named = ["{id}" if _ID_SEGMENT.match(p) else p for p in parts if not _VERSION_SEGMENT.match(p)]
    return f"{method} /" + "/".join(named)


def envelope(body: Any) -> Envelope | None:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or "code" not in error:
        return None
    subcode = error.get("error_subcode")
    kind = error.get("type")
    return Envelope(
        code=str(error["code"]),
        subcode=str(subcode) if subcode is not None else None,
        reasons=frozenset([kind]) if isinstance(kind, str) else frozenset(),
        message=str(error.get("message") or ""),
    )


ERRORS = ErrorTable(
    envelope=envelope,
    rules=(
        rule(ErrorKind.TRANSIENT, codes=TRANSIENT_CODES),
        rule(ErrorKind.THROTTLED, codes=THROTTLE_CODES),
        rule(ErrorKind.AUTH, codes=AUTH_CODES),
        rule(ErrorKind.PERMISSION, codes=PERMISSION_CODES),
        rule(ErrorKind.NOT_FOUND, codes=INVALID_CODES, subcodes=(MISSING_OBJECT,)),
        rule(ErrorKind.INVALID, codes=INVALID_CODES),
    ),
)

# Graph publishes no call counts: 4,800 calls a day per Instagram account (times its
# impressions) and 200 per user an hour for apps. The usage percentages decide; this estimate
# only spreads the last `100 - SLOW_AT` % over the hour.
CALLS_PER_HOUR = 600
SLOW_AT = 80.0


def usage_limits(platform: str) -> LimitPolicy:
    return LimitPolicy(
        platform=platform,
        limits=(UsageShare("graph usage", calls_per_window=CALLS_PER_HOUR, window=3600.0, slow_at=SLOW_AT),),
        endpoint=endpoint_of,
    )


@dataclass
class GraphNext:
    """The next page is `paging.next` without its `access_token` (the header carries the token).
    One per paging loop: it remembers the cursors seen (see the module docstring)."""

    seen: set[str] = field(default_factory=set)
    empty_in_a_row: int = 0

    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        paging = body.get("paging") if isinstance(body, dict) else None
        url = paging.get("next") if isinstance(paging, dict) else None
        if not isinstance(url, str) or not url.startswith("https://"):
            return None
        data = body.get("data")
        self.empty_in_a_row = 0 if data else self.empty_in_a_row + 1
        next_url = httpx.URL(url)
        cursor = next_url.params.get("after") or str(next_url.copy_remove_param("access_token"))
        if cursor in self.seen or self.empty_in_a_row >= EMPTY_PAGES:
            return None
        self.seen.add(cursor)
        return PageRequest(str(next_url.copy_remove_param("access_token")))


def data_items(page: Any) -> Iterator[dict]:
    """The objects of a list page's `data`; anything else is left to the normalizer."""
    data = page.get("data") if isinstance(page, dict) else None
    return (item for item in (data if isinstance(data, list) else []) if isinstance(item, dict))


def posts_of_day(
    pages: Iterable[Any], window: DayWindow, limit: int,
    published: Callable[[dict], datetime], comments: Callable[[dict], int | None],
) -> list[PostRef]:
    """The posts of a newest-first listing that fall in the day, at most `limit`, each once.
    Pages are read until one reaches past the day's start. An item whose time or comment count
    is unreadable (`Unusable`) is skipped here: the normalizer reports it."""
    found: dict[str, PostRef] = {}
    for page in pages:
        older = False
        for item in data_items(page):
            try:
                moment, replies = published(item), comments(item)
            except Unusable:
                continue
            if moment >= window.end:
                continue
            if moment < window.start:
                older = True
                continue
            found.setdefault(str(item.get("id")), PostRef(str(item.get("id")), replies))
            if len(found) >= limit:
                return list(found.values())
        if older:
            break
    return list(found.values())


def lookup(client: RestClient, batch: Sequence[str], fields: str) -> list[Gone]:
    """Lands `GET /?ids=<batch>` as "posts"; the posts Graph says do not exist are reported
    gone (see the module docstring)."""
    try:
        body = client.get("/", params={"ids": ",".join(batch), "fields": fields}, land_as="posts")
    except NotFoundError:
        missing = [object_id for object_id in batch if not _exists(client, object_id)]
        # A token that lost access answers every id the way a deletion does; purging is for
        # good, so a batch of several posts in which none exists any more purges nothing.
        if not missing or len(missing) == len(batch) > 1:
            raise
        rest = [object_id for object_id in batch if object_id not in missing]
        return gone_posts(missing, "code 100 subcode 33 from Graph (deleted)") + (lookup(client, rest, fields) if rest else [])
    return gone_posts([i for i in batch if isinstance(body, dict) and i not in body], "missing from a Graph ?ids= lookup (deleted)")


def _exists(client: RestClient, object_id: str) -> bool:
    try:
        client.get(f"/{object_id}", params={"fields": "id"})
    except NotFoundError:
        return False
    return True


class _NoTokensInLogs(logging.Filter):
    """httpx logs every URL it requests; Instagram's token refresh must carry the token in its
    query (`refresh_access_token?access_token=`): its value never reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "_token=" in message:
            record.msg, record.args = _TOKEN_PARAM.sub(r"\1=<redacted>", message), ()
        return True


logging.getLogger("httpx").addFilter(_NoTokensInLogs())
