"""A small declarative REST layer: what every platform walk needs besides its own logic.

`RestClient` is one platform API as one source sees it: its base URL, default headers and
credentials, over an `ApiSession` (pacing, retries, error table, landing). It sends no request
twice in a run (`call` answers None for a repeat) and parses JSON with errors that name the
endpoint. `pages` follows a `Paginator`:

- `QueryCursor`: the next cursor goes into a query parameter (Reddit `after`, YouTube
  `pageToken`, X `pagination_token`, Bluesky `cursor`);
- `BodyCursor`: the next cursor goes into the JSON body of a POST (TikTok);
- `NextUrl`: the body names the next page's URL (Graph `paging.next`);
- `LinkHeader`: the `Link: <...>; rel="next"` header names it (Mastodon);
- `OffsetCount`: `start`/`count` offsets (LinkedIn);
- `UpTo`: any of these, its last page asking only for the items still allowed.

Every paginator stops on a repeated cursor; a walk stops early by leaving the loop.
`batches` cuts ids into lookups of the platform's batch size; `parsed` reads an item a walk
needs, passing over a malformed one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol, Sequence, Sized, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from social_assets.core.errors import ApiError
from social_assets.core.http import ApiSession, server_time
from social_assets.core.records import Resource

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """One page's request: where, its query and its JSON body."""

    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None


class Paginator(Protocol):
    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        """The request of the page after this one, or None when this was the last."""
        ...


