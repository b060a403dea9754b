"""The cross-platform normalized schema.

Every platform's normalizer turns one raw API response body into these records. The same
records feed the `social-assets normalize` command and the pipeline's `normalized.*` tables,
so a field added here is added everywhere.

A count the platform does not report is None, never 0: "unknown" and "nobody liked it" are
different facts for an analyst.

Every record is checked before it can reach DuckDB (`_Record._fits_the_warehouse`), field by
field, so a field added to a record is checked too:
- ids (`platform` and every `*_id` field) are non-empty and hold no lone surrogate;
- numbers fit BIGINT and are finite; counts are never negative (only `likes` may be: it is
  Reddit's score, upvotes minus downvotes);
- timestamps have a zone and are plausible: not before the platform existed (`LAUNCHED`, or
  `EARLIEST_TIMESTAMP` for a platform not listed there) and at most `FUTURE_SKEW` ahead of now;
- text loses its lone surrogates (each becomes U+FFFD): they are half an emoji, not a reason to
  lose the post, and DuckDB refuses them.
A record that breaks a rule raises `ValidationError`; the normalizers turn it into a `Rejected`
item, which the pipeline keeps as a dead letter.

Building a record is the inner loop of normalization (a million comments a day), so a record
whose values already have their fields' exact types and keep every rule is made without
pydantic's validation (`_Record.__init__`, `_clean_values`); any other goes through it, which
converts what it can and words the error.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone
from functools import partial
from types import NoneType, UnionType
from typing import Any, Callable, Generic, Iterable, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from social_assets.core.timeutil import utc_now

Resource = Literal["posts", "comments", "profiles"]
RESOURCES: tuple[Resource, ...] = ("posts", "comments", "profiles")

ContentType = Literal["text", "link", "image", "gallery", "video", "poll", "other"]


BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
# Counts that may go below zero: Reddit's score is upvotes minus downvotes.
SIGNED_COUNTS = frozenset({"likes"})

# The day each platform opened; nothing on it is older. A platform not listed gets
# EARLIEST_TIMESTAMP, before the oldest platform planned (LinkedIn, May 2003).
LAUNCHED: dict[str, date] = {
    "reddit": date(2005, 6, 23),
    "youtube": date(2005, 2, 14),
}
EARLIEST_TIMESTAMP = date(2003, 1, 1)
# How far ahead of this machine's clock a timestamp may be (clocks differ a little).
FUTURE_SKEW = timedelta(days=1)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """`text` with each lone surrogate (half of a UTF-16 pair, e.g. JSON `"\\ud800"`) replaced by
    U+FFFD. Python keeps them in `str`; UTF-8, DuckDB and JSON output cannot hold them."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def has_lone_surrogate(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def _is_id(field_name: str) -> bool:
    return field_name == "platform" or field_name.endswith("_id")


def _plausible_time(value: datetime, platform: Any) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    value = value.astimezone(timezone.utc)
    opened = LAUNCHED.get(platform, EARLIEST_TIMESTAMP) if isinstance(platform, str) else EARLIEST_TIMESTAMP
    if value.date() < opened:
        raise ValueError(f"timestamp {value.isoformat()} is before {platform} existed ({opened})")
    latest = utc_now() + FUTURE_SKEW
    if value > latest:
        raise ValueError(f"timestamp {value.isoformat()} is more than {FUTURE_SKEW.total_seconds() / 3600:g} h in the future")
    return value


