"""What the Instagram and Facebook emulations share: the Graph API's machinery (not a platform:
the router only loads modules named after platforms).

- `UsageMeter`: Graph's usage percentages. Calls are counted per token in fixed windows
  (`seconds`, `limit` calls); every authenticated answer carries `X-App-Usage` and
  `X-Business-Use-Case-Usage` with `call_count`, `total_cputime` and `total_time` as percentages
  of the limit, rising with use. At 100 % calls are refused with a throttle code and the BUC
  header names `estimated_time_to_regain_access` (minutes to the window's end).
- `GraphEmulation`: bearer tokens (the configured ones and those the emulation issued), the
  Graph error object for every fault kind (`1`/`2` transient, `4`/`17`/`32`/`613`/`80001`/
  `80002` throttles, `190`/`463` expired tokens, `100`/`33` unknown objects), `?ids=` lookups,
  and list pages `{"data", "paging": {"cursors", "next"}}` whose `next` URL carries the
  request's own token, as Graph's do, so that redaction is really exercised.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from itertools import islice
from typing import Any, Callable, ClassVar, Iterable, Sequence

from social_assets.sandbox.engine import (
    AUTH,
    THROTTLED,
    TRANSIENT,
    Emulation,
    ErrorAnswer,
    InvalidCursor,
    Page,
    PageTokens,
    bearer,
    int_param,
)
from social_assets.sandbox.http import SandboxRequest, SandboxResponse

_TRACE = "AbCdEfGhIjKlMnOpQrStUvW"


def graph_error(status: int, code: int, message: str, kind: str = "OAuthException", subcode: int | None = None,
                **extra: Any) -> ErrorAnswer:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = _TRACE
    return ErrorAnswer(status, {"error": error}, {"www-authenticate": f'OAuth "Facebook Platform" "invalid_request" "{message}"'}
                       if code == 4 else {})


def graph_errors(throttle_codes: Sequence[tuple[int, str]]) -> dict[str, tuple[ErrorAnswer, ...]]:
    """The answers of each error kind, with the platform's own throttle codes."""
    return {
        THROTTLED: tuple(graph_error(400 if code != 4 else 403, code, message) for code, message in throttle_codes),
        TRANSIENT: (graph_error(500, 1, "An unknown error occurred", kind="OAuthException"),
                    graph_error(503, 2, "An unexpected error has occurred. Please retry your request later.")),
        AUTH: (graph_error(400, 190, "Error validating access token: Session has expired.", subcode=463),),
    }


class _Spent:
    """What the engine asks of a refusing limit: its error kind, and that refusals count."""

    refusal = THROTTLED
    charges_refusals = True


