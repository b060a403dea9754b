"""The sandbox: every platform's API emulation behind one router.

In process (the default), `SandboxTransport` hands each httpx request straight to the router,
so the platform clients run unchanged against the real URLs. Served on a loopback port
(`social-assets sandbox serve --port N`), the same router answers plain HTTP at
`http://127.0.0.1:N/<real host>/<real path>`; `LoopbackSandboxTransport` rewrites a client's
real URLs to that form, so again the clients do not know.

Each platform's emulation is the module of its name in `sandbox/platforms/`, found for every
registered platform (`social_assets.platforms.PLATFORMS`); a platform without one has no
sandbox. Emulations accept their built-in credentials and, besides, the values of their
credential variables configured when the `Sandbox` is built (`credentials`, default the
environment).

Faults (`SOCIAL_SANDBOX_FAULTS`, see `faults.py`) are drawn here, shaped by the platform
emulations (`engine.py`) and delivered by both transports alike: in process a timeout or dropped connection
raises the httpx exception a network would; served, the server really stalls past the client's
timeout or hangs up mid-body. `SOCIAL_SANDBOX_LOG` names a file that gets one JSON line per
request: platform, method, path, status (null when no response reached the client),
`refused_for_overuse` and `injected_fault`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Mapping
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx

from social_assets.sandbox.http import PlatformEmulation, SandboxRequest, SandboxResponse
from social_assets.sandbox.faults import (
    DROPPED_CONNECTION,
    LOG_VARIABLE,
    PROFILE_VARIABLE,
    TIMEOUT,
    TRUNCATED_BODY,
    FaultInjector,
    RequestLog,
)
from social_assets.sandbox.world import DEFAULT_SEED, SCALE_VARIABLE, SandboxClock, World, scale_from

# How long a served sandbox stalls a "timeout": past the pipeline's 30-second read timeout
# (connections.TIMEOUT). Tests pass a shorter stall and client timeout to make_server.
STALL_SECONDS = 35.0


@dataclass
class Served:
    """The router's answer: what to send and the fault, if any, the transport must act out."""

    status: int
    headers: dict[str, str]
    body: bytes
    fault: str | None = None


def emulation_modules() -> dict[str, ModuleType]:
    """The emulation module of every registered platform that has one, by platform name."""
    from social_assets.platforms import PLATFORMS

    found = {}
    for name in PLATFORMS:
        module_name = f"{__package__}.platforms.{name}"
        if importlib.util.find_spec(module_name) is not None:
            found[name] = importlib.import_module(module_name)
    return found


def sandbox_credentials(platform: str) -> dict[str, str]:
    """The credentials the sandbox issues for `platform` by default (variable name -> value)."""
    return dict(emulation_modules()[platform].CREDENTIALS)


