"""Mastodon response bodies -> the cross-platform records.

- posts: a list of statuses (`accounts/:id/statuses`, the batch `statuses?id[]=`) or one status
  (`statuses/:id`). A reblog is not its booster's post: the walk asks for `exclude_reblogs`,
  and a reblog that still comes is left out (neither a record nor a reject). Counts:
  `favourites_count` -> likes, `reblogs_count` -> shares, `replies_count` -> comments; Mastodon
  has no view counts (None).
- comments: a `statuses/:id/context`. Its `descendants` are a flat list; the tree is rebuilt
  from `in_reply_to_id`: a reply to the status itself is top level (depth 0, no parent), any
  other reply hangs under the descendant it answers. `ancestors` are the statuses above the one
  asked about, not its comments. The status asked about is `status_id` (the walk records it
  beside the body); without it, it is the status every top-level descendant answers. Replies
  deeper than the source's `comment_depth` (`max_depth`, also recorded) are left out.
- profiles: an account (`accounts/lookup`, `accounts/:id`).

Content is HTML. It becomes plain text: paragraphs and line breaks kept, mentions and hashtags
as their text (`@user`, `#tag`), and every other link as its full URL, because Mastodon shortens
a link's visible text. Media URLs are the attachments'. Usernames are qualified with their
instance (`user@instance`), since a bare `acct` only means "of the answering instance".
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any, TypeVar
from urllib.parse import urlsplit

from social_assets.core.records import (
    ApiErrorBody,
    CommentRecord,
    ContentType,
    Normalized,
    NotAResponse,
    PostRecord,
    ProfileRecord,
    Unusable,
    attempt_each,
)
from social_assets.platforms.mastodon.models import Account, Status

PLATFORM = "mastodon"
# The error texts seen, and their statuses, to name them when only the body is at hand.
_KNOWN_ERRORS = {"Record not found": 404, "Not Found": 404, "The access token is invalid": 401,
                 "Too many requests": 429, "This action is not allowed": 403}
_MEDIA_TYPES: dict[str, ContentType] = {"image": "image", "gifv": "video", "video": "video"}

R = TypeVar("R")


# -- entry points -----------------------------------------------------------------------------


def normalize_posts(body: Any) -> Normalized[PostRecord]:
    statuses = [body] if isinstance(body, dict) and _looks_like_status(body) else _status_list(body, "posts")
    kept = [s for s in statuses if not (isinstance(s, dict) and s.get("reblog"))]
    return attempt_each(kept, _post, item_id=_id)


def normalize_comments(body: Any, status_id: str | None = None, max_depth: str | None = None) -> Normalized[CommentRecord]:
    """`max_depth`: the source's `comment_depth`; deeper replies are left out (Mastodon has no
    depth parameter, so the walk records it beside the body)."""
    _raise_error(body)
    if not isinstance(body, dict) or not isinstance(body.get("descendants"), list):
        raise NotAResponse(f"expected a Mastodon status context ({{ancestors, descendants}}), found {_kind(body)}")
    descendants = body["descendants"]
    parent_of = {d["id"]: d.get("in_reply_to_id") for d in descendants if isinstance(d, dict) and isinstance(d.get("id"), str)}
    subject = status_id or _subject(parent_of)
    depths: dict[str, int] = {}

    def depth(status: str, seen: tuple[str, ...] = ()) -> int:
        if status not in depths:
            parent = parent_of.get(status)
            if parent == subject:
                depths[status] = 0
            elif parent not in parent_of or parent in seen:
                raise Unusable(f"reply to {parent}, which is neither status {subject} nor one of its replies")
            else:
                depths[status] = depth(parent, (*seen, status)) + 1
        return depths[status]

    def comment(item: Any) -> CommentRecord:
        status = _status(item)
        level = depth(status.id)
        return CommentRecord(
            platform=PLATFORM, comment_id=status.id, post_id=str(subject),
            parent_id=None if level == 0 else status.in_reply_to_id,
            author_username=_qualified(status.account), text=_text(status),
            published_at=status.created_at, likes=status.favourites_count, depth=level,
        )

    deepest = int(max_depth) if max_depth not in (None, "") else None
    result = attempt_each(descendants, comment, item_id=_id)
    if deepest is not None:
        result.records = [r for r in result.records if r.depth <= deepest]
    return result


def normalize_profiles(body: Any) -> Normalized[ProfileRecord]:
    _raise_error(body)
    accounts = body if isinstance(body, list) else [body]
    if not accounts or not all(isinstance(a, dict) and "acct" in a and "content" not in a for a in accounts):
        raise NotAResponse(f"expected a Mastodon account, found {_kind(body)}")

    def profile(item: Any) -> ProfileRecord:
        account = _model(Account, item)
        return ProfileRecord(
            platform=PLATFORM, account_id="@" + _qualified(account), username=account.username,
            followers=account.followers_count, following=account.following_count, posts_count=account.statuses_count,
        )

    return attempt_each(accounts, profile, item_id=_id)


# -- records ----------------------------------------------------------------------------------


def _post(item: Any) -> PostRecord:
    status = _status(item)
    media = [m.url or m.remote_url for m in status.media_attachments if m.url or m.remote_url]
    return PostRecord(
        platform=PLATFORM, post_id=status.id, author_id=status.account.id, author_username=_qualified(status.account),
        text=_text(status), content_type=_content_type(status), media_urls=media, published_at=status.created_at,
        likes=status.favourites_count, comments=status.replies_count, shares=status.reblogs_count, views=None,
        permalink=status.url or status.uri,
    )


def _content_type(status: Status) -> ContentType:
    kinds = [m.type for m in status.media_attachments]
    if len(kinds) > 1 and all(k == "image" for k in kinds):
        return "gallery"
    if kinds:
        return _MEDIA_TYPES.get(kinds[0], "other")
    if status.poll is not None:
        return "poll"
    return "link" if status.card is not None else "text"


def _text(status: Status) -> str:
    text = html_to_text(status.content)
    return f"{status.spoiler_text}\n\n{text}".strip() if status.spoiler_text else text


def _qualified(account: Account) -> str:
    """`user@instance`: a bare acct is an account of the instance its profile URL is on."""
    if "@" in account.acct:
        return account.acct
    host = urlsplit(account.url or "").hostname
    return f"{account.acct}@{host}" if host else account.acct


class _PlainText(HTMLParser):
    """Mastodon's status HTML as plain text (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._link: tuple[str, int] | None = None  # (href, where its text starts) of a plain link

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")
        elif tag == "a":
            attributes = dict(attrs)
            classes = (attributes.get("class") or "").split()
            if attributes.get("href") and not {"mention", "hashtag"} & set(classes):
                self._link = (attributes["href"] or "", len(self.parts))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            href, start = self._link
            self.parts[start:] = [href]  # the whole URL instead of its shortened text
            self._link = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _PlainText()
    parser.feed(content or "")
    parser.close()
    return "".join(parser.parts).strip()


