"""The sandbox: every platform's API emulation behind one router.

In process (the default), `SandboxTransport` hands each httpx request straight to the router,
so the platform clients run unchanged against the real URLs. Served on a loopback port
(`social-assets sandbox serve --port N`), the same router answers plain HTTP at
`http://127.0.0.1:N/<real host>/<real path>`; `LoopbackSandboxTransport` rewrites a client's
real URLs to that form, so again the clients do not know.
"""

from __future__ import annotations

import json
import threading
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx

from social_assets.platforms.base import PlatformSandbox, SandboxRequest, SandboxResponse
from social_assets.sandbox.world import DEFAULT_SEED, SandboxClock, World


class Sandbox:
    """Routes a request to the platform sandbox that owns its host."""

    def __init__(self, seed: int = DEFAULT_SEED, clock: SandboxClock | None = None):
        from social_assets.platforms import PLATFORMS

        catalogs = {name: list(p.sandbox.catalog) for name, p in PLATFORMS.items()}
        self.world = World(catalogs, seed=seed, clock=clock)
        self._by_host: dict[str, PlatformSandbox] = {}
        self.platforms: dict[str, PlatformSandbox] = {}
        for name, platform in PLATFORMS.items():
            emulation = platform.sandbox(self.world)
            self.platforms[name] = emulation
            for host in emulation.hosts:
                self._by_host[host] = emulation
        self._lock = threading.Lock()

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(self._by_host)

    def handle(self, request: SandboxRequest) -> tuple[int, dict[str, str], bytes]:
        emulation = self._by_host.get(request.host)
        if emulation is None:
            return 404, {"content-type": "text/plain"}, f"sandbox has no host {request.host}".encode()
        # Platform sandboxes keep counters (rate limits, quotas); one request at a time keeps
        # them exact when the server runs threads.
        with self._lock:
            response = emulation.handle(request)
        return _encode(response, self.world.now())


def _encode(response: SandboxResponse, now) -> tuple[int, dict[str, str], bytes]:
    headers = {"date": format_datetime(now, usegmt=True), **(response.headers or {})}
    if isinstance(response.body, bytes):
        body = response.body
    else:
        body = json.dumps(response.body).encode()
        headers.setdefault("content-type", "application/json; charset=UTF-8")
    return response.status, headers, body


def _to_sandbox_request(request: httpx.Request, host: str, path: str) -> SandboxRequest:
    return SandboxRequest(
        method=request.method,
        host=host,
        path=path,
        query=parse_qsl(request.url.query.decode(), keep_blank_values=True),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.read(),
    )


class SandboxTransport(httpx.BaseTransport):
    """In-process transport: requests to real platform URLs are answered by the sandbox."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        status, headers, body = self.sandbox.handle(
            _to_sandbox_request(request, request.url.host, request.url.path)
        )
        return httpx.Response(status, headers=headers, content=body, request=request)


class LoopbackSandboxTransport(httpx.BaseTransport):
    """Sends requests for real platform URLs to a sandbox served at `base_url` over real HTTP."""

    def __init__(self, base_url: str):
        self.base = httpx.URL(base_url.rstrip("/"))
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        original = request.url
        target = self.base.copy_with(
            path=f"{self.base.path.rstrip('/')}/{original.host}{original.path}",
            query=original.query or None,
        )
        forwarded = httpx.Request(
            request.method, target, headers=request.headers, content=request.read()
        )
        forwarded.headers["host"] = f"{self.base.host}:{self.base.port}" if self.base.port else self.base.host
        response = self.inner.handle_request(forwarded)
        response.request = request
        return response

    def close(self) -> None:
        self.inner.close()


def make_server(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for the sandbox at http://host:port/<platform host>/<path>."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            platform_host, _, rest = parts.path.lstrip("/").partition("/")
            length = int(self.headers.get("content-length") or 0)
            request = SandboxRequest(
                method=self.command,
                host=platform_host,
                path="/" + rest,
                query=parse_qsl(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            status, headers, body = sandbox.handle(request)
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
            pass  # request logging is the sandbox's own job (SOCIAL_SANDBOX_LOG, issue #3)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