def _field(body: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body


@dataclass(frozen=True)
class QueryCursor:
    """`param` = the cursor found at `cursor_path` in the body; stops without one."""

    param: str
    cursor_path: tuple[str, ...]

    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        cursor = _field(body, self.cursor_path)
        if not isinstance(cursor, str) or not cursor or request.params.get(self.param) == cursor:
            return None
        return replace(request, params={**request.params, self.param: cursor})


@dataclass(frozen=True)
class BodyCursor:
    """The cursor (at `cursor_path`) goes back in the JSON body's `field` while `has_more_path`
    is true."""

    field: str
    cursor_path: tuple[str, ...]
    has_more_path: tuple[str, ...] | None = None

    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        if self.has_more_path is not None and _field(body, self.has_more_path) is not True:
            return None
        cursor = _field(body, self.cursor_path)
        sent = (request.json or {}).get(self.field) if isinstance(request.json, dict) else None
        if cursor is None or cursor == "" or cursor == sent:
            return None
        return replace(request, json={**(request.json or {}), self.field: cursor})


@dataclass(frozen=True)
class NextUrl:
    """The next page is the URL at `path` in the body (it carries its own query)."""

    path: tuple[str, ...]

    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        url = _field(body, self.path)
        if not isinstance(url, str) or not url or url == request.url:
            return None
        return PageRequest(url)


@dataclass(frozen=True)
class LinkHeader:
    """The next page is the `rel="next"` URL of the Link header."""

    rel: str = "next"

    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        url = response.links.get(self.rel, {}).get("url")
        if not url or url == request.url:
            return None
        return PageRequest(url)


@dataclass(frozen=True)
class OffsetCount:
    """`start`/`count` offsets; stops on a short page, or at `total_path`'s total."""

    page_size: int
    items_path: tuple[str, ...]
    start: str = "start"
    count: str = "count"
    total_path: tuple[str, ...] | None = None

    def first(self, params: Mapping[str, str]) -> dict[str, str]:
        return {**params, self.start: "0", self.count: str(self.page_size)}

    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        items = _field(body, self.items_path)
        got = len(items) if isinstance(items, list) else 0
        offset = int(request.params.get(self.start, "0")) + got
        total = _field(body, self.total_path) if self.total_path else None
        if got < self.page_size or (isinstance(total, int) and offset >= total):
            return None
        return replace(request, params={**request.params, self.start: str(offset)})


@dataclass(frozen=True)
class UpTo:
    """`inner`'s paging, each next page asking in `size_param` only for the items still allowed:
    `limit` minus the items the walk has `read` (a collection it fills as pages come)."""

    inner: Paginator
    size_param: str
    page_size: int
    limit: int
    read: Sized

    def next_page(self, request: PageRequest, response: httpx.Response, body: Any) -> PageRequest | None:
        following = self.inner.next_page(request, response, body)
        if following is None:
            return None
        size = min(self.page_size, self.limit - len(self.read))
        return replace(following, params={**following.params, self.size_param: str(size)})


def batches(ids: Iterable[T], size: int) -> Iterator[list[T]]:
    """`ids` without repeats, in lookups of at most `size`."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


class RestClient:
    """One platform API for one source: base URL, headers, credentials, dedupe, landing."""

    def __init__(
        self,
        session: ApiSession,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ):
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self._auth_params = dict(params or {})  # an API key sent as a query parameter
        self._sent: set[tuple] = set()
        # Other APIs of the platform for the same source (`ApiSpec.companions`), opened on
        # first use by `companion`; set by whoever builds the client (`connections.py`).
        self.companions: dict[str, Callable[[], RestClient]] = {}
        self._opened: dict[str, RestClient] = {}
        # When the platform produced the latest answer (its Date header): the moment a count it
        # gave was read (YouTube's past subscriber counts are counted back from it).
        self.answered_at: datetime | None = None

    @property
    def platform(self) -> str:
        return self.session.platform

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def companion(self, name: str) -> "RestClient":
        """The platform's other API `name` for this source: its own credentials, limits and
        errors, but this client's sink, item check and call counts. Raises `AuthError` (from
        building it) when its credentials are missing."""
        if name not in self._opened:
            other = self.companions[name]()
            other.session.check_items = self.session.check_items
            other.session.stats = self.session.stats
            self._opened[name] = other
        return self._opened[name]

    def forget_requests(self) -> None:
        """Start a new walk: requests of an earlier one may be sent again."""
        self._sent = set()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json_body: Any = None,
        land_as: Resource | None = None,
        normalize: bool = True,
        context: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response | None:
        """One request (paced, retried and landed by the session), or None when this exact
        request was already sent by this client: a repeat would only cost quota."""
        url = self.url(path)
        key = (method, url, _frozen(params), _frozen(form), json.dumps(json_body, sort_keys=True, default=str))
        if key in self._sent:
            return None
        self._sent.add(key)
        response = self.session.request(
            method, url, params={**(params or {}), **self._auth_params} or None, data=form, json_body=json_body,
            headers=self.headers, land_as=land_as, normalize=normalize, context=context, authenticated=authenticated,
        )
        self.answered_at = server_time(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """`call`'s body parsed as JSON (None for a repeated request)."""
        response = self.call(method, path, **kwargs)
        return None if response is None else self.parse(method, path, response)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.json("GET", path, **kwargs)

    def parse(self, method: str, path: str, response: httpx.Response) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError):
            raise ApiError(self.platform, method, self.url(path).split("?")[0], response.status_code,
                           "response is not JSON") from None

    def pages(
        self,
        method: str,
        path: str,
        paginator: Paginator,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Every page's body, following `paginator`; stops at the last page, at a repeated
        request, or when the caller leaves the loop."""
        if isinstance(paginator, OffsetCount):
            params = paginator.first(params or {})
        request: PageRequest | None = PageRequest(self.url(path), dict(params or {}), json_body)
        while request is not None:
            response = self.call(method, request.url, params=request.params or None, json_body=request.json, **kwargs)
            if response is None:
                return
            body = self.parse(method, path, response)
            yield body
            request = paginator.next_page(request, response, body)


def _frozen(values: Mapping[str, str] | None) -> tuple:
    return tuple(sorted((values or {}).items()))


ModelT = TypeVar("ModelT", bound=BaseModel)


def parsed(model: type[ModelT], item: Any) -> ModelT | None:
    """`item` as `model`, or None: a walk passes over an item its normalizer will reject and explain."""
    try:
        return model.model_validate(item)
    except ValidationError:
        return None

def missing_ids(batch: Sequence[str], body: Any, items_path: tuple[str, ...], id_key: str = "id") -> list[str]:
    """The ids of a batch lookup that its answer leaves out (deleted or private on most
    platforms): those of `batch` no object of the list at `items_path` in `body` has as `id_key`.
    Nothing when the answer has no such list: an odd body is the normalizer's to explain."""
    items = _field(body, items_path)
    if not isinstance(items, list):
        return []
    returned = {str(item.get(id_key)) for item in items if isinstance(item, dict)}
    return [item_id for item_id in batch if str(item_id) not in returned]