# -- plumbing ---------------------------------------------------------------------------------


def _model(model: type[R], item: Any) -> R:
    if not isinstance(item, dict):
        raise Unusable(f"expected a JSON object, found {_kind(item)}")
    return model.model_validate(item)  # a ValidationError rejects the item, naming the field


def _status(item: Any) -> Status:
    return _model(Status, item)


def _subject(parent_of: dict[str, str | None]) -> str | None:
    """The status whose context this is: what the top-level replies answer."""
    answered = {parent for parent in parent_of.values() if parent not in parent_of}
    return answered.pop() if len(answered) == 1 else None


def _looks_like_status(body: dict) -> bool:
    return "content" in body and "account" in body


def _status_list(body: Any, resource: str) -> list[Any]:
    _raise_error(body)
    if not isinstance(body, list):
        raise NotAResponse(f"expected a Mastodon status or a list of statuses for {resource}, found {_kind(body)}")
    if body and not any(isinstance(s, dict) and _looks_like_status(s) for s in body):
        raise NotAResponse(f"expected a list of Mastodon statuses for {resource}, found a list of other objects")
    return body


def _raise_error(body: Any) -> None:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message = body["error"]
        raise ApiErrorBody(PLATFORM, _KNOWN_ERRORS.get(message, "(status not in the body)"), message)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object with keys " + ", ".join(sorted(value)[:6])
    return "a JSON array" if isinstance(value, list) else f"a JSON {type(value).__name__}"


def _id(item: Any) -> str | None:
    return str(item["id"]) if isinstance(item, dict) and item.get("id") is not None else None
