"""The sandbox engine: what every platform emulation needs, written once.

- **Credentials** (`Accepted`): an emulation accepts its built-in values and, besides, the values
  of the same variables configured in the environment when the sandbox was built, so a test can
  plant secrets and still run against the sandbox.
- **Tokens** (`TokenIssuer`): signed bearer tokens that expire on the wall clock and can be
  revoked (an injected `expired_token`).
- **Limits** (`Meter`): the rate-limit windows and daily quotas a platform declares in its
  client's `LIMITS` (`core.limits.LimitPolicy`), counted per credential on the wall clock and
  reported in the platform's own rate-limit headers.
- **Ids**: world uids scrambled reversibly into a platform's id lengths (`encode_uid`), so
  any id a client was given resolves again without a lookup table; stable hashes (`digest`).
- **Paging**: id cursors (`cursor_page`), opaque page tokens (`PageTokens`, `token_page`) and offsets
  (`offset_page`); each can start a page one item early, which is how `duplicate_items` shows.
- **Faults** (`Emulation.handle`): a fault kind drawn by `faults.FaultInjector` becomes the
  platform's own answer: its declared error envelopes (`Emulation.errors`) for throttling,
  server errors and expired tokens, a tampered item field, a repeated item across pages; wire
  faults are left to the router. Injected faults are never charged to the limits, and genuine
  limit refusals win over them.

A platform's module in `sandbox/platforms/` subclasses `Emulation` with its routes and the
renderers of the synthetic world into its API's JSON, and declares the rest.

Rate limits and token expiry run on the wall clock (`Emulation.wall_clock`, epoch seconds):
the world's clock is pinned in tests and ticks hourly, which says nothing about how fast a
client calls.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import math
import random
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, Callable, ClassVar, Generic, Iterable, Mapping, Sequence, TypeVar

from social_assets.core.limits import DailyQuota, LimitPolicy, WindowLimit
from social_assets.sandbox.faults import (
    DUPLICATE_ITEMS,
    EXPIRED_TOKEN,
    FIELD_FAULTS,
    GENERIC_FAULTS,
    RATE_LIMITED,
    SERVER_ERROR,
    TRUNCATED_BODY,
    WIRE_FAULTS,
    tamper,
)
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.world import World

T = TypeVar("T")

# The kinds of error answer a platform declares (`Emulation.errors`): the error table's kinds.
THROTTLED, TRANSIENT, QUOTA, AUTH = "throttled", "transient", "quota", "auth"
_ANSWER_OF_FAULT = {RATE_LIMITED: THROTTLED, SERVER_ERROR: TRANSIENT, EXPIRED_TOKEN: AUTH}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def digest(*parts: object) -> int:
    """A stable pseudo-random 64-bit integer for values the world does not hold (ids, ratios)."""
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def _odd_constant(label: str, bits: int) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=bits // 8).digest(), "big") | 1


def encode_uid(uid: int, size: int, label: str) -> bytes:
    """`uid` as `size` bytes through a bijection (so neighbouring uids get unrelated ids, as on
    real platforms): add and multiply by odd constants, fold the high half in, twice."""
    bits = size * 8
    mask, half = (1 << bits) - 1, bits // 2
    value = (uid + _odd_constant(label, bits)) & mask  # so uid 0 does not map to 0
    for round_ in range(2):
        value = (value * _odd_constant(f"{label}/{round_}", bits)) & mask
        value ^= value >> half
    return value.to_bytes(size, "big")


def decode_uid(raw: bytes, label: str) -> int:
    """The inverse of `encode_uid`."""
    bits = len(raw) * 8
    mask, half, value = (1 << bits) - 1, bits // 2, int.from_bytes(raw, "big")
    for round_ in (1, 0):
        value ^= value >> half  # x ^ (x >> half) is its own inverse when half >= bits / 2
        value = (value * pow(_odd_constant(f"{label}/{round_}", bits), -1, 1 << bits)) & mask
    return (value - _odd_constant(label, bits)) & mask


def share(seed: int, label: str, uid: int) -> float:
    """A stable pseudo-random number in [0, 1) for one (label, uid): which items get a trait."""
    return digest(seed, label, uid) / 2**64


def constant_fields(null: str = "", false: str = "", true: str = "", zero: str = "", empty: str = "", lists: str = "",
                    dicts: str = "", **values: Any) -> dict[str, Any]:
    """Keys an API sends with one fixed value in the sandbox's world (no flair, awards or
    moderation), named by that value. Lists are tuples, so shared copies cannot change."""
    fields: dict[str, Any] = {}
    for names, value in ((null, None), (false, False), (true, True), (zero, 0), (empty, ""), (lists, ()), (dicts, {})):
        fields.update(dict.fromkeys(names.split(), value))
    return fields | values


def uid_token(uid: int, size: int, label: str) -> str:
    """`uid` as an opaque base64url id of `size` bytes (`encode_uid`)."""
    return b64(encode_uid(uid, size, label))


def uid_of_token(token: str, size: int, label: str) -> int | None:
    """The uid behind a `uid_token`; None for anything else, non-canonical spellings included."""
    raw = unb64(token)
    if raw is None or len(raw) != size:
        return None
    uid = decode_uid(raw, label)
    return uid if uid_token(uid, size, label) == token else None


def int_param(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


# -- credentials ------------------------------------------------------------------------------


class Accepted:
    """The credential sets an emulation accepts, keyed by environment variable name: the
    built-in one, and the configured one (configured values over the built-in ones)."""

    def __init__(self, builtin: Mapping[str, str], configured: Mapping[str, str] | None = None):
        self.sets = [dict(builtin)]
        planted = {name: value for name, value in (configured or {}).items() if name in builtin and value}
        if planted:
            self.sets.append({**builtin, **planted})

    def accepts(self, **values: str) -> bool:
        return any(
            all(hmac.compare_digest(accepted[name].encode(), value.encode()) for name, value in values.items())
            for accepted in self.sets
        )


# -- tokens -----------------------------------------------------------------------------------


class TokenIssuer:
    """Bearer tokens `sbx.<claims>.<signature>` naming a subject (the client they were issued
    to) and an expiry; each is distinct, so one can be revoked."""

    def __init__(self, secret: str, clock: Callable[[], float]):
        self._key = hashlib.sha256(secret.encode()).digest()
        self._clock = clock
        self._issued = 0
        self._revoked: set[str] = set()

    def issue(self, subject: str, lifetime: int) -> str:
        self._issued += 1
        claims = b64(f"{subject}|{int(self._clock()) + lifetime}|{self._issued}".encode())
        return f"sbx.{claims}.{self._sign(claims)}"

    def subject(self, token: str) -> str | None:
        """The subject of a valid, unexpired, unrevoked token, else None."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != "sbx" or token in self._revoked:
            return None
        if not hmac.compare_digest(parts[2], self._sign(parts[1])):
            return None
        try:
            subject, expires_at, _ = (unb64(parts[1]) or b"").decode().rsplit("|", 2)
            return subject if int(expires_at) > self._clock() else None
        except (ValueError, UnicodeDecodeError):
            return None

    def revoke(self, token: str) -> None:
        self._revoked.add(token)

    def _sign(self, claims: str) -> str:
        return hmac.new(self._key, claims.encode(), "sha256").hexdigest()[:32]