class UsageMeter:
    """Calls per token and window, reported as Graph's usage headers (see the module docstring).
    It stands in for the engine's `Meter` (`cost`, `refusal`, `charge`, `headers`)."""

    def __init__(self, limit: int, seconds: int, business_type: str):
        self.limit, self.seconds, self.business_type = limit, seconds, business_type
        self._usage: dict[str, tuple[int, int]] = {}

    def cost(self, request: SandboxRequest) -> int:
        return 1

    def refusal(self, key: str, now: float) -> _Spent | None:
        return _Spent() if self.used(key, now) >= self.limit else None

    def used(self, key: str, now: float) -> int:
        number, used = self._usage.get(key, (None, 0))
        return used if number == int(now // self.seconds) else 0

    def charge(self, key: str, now: float, units: int, refused_by: Any = None) -> None:
        self._usage[key] = (int(now // self.seconds), self.used(key, now) + units)

    def headers(self, key: str, now: float) -> dict[str, str]:
        share = min(100, math.floor(100 * self.used(key, now) / self.limit))
        regain = math.ceil(((int(now // self.seconds) + 1) * self.seconds - now) / 60) if share >= 100 else 0
        usage = {"call_count": share, "total_cputime": share // 2, "total_time": share // 2}
        business = hashlib.blake2b(key.encode(), digest_size=6).hexdigest()
        buc = {str(int(business, 16)): [{"type": self.business_type, **usage, "estimated_time_to_regain_access": regain}]}
        return {"x-app-usage": json.dumps({"call_count": share // 4, "total_cputime": share // 8, "total_time": share // 8}),
                "x-business-use-case-usage": json.dumps(buc)}


class GraphEmulation(Emulation):
    """Base of the Graph emulations: a platform declares its `business_type` (of the BUC header),
    `token_subject` (whom a token acts for) and its routes."""

    bearer_tokens = True
    token_lifetime = 60 * 86400
    business_type: ClassVar[str] = "pages"
    window_calls: ClassVar[int] = 600
    page_default: ClassVar[int] = 25
    page_max: ClassVar[int] = 100

    def __init__(self, world, configured=None, **kwargs: Any) -> None:
        super().__init__(world, configured, **kwargs)
        self.meter = UsageMeter(self.window_calls, 3600, self.business_type)  # type: ignore[assignment]

    # -- tokens -----------------------------------------------------------------------------

    def token_subject(self, token: str) -> str | None:
        """Whom a token acts for: the platform decides for its configured tokens."""
        raise NotImplementedError

    def authenticate(self, request: SandboxRequest) -> str | SandboxResponse:
        token = bearer(request) or request.param("access_token") or ""
        subject = self.token_subject(token) if token else None
        if subject is None:
            return self.error(AUTH)
        return f"token:{subject}"

    # -- the window, for tests ----------------------------------------------------------------

    @property
    def requests_per_window(self) -> int:
        return self.meter.limit

    @requests_per_window.setter
    def requests_per_window(self, value: int) -> None:
        self.meter.limit = value

    @property
    def window_seconds(self) -> int:
        return self.meter.seconds

    @window_seconds.setter
    def window_seconds(self, value: int) -> None:
        self.meter.seconds = value

    # -- answers ----------------------------------------------------------------------------

    def items_of(self, body: Any) -> list[dict[str, Any]]:
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, list) else []

    def unknown(self, what: str) -> SandboxResponse:
        return graph_error(400, 100, f"Unsupported get request. Object with ID '{what}' does not exist, cannot be loaded "
                                     "due to missing permissions, or does not support this operation.",
                           kind="GraphMethodException", subcode=33).response()

    def invalid(self, message: str) -> SandboxResponse:
        return graph_error(400, 100, message).response()

    def lookup(self, request: SandboxRequest, render: Callable[[str], dict | None]) -> SandboxResponse:
        """`GET /?ids=a,b`: the objects keyed by id; one unknown id fails the whole call."""
        ids = [i for i in (request.param("ids") or "").split(",") if i]
        if not ids or len(ids) > 50:
            return self.invalid("(#100) ids must name 1 to 50 objects")
        found = {}
        for object_id in ids:
            rendered = render(object_id)
            if rendered is None:
                return self.unknown(object_id)
            found[object_id] = rendered
        return self.ok(found)

    def page(self, request: SandboxRequest, items: Iterable[Any], render: Callable[[Any], dict],
             scope: str) -> SandboxResponse:
        """One list page: `limit` items after the `after` cursor, `next` while more follow.
        `items` may be a lazy iterator (an account's whole history): only what the page needs
        is taken from it."""
        limit = max(1, min(self.page_max, int_param(request.param("limit"), self.page_default)))
        tokens = PageTokens(scope)
        try:
            offset = tokens.offset(request.param("after"))
        except InvalidCursor:
            return self.invalid("(#100) The after cursor is invalid")
        head = list(islice(items, offset + limit + 1))
        page: Page = tokens.page(head, request.param("after"), limit, overlap=request.overlap)
        return self.ok({"data": [render(i) for i in page.items], **self.paging(request, tokens, page)}, page)

    def paging(self, request: SandboxRequest, tokens: PageTokens, page: Page, path: str | None = None) -> dict:
        if not page.items:
            return {}
        start = tokens.token(page.start)
        cursors = {"before": start, "after": tokens.token(page.start + len(page.items))}
        paging: dict[str, Any] = {"cursors": cursors}
        if page.next:
            token = bearer(request) or request.param("access_token") or ""
            query = [(k, v) for k, v in request.query if k not in ("after", "access_token")]
            query_text = "&".join(f"{k}={_quote(v)}" for k, v in [("access_token", token), *query, ("after", cursors["after"])])
            paging["next"] = f"https://{request.host}{path or request.path}?{query_text}"
        return {"paging": paging}


def fields_of(request: SandboxRequest) -> str:
    return request.param("fields") or ""


_INSIGHTS = re.compile(r"insights\.metric\(([^)]*)\)((?:\.\w+\([^)]*\))*)")


def insights_asked(fields: str) -> tuple[list[str], dict[str, str]] | None:
    """The metrics and modifiers (`period`, `since`, `until`) of an expanded `insights` field."""
    match = _INSIGHTS.search(fields)
    if not match:
        return None
    modifiers = dict(re.findall(r"\.(\w+)\(([^)]*)\)", match.group(2)))
    return [m for m in match.group(1).split(",") if m], modifiers


def top_fields(fields: str) -> set[str]:
    """The top-level field names of a `fields` parameter (nested `{...}` and `(...)` skipped)."""
    names, depth, current = set(), 0, ""
    for char in fields + ",":
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char == "," and depth == 0:
            names.add(current.split(".")[0].split("{")[0].strip())
            current = ""
            continue
        if depth == 0 and char not in "})":
            current += char
    return {n for n in names if n}


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe=",(){}.")