def _fitting_number(value: int | float, field_name: str) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    if not BIGINT_MIN <= value <= BIGINT_MAX:
        raise ValueError(f"{value} does not fit a BIGINT")
    if value < 0 and field_name not in SIGNED_COUNTS:
        raise ValueError(f"{value} is negative")
    return value


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    platform: str

    def __init__(self, /, **data: Any) -> None:
        values = _clean_values(type(self), data)
        if values is None:
            super().__init__(**data)  # converts, or raises the ValidationError naming the field
            return
        # What pydantic's validation would have set, with the same values.
        _set_attribute(self, "__dict__", values)
        _set_attribute(self, "__pydantic_fields_set__", set(data))
        _set_attribute(self, "__pydantic_extra__", None)
        _set_attribute(self, "__pydantic_private__", None)

    @field_validator("*")
    @classmethod
    def _fits_the_warehouse(cls, value: Any, info: ValidationInfo) -> Any:
        """The rules of the module docstring, applied to every field by its type and name."""
        name = info.field_name or ""
        if isinstance(value, str):
            if _is_id(name):
                if not value.strip():
                    raise ValueError("id is empty")
                if has_lone_surrogate(value):
                    raise ValueError("id holds a lone surrogate")
                return value
            return without_lone_surrogates(value)
        if isinstance(value, list):
            return [without_lone_surrogates(v) if isinstance(v, str) else v for v in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return _fitting_number(value, name)
        if isinstance(value, datetime):
            return _plausible_time(value, info.data.get("platform"))
        return value


_set_attribute = object.__setattr__
_TEXT, _ID, _CHOICE, _INT, _FLOAT, _TIME, _TEXTS, _OTHER = range(8)
# name, kind, None allowed, what is allowed (choices or bounds), the default's maker (None: required)
_FieldRule = tuple[str, int, bool, Any, Callable[[], Any] | None]


def _field_rules(model: type[_Record]) -> list[_FieldRule]:
    """How `_clean_values` checks each field of `model`, from its annotation and constraints."""
    rules = []
    for name, info in model.model_fields.items():
        kind, optional, allowed = _OTHER, False, None
        annotation = info.annotation
        if get_origin(annotation) in (Union, UnionType):
            args = [a for a in get_args(annotation) if a is not NoneType]
            optional = len(args) < len(get_args(annotation))
            annotation = args[0] if len(args) == 1 else None
        low, high = (BIGINT_MIN if name in SIGNED_COUNTS else 0), BIGINT_MAX
        bounded = True
        for constraint in info.metadata:
            if isinstance(constraint, annotated_types.Ge):
                low = max(low, constraint.ge)
            elif isinstance(constraint, annotated_types.Le):
                high = min(high, constraint.le)
            else:
                bounded = False
        if annotation is str:
            kind = _ID if _is_id(name) else _TEXT
        elif get_origin(annotation) is Literal:
            kind, allowed = _CHOICE, frozenset(get_args(annotation))
        elif annotation is int:
            kind, allowed = _INT, (low, high)
        elif annotation is float:
            kind, allowed = _FLOAT, (low, high)
        elif annotation is datetime:
            kind = _TIME
        elif annotation == list[str]:
            kind = _TEXTS
        if not bounded:
            kind = _OTHER
        if info.is_required():
            default = _REQUIRED
        elif info.default_factory is not None:
            default = info.default_factory
        else:
            default = partial(_same, info.default)
        rules.append((name, kind, optional, allowed, default))
    return rules


def _same(value: Any) -> Any:
    return value


_REQUIRED = None


_RULES: dict[type, list[_FieldRule]] = {}


def _clean(text: str) -> bool:
    return text.isascii() or _LONE_SURROGATE.search(text) is None


def _clean_values(model: type[_Record], data: dict[str, Any]) -> dict[str, Any] | None:
    """The record's field values when each is already of its field's exact type and keeps every
    rule of the module docstring (validation would return them as they are); else None."""
    rules = _RULES.get(model)
    if rules is None:
        rules = _RULES[model] = _field_rules(model)
    values: dict[str, Any] = {}
    given = 0
    platform = data.get("platform")
    for name, kind, optional, allowed, default in rules:
        if name not in data:
            if default is None:
                return None  # required: pydantic says it is missing
            values[name] = default()
            continue
        given += 1
        value = data[name]
        if value is None:
            if not optional:
                return None
        elif kind == _TEXT:
            if type(value) is not str or not _clean(value):
                return None
        elif kind == _ID:
            if type(value) is not str or not value or value.isspace() or not _clean(value):
                return None
        elif kind == _INT:
            if type(value) is not int or not allowed[0] <= value <= allowed[1]:
                return None
        elif kind == _TIME:
            if type(value) is not datetime or value.tzinfo is not timezone.utc:
                return None
            opened = LAUNCHED.get(platform, EARLIEST_TIMESTAMP) if type(platform) is str else EARLIEST_TIMESTAMP
            if value.date() < opened or value > utc_now() + FUTURE_SKEW:
                return None
        elif kind == _CHOICE:
            if type(value) is not str or value not in allowed:
                return None
        elif kind == _FLOAT:
            if type(value) is not float or not allowed[0] <= value <= allowed[1]:  # NaN fails both
                return None
        elif kind == _TEXTS:
            if type(value) is not list or not all(type(v) is str and _clean(v) for v in value):
                return None
            value = list(value)
        else:
            return None
        values[name] = value
    return values if given == len(data) else None  # else a field the record does not have


class PostRecord(_Record):
    post_id: str
    author_id: str | None
    author_username: str | None
    text: str
    content_type: ContentType
    media_urls: list[str] = Field(default_factory=list)
    published_at: datetime
    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None
    permalink: str | None
    # Reported by some platforms only (Instagram, Facebook, TikTok, LinkedIn, X): None elsewhere.
    saves: int | None = None
    impressions: int | None = None
    reach: int | None = None
    clicks: int | None = None
    watch_time_seconds: float | None = None
    # A video's length in seconds (TikTok); None where the platform does not give it.
    duration_seconds: float | None = None


class CommentRecord(_Record):
    comment_id: str
    post_id: str
    # None for a top-level comment: its parent is the post itself.
    parent_id: str | None
    author_username: str | None
    text: str
    published_at: datetime
    likes: int | None
    # 0 for a top-level comment, 1 for a reply to it, and so on. The column is an INTEGER.
    depth: int = Field(ge=0, le=2**31 - 1)


class ProfileRecord(_Record):
    account_id: str
    username: str | None
    followers: int | None
    following: int | None
    posts_count: int | None
    # Likes the account's posts received in all (TikTok's likes_count); None where not given.
    likes_received: int | None = None
    # Set on a past count a platform's history endpoint gives (daily follower gains on Instagram
    # and LinkedIn, YouTube Analytics' subscriber changes):
    # the moment it describes. Such a record is a derived follower snapshot, not the profile.
    observed_at: datetime | None = None


RecordT = TypeVar("RecordT", PostRecord, CommentRecord, ProfileRecord)

RECORD_TYPES: dict[Resource, type[_Record]] = {
    "posts": PostRecord,
    "comments": CommentRecord,
    "profiles": ProfileRecord,
}


# What handling one item can raise when its data is bad (a ValidationError is a ValueError;
# RecursionError comes from data nested too deep). The item is rejected, not its response.
ITEM_ERRORS: tuple[type[Exception], ...] = (
    ArithmeticError, AttributeError, LookupError, RecursionError, TypeError, ValueError,
)


def one_line(text: str, limit: int = 300) -> str:
    """`text` fit for a one-line message: no line breaks, no lone surrogates, at most `limit`."""
    flat = without_lone_surrogates(" ".join(str(text).split()))
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class Unusable(ValueError):
    """Raised while building one item's record: the item is well-formed but is not something this
    resource records (a reply without its video, a playlist instead of a video). The message is
    the reason given in its `Rejected`."""


def reason_of(error: BaseException) -> str:
    """A one-line reason for a rejected item from what its handling raised."""
    if isinstance(error, Unusable):
        return one_line(str(error))
    if isinstance(error, ValidationError):
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "item"
        return one_line(f"{where}: {problem['msg']}")
    if isinstance(error, RecursionError):
        return "nested too deeply to read"
    return one_line(f"{type(error).__name__}: {error}")


class Rejected(BaseModel):
    """An item of a valid response that could not be normalized. `payload` is the item as
    the platform sent it, kept in the dead letters so it can be replayed."""

    item_id: str | None
    reason: str
    payload: Any = None

    @field_validator("item_id")
    @classmethod
    def _printable_id(cls, value: str | None) -> str | None:
        # The id only names the item in messages and letters; an empty one names nothing.
        if value is None:
            return None
        return one_line(value, 200) or None

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return one_line(value) or "unknown reason"


class Gone(BaseModel):
    """A post or comment the platform says no longer exists: deleted by its author, removed by
    a moderator, or absent from a lookup that asked for it. Its content is purged from the
    warehouse (privacy/deletions.py); a normalizer reports it instead of making a record."""

    resource: Literal["posts", "comments"]
    item_id: str
    reason: str

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return one_line(value) or "gone"


def gone_posts(post_ids: Iterable[str], reason: str) -> list[Gone]:
    """`Gone` posts, for a refresh that saw them missing (one line per platform)."""
    return [Gone(resource="posts", item_id=post_id, reason=reason) for post_id in dict.fromkeys(post_ids)]


class Normalized(BaseModel, Generic[RecordT]):
    """What a normalizer makes of one response body: the clean records, the rejects and the
    items the body says are gone (deleted or removed on the platform)."""

    records: list[RecordT] = Field(default_factory=list)
    rejected: list[Rejected] = Field(default_factory=list)
    gone: list[Gone] = Field(default_factory=list)

    def add(self, outcome: RecordT | Rejected | Gone) -> None:
        if isinstance(outcome, Gone):
            self.gone.append(outcome)
        else:
            (self.rejected if isinstance(outcome, Rejected) else self.records).append(outcome)


BuiltT = TypeVar("BuiltT")


def attempt(
    build: Callable[[], BuiltT], *, item_id: str | None, payload: Any, explain: Callable[[Exception], str] = reason_of
) -> BuiltT | Rejected:
    """`build()` for one item, or the item's `Rejected` when its data breaks the building: one bad
    item fails only itself. `explain` words the reason."""
    try:
        return build()
    except ITEM_ERRORS as exc:
        return Rejected(item_id=item_id, reason=explain(exc), payload=payload)


def attempt_each(
    items: Iterable[Any], build: Callable[[Any], Any], *, item_id: Callable[[Any], str | None],
    explain: Callable[[Exception], str] = reason_of, rejected: Iterable[Rejected] = (),
) -> Normalized:
    """`attempt` for each item, into one `Normalized` that starts with the `rejected` already
    known (a batch's per-item errors). `item_id(item)` names an item it rejects."""
    result: Normalized = Normalized(rejected=list(rejected))
    for item in items:
        result.add(attempt(partial(build, item), item_id=item_id(item), payload=item, explain=explain))
    return result


class NotAResponse(ValueError):
    """The body is not a response of the requested resource (wrong shape or an API error).

    The message is one line, fit to show to a user as is.
    """

    def __str__(self) -> str:
        return one_line(super().__str__(), 500)


class ApiErrorBody(NotAResponse):
    """The body is the platform's error envelope rather than data."""

    def __init__(self, platform: str, status: int | str | None, message: str):
        self.platform = platform
        self.status = status
        self.error_message = message
        super().__init__(f"{platform} API error {status}: {message}")
