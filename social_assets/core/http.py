"""The HTTP layer every platform client talks through.

One `ApiSession` per platform and run wraps an `httpx.Client` and adds what every platform
needs: retries of transient failures (tenacity), one-shot re-authentication on 401, secrets kept
out of anything recorded, and landing of responses verbatim for the `raw.*` tables.

Clients always use the platforms' real URLs; whether a request reaches the real platform or the
sandbox is decided by the transport the `httpx.Client` was built with (see `transport.py`).
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from social_assets.core.records import Resource
from social_assets.core.timeutil import utc_now

# Query or form parameters that carry credentials; never recorded or shown.
SECRET_PARAMS = frozenset(
    {"key", "access_token", "client_secret", "refresh_token", "code", "code_verifier", "password"}
)
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ApiError(Exception):
    """A request that failed for good. The message names the platform and endpoint, never a secret."""

    def __init__(
        self,
        platform: str,
        method: str,
        endpoint: str,
        status: int | None,
        detail: str,
        params: Mapping[str, Any] | None = None,
    ):
        self.platform = platform
        self.method = method
        self.endpoint = endpoint
        self.status = status
        self.detail = detail
        self.params = redact(params)  # the request, fit to record in a dead letter
        where = f"{method} {endpoint}"
        super().__init__(f"{platform}: {where} failed with status {status}: {detail}")


class TransientApiError(ApiError):
    """A failure worth retrying (429, 5xx)."""

    def __init__(self, *args: Any, retry_after: float | None = None, params: Mapping[str, Any] | None = None):
        super().__init__(*args, params=params)
        self.retry_after = retry_after


class AuthError(ApiError):
    """Credentials are missing, wrong or cannot be refreshed: a configuration problem."""


@dataclass(frozen=True)
class LandedResponse:
    """One API response exactly as received, with the request that produced it."""

    platform: str
    resource: Resource
    # False for responses that only index what to fetch next (e.g. YouTube playlistItems):
    # they are landed for the record but are not responses of `resource` to normalize.
    normalize: bool
    method: str
    endpoint: str
    params: dict[str, str]
    status: int
    fetched_at: datetime
    body: str
    # Facts the body omits that its normalizer needs (e.g. the video a YouTube replies page
    # belongs to), recorded beside the body in raw.* as request metadata.
    context: Mapping[str, str] = field(default_factory=dict)


def redact(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Parameters fit to record: secrets removed, values as strings."""
    if not params:
        return {}
    return {k: str(v) for k, v in params.items() if k.lower() not in SECRET_PARAMS}


def server_time(response: httpx.Response) -> datetime:
    """When the platform produced the response: its Date header, or our clock without one.

    Engagement and follower snapshots are stamped with this, so they say when the platform
    observed the numbers rather than when our process got round to it.
    """
    date = response.headers.get("date")
    if date:
        try:
            return email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError):
            pass
    return utc_now()


def error_detail(response: httpx.Response) -> str:
    """A short description of an error response body (platform error envelopes vary)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, ValueError):
        text = response.text.strip().replace("\n", " ")
        return text[:200] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # Google, Graph
            reasons = [e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)]
            reason = f" ({', '.join(r for r in reasons if r)})" if any(reasons) else ""
            return f"{error.get('message', '')}{reason}".strip()
        for key in ("message", "detail", "error_description", "explanation", "reason", "title"):
            if isinstance(body.get(key), str):
                return body[key]
    return json.dumps(body)[:200]


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - utc_now()).total_seconds())


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    throttled: int = 0  # 429 responses
    latencies_ms: list[float] = field(default_factory=list)  # one per HTTP exchange


@dataclass
class ApiSession:
    """Requests to one platform with retries, re-authentication and landing."""

    platform: str
    http: httpx.Client
    # Returns the headers that authenticate a request; `refresh=True` asks for a new token.
    authenticate: Callable[[bool], dict[str, str]] = lambda refresh: {}
    sink: Callable[[LandedResponse], None] | None = None
    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    sleep: Callable[[float], None] | None = None
    stats: CallStats = field(default_factory=CallStats)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        land_as: Resource | None = None,
        normalize: bool = True,
        authenticated: bool = True,
        context: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request, retrying transient failures; raise `ApiError` when it fails for good.

        With `land_as`, the final response (success or not) is handed to the sink verbatim.
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            reraise=True,
            before_sleep=self._count_retry,
            **({"sleep": self.sleep} if self.sleep else {}),
        )
        recorded = {**(params or {}), **(data or {})}
        refreshed = False
        for attempt in retrying:
            with attempt:
                response = self._send(method, url, params, data, json_body, headers, authenticated, refresh=False)
                if response.status_code == 401 and authenticated and not refreshed:
                    # Tokens expire early or get revoked: get a fresh one once, then give up.
                    refreshed = True
                    response = self._send(method, url, params, data, json_body, headers, authenticated, refresh=True)
                if response.status_code == 429:
                    self.stats.throttled += 1
                if response.status_code in TRANSIENT_STATUSES:
                    raise TransientApiError(
                        self.platform, method, url, response.status_code, error_detail(response),
                        retry_after=retry_after_seconds(response), params=recorded,
                    )
                if land_as is not None:
                    self._land(method, url, recorded, response, land_as, normalize, context)
                if response.status_code == 401:
                    raise AuthError(self.platform, method, url, 401, error_detail(response), params=recorded)
                if response.is_error:
                    raise ApiError(
                        self.platform, method, url, response.status_code, error_detail(response),
                        params=recorded,
                    )
                return response
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        authenticated: bool,
        refresh: bool,
    ) -> httpx.Response:
        """One HTTP exchange; a network failure becomes a `TransientApiError`."""
        auth_headers = self.authenticate(refresh) if authenticated else {}
        self.stats.calls += 1
        started = time.perf_counter()
        try:
            response = self.http.request(
                method, url, params=params, data=data, json=json_body,
                headers={**(headers or {}), **auth_headers},
            )
            response.read()
        except httpx.TransportError as exc:
            self.stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            raise TransientApiError(
                self.platform, method, url, None, f"{type(exc).__name__}: {exc}",
                params={**(params or {}), **(data or {})},
            ) from exc
        self.stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        return response

    def _land(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        response: httpx.Response,
        resource: Resource,
        normalize: bool,
        context: Mapping[str, str] | None,
    ) -> None:
        if self.sink is None:
            return
        self.sink(
            LandedResponse(
                platform=self.platform,
                resource=resource,
                normalize=normalize,
                method=method,
                endpoint=url,
                params=redact(params),
                status=response.status_code,
                fetched_at=server_time(response),
                body=response.text,
                context=dict(context or {}),
            )
        )

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(initial=self.backoff_initial, max=self.backoff_max)(state)
        error = state.outcome.exception() if state.outcome else None
        hinted = getattr(error, "retry_after", None)
        return max(backoff, hinted) if hinted is not None else backoff

    def _count_retry(self, state: RetryCallState) -> None:
        self.stats.retries += 1


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, TransientApiError)
