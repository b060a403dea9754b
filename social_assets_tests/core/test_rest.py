"""The declarative REST layer over real HTTP: each paginator, dedupe, what is landed of a
request (method, path, query and JSON body split out, secrets stripped) and of a response
(known secrets scrubbed), and the error table deciding kinds from envelopes, not messages."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from social_assets.core.api import ApiSpec, Auth, AuthKind
from social_assets.core.errors import (
    AuthError,
    Envelope,
    ErrorKind,
    ErrorTable,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExhaustedError,
    TransientApiError,
    rule,
)
from social_assets.core.limits import LimitPolicy, WindowLimit
from social_assets.core.records import ApiErrorBody
from social_assets.core.rest import BodyCursor, LinkHeader, NextUrl, OffsetCount, QueryCursor
from social_assets.platforms.base import Platform, SourceConfig
from social_assets_tests.clients import TestConnection
from social_assets_tests.core.conftest import FakeClock

TOKEN = "EAAB-planted-page-token/with+chars=="
ITEMS = [{"id": str(n)} for n in range(7)]


class Api(BaseHTTPRequestHandler):
    """A tiny API with one route per paging style; it records what it was sent."""

    seen: list[tuple[str, str, dict, dict | None, dict]] = []

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def _answer(self):
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        Api.seen.append((self.command, url.path, query, body, dict(self.headers)))
        status, payload, headers = route(url.path, query, body, f"http://{self.headers['host']}")
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def page(start: int, size: int = 3) -> list[dict]:
    return ITEMS[start : start + size]


def route(path: str, query: dict, body: dict | None, base: str):
    if path == "/query":  # cursor in the query; the last page has none
        start = int(query.get("after") or 0)
        after = str(start + 3) if start + 3 < len(ITEMS) else None
        return 200, {"data": page(start), "after": after}, {}
    if path == "/loop":  # a cursor that leads back to itself
        return 200, {"data": page(0), "after": "same"}, {}
    if path == "/body":  # cursor in a JSON body, has_more (TikTok)
        start = int(body.get("cursor") or 0)
        return 200, {"data": {"videos": page(start), "cursor": start + 3, "has_more": start + 3 < len(ITEMS)}}, {}
    if path == "/next":  # the next page's URL in the body, carrying the token (Graph)
        start = int(query.get("after") or 0)
        following = f"{base}/next?access_token={TOKEN}&after={start + 3}" if start + 3 < len(ITEMS) else None
        return 200, {"data": page(start), "paging": {"next": following} if following else {}}, {}
    if path == "/link":  # the Link header (Mastodon); the last page is [] with no header
        start = int(query.get("max_id") or 0)
        links = {"link": f'<{base}/link?max_id={start + 3}>; rel="next"'} if start < len(ITEMS) else {}
        return 200, page(start), links
    if path == "/offset":  # start/count (LinkedIn)
        start, count = int(query["start"]), int(query["count"])
        return 200, {"elements": page(start, count), "paging": {"start": start, "count": count}}, {}
    if path == "/fails":
        return int(query["status"]), json.loads(query["body"]), {}
    return 404, {"error": "no route"}, {}


@pytest.fixture(scope="module")
def base_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def envelope(body):
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    return Envelope(code=str(error.get("code")), subcode=str(error.get("error_subcode")), message=str(error.get("message")))


ERRORS = ErrorTable(
    envelope=envelope,
    rules=(
        rule(ErrorKind.THROTTLED, codes=["4", "17"]),
        rule(ErrorKind.AUTH, codes=["190"]),
        rule(ErrorKind.PERMISSION, codes=["10"]),
        rule(ErrorKind.QUOTA, codes=["quota"]),
        rule(ErrorKind.INVALID, statuses=[200], codes=["invalid_params"]),
    ),
)


class Source(SourceConfig):
    name: str

    @property
    def account_id(self) -> str:
        return self.name


def client_for(base_url: str, sink=None, auth: Auth | None = None, environ=None):
    spec = ApiSpec(base_url=base_url, auth=(auth or Auth(AuthKind.NONE),),
                   limits=LimitPolicy("fake", (WindowLimit("calls", limit=1000, window=60),)), errors=ERRORS)
    platform = Platform(name="fake", api=spec, capabilities=None, source_type=Source, walk=None, normalizers={})
    http = httpx.Client(transport=httpx.HTTPTransport())
    # Pacing and retries keep time by a fake clock: a throttled answer waits out its window.
    return TestConnection(platform, http, environ=environ, clock=FakeClock()).client(Source(name="acme"), sink)


def ids(pages) -> list[str]:
    found = []
    for body in pages:
        items = body if isinstance(body, list) else body.get("data") or body.get("elements") or []
        items = items["videos"] if isinstance(items, dict) else items
        found += [item["id"] for item in items]
    return found


def test_query_cursor_pages_to_the_end_and_stops_on_a_repeated_cursor(base_url):
    client = client_for(base_url)
    assert ids(client.pages("GET", "/query", QueryCursor("after", ("after",)))) == [i["id"] for i in ITEMS]
    assert ids(client.pages("GET", "/loop", QueryCursor("after", ("after",)))) == ["0", "1", "2"] * 2


def test_body_cursor_resends_the_json_body_with_the_cursor_and_lands_it_without_secrets(base_url):
    landed = []
    client = client_for(base_url, landed.append)
    pages = client.pages("POST", "/body", BodyCursor("cursor", ("data", "cursor"), ("data", "has_more")),
                         json_body={"max_count": 3, "access_token": TOKEN}, land_as="posts")
    assert ids(pages) == [i["id"] for i in ITEMS]
    assert [r.request_body for r in landed] == [{"max_count": 3}, {"max_count": 3, "cursor": 3},
                                               {"max_count": 3, "cursor": 6}]
    assert all(r.method == "POST" and r.endpoint == f"{base_url}/body" for r in landed)


def test_next_url_paging_lands_no_token_in_params_endpoint_or_body(base_url):
    landed = []
    client = client_for(base_url, landed.append, Auth(AuthKind.BEARER, ("FAKE_TOKEN",)), {"FAKE_TOKEN": TOKEN})
    assert ids(client.pages("GET", "/next", NextUrl(("paging", "next")), land_as="posts")) == [i["id"] for i in ITEMS]
    assert [r.params for r in landed] == [{}, {"after": "3"}, {"after": "6"}]
    assert all(r.endpoint == f"{base_url}/next" for r in landed)
    assert all(TOKEN not in r.body and httpx.QueryParams({"t": TOKEN})["t"] not in r.body for r in landed)
    assert "access_token=<redacted>" in landed[0].body
    assert Api.seen[-1][4]["Authorization"] == f"Bearer {TOKEN}"  # the token was really sent


def test_link_header_paging_ends_on_the_empty_page_without_a_link(base_url):
    client = client_for(base_url)
    bodies = list(client.pages("GET", "/link", LinkHeader()))
    assert ids(bodies) == [i["id"] for i in ITEMS] and bodies[-1] == []


def test_offset_count_stops_on_a_short_page(base_url):
    client = client_for(base_url)
    Api.seen.clear()
    assert ids(client.pages("GET", "/offset", OffsetCount(3, ("elements",)))) == [i["id"] for i in ITEMS]
    assert [q["start"] for _, path, q, _, _ in Api.seen if path == "/offset"] == ["0", "3", "6"]


def test_a_request_is_never_sent_twice_by_one_client(base_url):
    client = client_for(base_url)
    Api.seen.clear()
    assert client.get("/query", params={"after": "3"}) is not None
    assert client.get("/query", params={"after": "3"}) is None
    client.forget_requests()
    assert client.get("/query", params={"after": "3"}) is not None
    assert len(Api.seen) == 2


def test_an_api_key_parameter_is_sent_but_never_landed(base_url):
    landed = []
    client = client_for(base_url, landed.append, Auth(AuthKind.API_KEY, ("FAKE_KEY",), param="key"),
                        {"FAKE_KEY": "AIza-planted-key-123"})
    client.get("/query", land_as="posts")
    assert Api.seen[-1][2]["key"] == "AIza-planted-key-123"
    assert landed[0].params == {} and "AIza-planted-key-123" not in landed[0].body


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": {"code": 190, "error_subcode": 463, "message": "Session has expired"}}, AuthError),
        (403, {"error": {"code": 10, "message": "Permission denied"}}, PermissionDeniedError),
        (400, {"error": {"code": 100, "message": "rate limit reached (just words)"}}, InvalidRequestError),
        (404, {"error": {"code": 803, "message": "Some of the aliases do not exist"}}, NotFoundError),
        (200, {"error": {"code": "invalid_params", "message": "bad cursor"}}, InvalidRequestError),
        (403, {"error": {"code": "quota", "message": "spent"}}, QuotaExhaustedError),
        (400, {"error": {"code": 4, "message": "Application request limit reached"}}, TransientApiError),
        (503, {"error": "down"}, TransientApiError),
    ],
)
def test_the_error_table_decides_from_status_and_envelope(base_url, status, body, error):
    client = client_for(base_url)
    client.session.max_attempts = 2
    with pytest.raises(error) as raised:
        client.get("/fails", params={"status": str(status), "body": json.dumps(body)})
    assert type(raised.value) is error or error is TransientApiError
    if error is AuthError:
        assert "acme" in str(raised.value)  # names the source to fix


def test_a_normalizer_refuses_a_body_that_holds_the_error_envelope_and_nothing_else():
    def google(body):
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return None
        reasons = frozenset(e["reason"] for e in error.get("errors", []))
        return Envelope(code=str(error["code"]), reasons=reasons, message=error.get("message", ""))

    table = ErrorTable(envelope=google)
    with pytest.raises(ApiErrorBody) as raised:
        table.raise_if_error("acme", {"error": {"code": 403, "message": "Spent", "errors": [{"reason": "quotaExceeded"}]}})
    assert str(raised.value) == "acme API error 403: Spent (quotaExceeded)"
    assert (raised.value.status, raised.value.error_message) == (403, "Spent (quotaExceeded)")  # a number stays one
    with pytest.raises(ApiErrorBody, match="acme API error invalid_grant: invalid_grant$"):
        ErrorTable(envelope=lambda body: Envelope(code=body["error"])).raise_if_error("acme", {"error": "invalid_grant"})
    with pytest.raises(ApiErrorBody, match="acme API error 500: 500$"):
        table.raise_if_error("acme", {"error": {"code": 500}})  # no message: the code says it
    table.raise_if_error("acme", {"items": []})  # data: nothing raised
    table.raise_if_error("acme", {"error": "a string"})  # no envelope this reader knows: nothing raised