def bearer(request: SandboxRequest) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def basic_credentials(request: SandboxRequest) -> tuple[str, str]:
    """(user, password) of an HTTP Basic `Authorization` header, ("", "") without a readable one."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, password = base64.b64decode(encoded.strip()).decode().partition(":")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


# -- limits -----------------------------------------------------------------------------------


@dataclass
class Window:
    """`limit` calls per fixed window of `seconds` per credential. Refused calls count too
    (the platform saw them), so the headers' "used" can pass the limit."""

    limit: int
    seconds: int
    spec: WindowLimit
    remaining_format: str = "{}"
    _usage: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (window number, used)

    refusal: ClassVar[str] = THROTTLED
    charges_refusals: ClassVar[bool] = True

    def used(self, key: str, now: float) -> int:
        number, used = self._usage.get(key, (None, 0))
        return used if number == int(now // self.seconds) else 0

    def charge(self, key: str, now: float, units: int) -> None:
        self._usage[key] = (int(now // self.seconds), self.used(key, now) + units)

    def spent(self, key: str, now: float) -> bool:
        return self.used(key, now) >= self.limit

    def headers(self, key: str, now: float) -> dict[str, str]:
        names = self.spec.headers
        if names is None:
            return {}
        used = self.used(key, now)
        reset = (int(now // self.seconds) + 1) * self.seconds
        if names.reset_is_iso:  # Mastodon: "2026-04-11T23:15:00.796213Z"
            reset_text = datetime.fromtimestamp(reset, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        else:
            reset_text = str(reset if names.reset_is_epoch else math.ceil(reset - now))
        out = {names.remaining: self.remaining_format.format(max(0, self.limit - used)), names.reset: reset_text}
        if names.used:
            out[names.used] = str(used)
        if names.limit:
            out[names.limit] = str(self.limit)
        return out


@dataclass
class Quota:
    """`limit` units per day in the quota's time zone, per credential. Refused calls cost
    nothing, and no header reports it (as on YouTube)."""

    limit: int
    spec: DailyQuota
    _units: dict[tuple[str, Any], int] = field(default_factory=dict)  # (key, day) -> units

    refusal: ClassVar[str] = QUOTA
    charges_refusals: ClassVar[bool] = False

    def used(self, key: str, now: float) -> int:
        return self._units.get((key, self.spec.day_of(now)), 0)

    def charge(self, key: str, now: float, units: int) -> None:
        day = (key, self.spec.day_of(now))
        self._units[day] = self._units.get(day, 0) + units

    def spent(self, key: str, now: float) -> bool:
        return self.used(key, now) >= self.limit

    def headers(self, key: str, now: float) -> dict[str, str]:
        return {}


class Meter:
    """The limits of one platform, as its `LimitPolicy` declares them."""

    def __init__(self, policy: LimitPolicy | None, remaining_format: str = "{}"):
        self.policy = policy
        self.windows = [Window(int(k.limit), int(k.window), k, remaining_format)
                        for k in (policy.limits if policy else ()) if isinstance(k, WindowLimit)]
        self.quotas = [Quota(k.limit, k) for k in (policy.limits if policy else ()) if isinstance(k, DailyQuota)]
        self.limits: list[Window | Quota] = [*self.windows, *self.quotas]

    def cost(self, request: SandboxRequest) -> int:
        if self.policy is None:
            return 1
        return self.policy.cost(self.policy.endpoint(request.method, f"https://{request.host}{request.path}"))

    def refusal(self, key: str, now: float) -> Window | Quota | None:
        """The limit that refuses this credential's next call, if one does."""
        return next((limit for limit in self.limits if limit.spent(key, now)), None)

    def charge(self, key: str, now: float, units: int, refused_by: Window | Quota | None = None) -> None:
        for limit in self.limits:
            if refused_by is None or limit.charges_refusals:
                limit.charge(key, now, units)

    def headers(self, key: str, now: float) -> dict[str, str]:
        return {name: value for limit in self.limits for name, value in limit.headers(key, now).items()}


# -- paging -----------------------------------------------------------------------------------


@dataclass
class Page(Generic[T]):
    items: list[T]
    next: str | None = None
    previous: str | None = None
    start: int = 0  # position of the first item in the whole list
    overlapped: bool = False  # started one item early: an injected `duplicate_items`


class InvalidCursor(ValueError):
    """A page token or cursor the emulation did not issue for this query."""


def offset_page(items: Sequence[T], offset: int, size: int, overlap: int = 0) -> tuple[list[T], int, bool]:
    """Items [offset, offset + size), started `overlap` items early when the offset allows:
    (page, its real start, whether it overlapped)."""
    start = max(0, offset - overlap)
    return list(items[start : start + size]), start, start < offset


def cursor_page(
    items: Sequence[T], name: Callable[[T], str], limit: int,
    after: str | None = None, before: str | None = None, overlap: int = 0,
) -> Page[T]:
    """Pages addressed by the name of the item they follow (`after`) or precede (`before`), as
    Reddit's fullnames and Mastodon's max_id. An unknown cursor gives an empty page; `next` is
    the last item's name while more follow, `previous` the first's while some precede."""
    names = [name(item) for item in items]
    cursor = after or before
    if cursor and cursor not in names:
        return Page([])
    overlapped = False
    if after:
        page, start, overlapped = offset_page(items, names.index(after) + 1, limit, overlap)
    elif before:
        end = names.index(before)
        start = max(0, end - limit)
        page = list(items[start:end])
    else:
        page, start, _ = offset_page(items, 0, limit)
    end = start + len(page)
    return Page(
        page,
        next=names[end - 1] if page and end < len(items) else None,
        previous=names[start] if page and start > 0 else None,
        start=start,
        overlapped=overlapped and bool(page),
    )


class PageTokens:
    """Opaque page tokens holding an offset, valid only for the query (`scope`) that issued
    them, as YouTube's `pageToken` and X's `pagination_token`."""

    def __init__(self, scope: str):
        self.scope = hashlib.blake2b(scope.encode(), digest_size=6).hexdigest()

    def offset(self, token: str | None) -> int:
        if not token:
            return 0
        raw = unb64(token)
        try:
            scope, offset = json.loads(raw.decode()) if raw else (None, None)
        except (ValueError, TypeError, UnicodeDecodeError):
            scope, offset = None, None
        if scope != self.scope or not isinstance(offset, int) or offset < 0:
            raise InvalidCursor(token)
        return offset

    def token(self, offset: int) -> str:
        return b64(json.dumps([self.scope, offset]).encode())

    def page(self, items: Sequence[T], token: str | None, size: int, overlap: int = 0) -> Page[T]:
        page, start, overlapped = offset_page(items, self.offset(token), size, overlap)
        more = size > 0 and start + size < len(items)
        return Page(
            page,
            next=self.token(start + size) if more else None,
            previous=self.token(max(0, start - size)) if start > 0 else None,
            start=start,
            overlapped=overlapped and bool(page),
        )


# -- errors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorAnswer:
    """One way a platform answers an error: status, its error envelope, and headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    def response(self) -> SandboxResponse:
        return SandboxResponse(self.status, copy.deepcopy(self.body), dict(self.headers))


@dataclass(frozen=True)
class FieldFault:
    """Where content faults hit one resource's items: the field's path, and its new name."""

    path: tuple[str, ...]
    renamed_to: str


# -- the emulation ----------------------------------------------------------------------------


class Emulation:
    """Base of a platform's emulation: `handle` runs every request through the same steps
    (credential, limits, fault, route, charge). A platform declares its class attributes and
    implements `route`, and `authenticate` unless its credentials are bearer tokens of `tokens`."""

    platform: ClassVar[str]
    hosts: ClassVar[tuple[str, ...]]
    catalog: ClassVar[tuple[tuple[str, str], ...]]
    credentials: ClassVar[Mapping[str, str]]  # variable name -> the built-in value
    limits: ClassVar[LimitPolicy | None] = None  # the client's LIMITS
    remaining_format: ClassVar[str] = "{}"  # how the remaining-calls header is written
    # Error kind (THROTTLED, TRANSIENT, QUOTA, AUTH, or the platform's own) -> its answers;
    # an injected fault picks one at random.
    errors: ClassVar[Mapping[str, Sequence[ErrorAnswer]]] = {}
    bearer_tokens: ClassVar[bool] = False  # tokens that can expire (`expired_token` applies)
    token_lifetime: ClassVar[int] = 3600
    faulted_fields: ClassVar[Mapping[str, FieldFault]] = {}  # resource -> where content faults hit
    paged: ClassVar[Mapping[str, str]] = {}  # resource -> its cursor parameter

    def __init__(
        self, world: World, configured: Mapping[str, str] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.wall_clock = wall_clock
        self.accepted = Accepted(self.credentials, configured)
        self.tokens = TokenIssuer(f"{self.platform}-sandbox-token|{world.seed}", lambda: self.wall_clock())
        self.meter = Meter(self.limits, self.remaining_format)
        self.fault_rng = random.Random(f"{self.platform}-faults|{world.seed}")  # which item, which answer

    # -- what a platform implements ---------------------------------------------------------

    def is_token_request(self, request: SandboxRequest) -> bool:
        """A call to the platform's token endpoint: not metered, and only throttling and server
        errors are injected there (the token body itself is never tampered with)."""
        return False

    def authenticate(self, request: SandboxRequest) -> str | None | SandboxResponse:
        """The credential the request's calls count against, None for an unmetered request, or
        the refusal of a missing or wrong credential. By default: the subject of a bearer token
        this emulation issued (`tokens`), else the platform's AUTH answer."""
        subject = self.tokens.subject(bearer(request))
        return subject if subject is not None else self.error(AUTH)

    def route(self, request: SandboxRequest) -> SandboxResponse:
        raise NotImplementedError

    def resource_of(self, request: SandboxRequest) -> str | None:
        """The resource a request reads, as named in `faulted_fields` and `paged`."""
        return None

    def items_of(self, body: Any) -> list[dict[str, Any]]:
        """The items of an answer that a content fault may hit."""
        return (body.get("items") or []) if isinstance(body, dict) else []

    def overused(self, request: SandboxRequest, key: str) -> str | None:
        """A platform's own reason to refuse as overuse (Reddit: a generic User-Agent)."""
        return None

    # -- the steps --------------------------------------------------------------------------

    def handle(self, request: SandboxRequest, fault: str | None = None) -> SandboxResponse:
        """Every answer leaves through here (see the module docstring)."""
        key = None if self.is_token_request(request) else self.authenticate(request)
        if isinstance(key, SandboxResponse):
            return key  # a refused credential is not metered
        now = self.wall_clock()
        if key is not None:
            limit = self.meter.refusal(key, now)
            kind = limit.refusal if limit else self.overused(request, key)
            if kind:  # a real refusal, whatever fault was drawn
                response = self.error(kind)
                response.refused_for_overuse = True
                self.meter.charge(key, now, self.meter.cost(request), refused_by=limit)
                return self._with_limits(response, key, now)
        if fault == EXPIRED_TOKEN:
            self.tokens.revoke(bearer(request))
            return self.error(AUTH, injected=fault)  # as for any rejected token: no limit headers
        if fault in (RATE_LIMITED, SERVER_ERROR):
            return self._with_limits(self.error(_ANSWER_OF_FAULT[fault], injected=fault), key, now)
        response = self.route(replace(request, overlap=1) if fault == DUPLICATE_ITEMS else request)
        if fault is not None:
            response.injected_fault = fault if self._shows(fault, request, response) else None
        if key is not None and response.injected_fault is None:
            self.meter.charge(key, now, self.meter.cost(request))
        return self._with_limits(response, key, now)

    def fault_kinds(self, request: SandboxRequest) -> frozenset[str]:
        if self.is_token_request(request):
            return frozenset({RATE_LIMITED, SERVER_ERROR})
        kinds = set(GENERIC_FAULTS) | ({EXPIRED_TOKEN} if self.bearer_tokens else set())
        resource = self.resource_of(request)
        if resource in self.faulted_fields:
            kinds |= FIELD_FAULTS
        if resource in self.paged and request.param(self.paged[resource]):
            kinds.add(DUPLICATE_ITEMS)
        return frozenset(kinds)

    def error(self, kind: str, injected: str | None = None) -> SandboxResponse:
        """The platform's answer for an error kind (one of its variants, picked at random)."""
        answers = self.errors[kind]
        response = (answers[0] if len(answers) == 1 else self.fault_rng.choice(answers)).response()
        response.injected_fault = injected
        return response

    def _with_limits(self, response: SandboxResponse, key: str | None, now: float) -> SandboxResponse:
        if key is not None:
            response.headers = {**self.meter.headers(key, now), **(response.headers or {})}
        return response

    def _shows(self, fault: str, request: SandboxRequest, response: SandboxResponse) -> bool:
        """Whether a wire or content fault shows on this ordinary answer (content faults are
        applied here; a repeated item was applied by the route's pager)."""
        if fault in WIRE_FAULTS:
            return fault != TRUNCATED_BODY or response.status == 200  # only a 200 is "cut short"
        if response.status != 200:
            return False
        if fault == DUPLICATE_ITEMS:
            return response.injected_fault == DUPLICATE_ITEMS
        where = self.faulted_fields.get(self.resource_of(request) or "")
        items = self.items_of(response.body) if where and fault in FIELD_FAULTS else []
        return bool(items) and tamper(self.fault_rng.choice(items), where.path, fault, where.renamed_to)

    # -- for routes -------------------------------------------------------------------------

    def token_page(self, request: SandboxRequest, scope: str, items: Iterable[T], size: int) -> Page[T]:
        """The page of `items` the request's cursor (its resource's `paged` parameter) asks for,
        with `PageTokens(scope)`; a lazy `items` is read only as far as the page needs."""
        tokens, token = PageTokens(scope), request.param(self.paged[self.resource_of(request) or ""])
        if not isinstance(items, Sequence):
            items = list(islice(items, tokens.offset(token) + size + 1))
        return tokens.page(items, token, size, request.overlap)

    @staticmethod
    def ok(body: Any, page: Page | None = None) -> SandboxResponse:
        """A 200; a page that overlapped its predecessor says so (the fault was acted out)."""
        return SandboxResponse(200, body, injected_fault=DUPLICATE_ITEMS if page and page.overlapped else None)

    # -- for tests and the benchmarks: the first window and quota ---------------------------

    @property
    def requests_per_window(self) -> int:
        return self.meter.windows[0].limit

    @requests_per_window.setter
    def requests_per_window(self, value: int) -> None:
        self.meter.windows[0].limit = value

    @property
    def window_seconds(self) -> int:
        return self.meter.windows[0].seconds

    @window_seconds.setter
    def window_seconds(self, value: int) -> None:
        self.meter.windows[0].seconds = value

    @property
    def daily_quota(self) -> int:
        return self.meter.quotas[0].limit

    @daily_quota.setter
    def daily_quota(self, value: int) -> None:
        self.meter.quotas[0].limit = value

    def units_used(self, key: str | None = None) -> int:
        """Quota units a credential (default: the built-in one) spent today."""
        key = key or next(iter(self.credentials.values()))
        return self.meter.quotas[0].used(key, self.wall_clock())