class Sandbox:
    """Routes a request to the platform emulation that owns its host, injecting faults.

    `faults` (a profile name) and `log` (a file path, "" for none) default to
    `SOCIAL_SANDBOX_FAULTS` and `SOCIAL_SANDBOX_LOG`, and `scale` (the world's activity
    multiplier) to `SOCIAL_SANDBOX_SCALE`, read here; `credentials` (variable name -> value,
    default the environment) are accepted besides each emulation's built-in ones.
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        clock: SandboxClock | None = None,
        faults: str | None = None,
        log: str | os.PathLike | None = None,
        credentials: Mapping[str, str] | None = None,
        scale: float | None = None,
    ):
        modules = emulation_modules()
        scale = scale_from(os.environ.get(SCALE_VARIABLE)) if scale is None else scale
        catalogs = {name: list(m.EMULATION.catalog) for name, m in modules.items()}
        self.world = World(catalogs, seed=seed, clock=clock, scale=scale)
        configured = os.environ if credentials is None else credentials
        self._by_host: dict[str, tuple[str, PlatformEmulation]] = {}
        self.platforms: dict[str, PlatformEmulation] = {}
        for name, module in modules.items():
            own = {variable: configured[variable] for variable in module.CREDENTIALS if configured.get(variable)}
            emulation = module.EMULATION(self.world, own)
            self.platforms[name] = emulation
            for host in emulation.hosts:
                self._by_host[host] = (name, emulation)
        self.faults = FaultInjector(os.environ.get(PROFILE_VARIABLE) if faults is None else faults, seed=seed)
        log = os.environ.get(LOG_VARIABLE) if log is None else log
        self.log = RequestLog(log) if log else None
        self._lock = threading.Lock()

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(self._by_host)

    def handle(self, request: SandboxRequest) -> Served:
        name, emulation = self._by_host.get(request.host, (None, None))
        if emulation is None:
            served = Served(404, {"content-type": "text/plain"}, f"sandbox has no host {request.host}".encode())
            self._log(None, request, served)
            return served
        # Platform sandboxes keep counters (rate limits, quotas) and the injector its RNG and
        # bursts; one request at a time keeps both exact when the server runs threads.
        key = _identity(request)
        with self._lock:
            fault = self.faults.draw(name, key, emulation.fault_kinds(request))
            # Without a fault, the plain call: exactly the fault-free sandbox (tests wrap `handle`).
            response = emulation.handle(request, fault) if fault else emulation.handle(request)
            self.faults.settle(name, key, response.injected_fault)
            served = _encode(response, self.world.now())
            if served.fault == TRUNCATED_BODY:
                served.body = served.body[: self.faults.cut(len(served.body))]
        self._log(name, request, served, response.refused_for_overuse)
        return served

    def _log(self, platform: str | None, request: SandboxRequest, served: Served, overuse: bool = False) -> None:
        if self.log is None:
            return
        self.log.write({
            "platform": platform,
            "method": request.method,
            "path": request.path,  # never the query: it can hold a key
            "status": None if served.fault in (TIMEOUT, DROPPED_CONNECTION) else served.status,
            "refused_for_overuse": overuse,
            "injected_fault": served.fault,
        })


def _identity(request: SandboxRequest) -> tuple:
    """What makes a retry the same request: not its headers (a refreshed token is still a retry)."""
    return (request.method, request.host, request.path, tuple(request.query), request.body)


def _encode(response: SandboxResponse, now) -> Served:
    headers = {"date": format_datetime(now, usegmt=True), **(response.headers or {})}
    if isinstance(response.body, bytes):
        body = response.body
    else:
        body = json.dumps(response.body).encode()
        headers.setdefault("content-type", "application/json; charset=UTF-8")
    return Served(response.status, headers, body, response.injected_fault)


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
        served = self.sandbox.handle(_to_sandbox_request(request, request.url.host, request.url.path))
        # What httpx raises when a real server does this (without the wait).
        if served.fault == TIMEOUT:
            raise httpx.ReadTimeout("timed out", request=request)
        if served.fault == DROPPED_CONNECTION:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body "
                f"(received {len(served.body) // 2} bytes, expected {len(served.body)})",
                request=request,
            )
        return httpx.Response(served.status, headers=served.headers, content=served.body, request=request)


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
            request.method, target, headers=request.headers, content=request.read(),
            extensions=request.extensions,  # the client's timeouts, so a stalled answer times out
        )
        forwarded.headers["host"] = f"{self.base.host}:{self.base.port}" if self.base.port else self.base.host
        response = self.inner.handle_request(forwarded)
        response.request = request
        return response

    def close(self) -> None:
        self.inner.close()


class _GracefulServer(ThreadingHTTPServer):
    """`server_close()` waits for the requests in flight (a stalled one included), so the
    request log is whole once the server is closed."""

    daemon_threads = False


def make_server(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, stall_seconds: float = STALL_SECONDS
) -> ThreadingHTTPServer:
    """An HTTP server for the sandbox at http://host:port/<platform host>/<path>.

    An injected timeout stalls `stall_seconds` (longer than the client waits) and then hangs up
    without an answer; a dropped connection sends the headers and half the body, then hangs up.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall between

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
            served = sandbox.handle(request)
            if served.fault == TIMEOUT:
                time.sleep(stall_seconds)  # outside the sandbox's lock: other requests go on
                self.close_connection = True
                return
            # send_response_only: the sandbox's own Date header is the only one (the world's clock).
            self.send_response_only(served.status)
            for name, value in served.headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(served.body)))
            self.end_headers()
            if served.fault == DROPPED_CONNECTION:
                self.wfile.write(served.body[: len(served.body) // 2])
                self.close_connection = True
                return
            self.wfile.write(served.body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
            pass  # request logging is the sandbox's own job (SOCIAL_SANDBOX_LOG, issue #3)

    server = _GracefulServer((host, port), Handler)
    server.daemon_threads = True
    return server
