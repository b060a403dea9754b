"""The HTTP layer every platform client talks through.

One `ApiSession` per platform and run wraps an `httpx.Client` and adds what every platform
needs: retries of transient failures (tenacity), one-shot re-authentication on 401, secrets kept
out of anything recorded, and landing of responses verbatim for the `raw.*` tables. With a
`limiter` (see `core.limits`) every HTTP exchange is also paced by the platform's limits, charged
to its quota and guarded by a circuit breaker per endpoint.

Clients always use the platforms' real URLs; whether a request reaches the real platform or the
sandbox is decided by the transport the `httpx.Client` was built with (see `transport.py`).
"""

from __future__ import annotations

import email.utils
import enum
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Mapping

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

if TYPE_CHECKING:
    from social_assets.core.limits.limiter import Limiter, Permit, Settled

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
    """A failure worth retrying (429 and the platform's other "slow down" answers, 408, 5xx,
    timeouts, dropped connections, a success whose body is cut short)."""

    def __init__(self, *args: Any, retry_after: float | None = None, params: Mapping[str, Any] | None = None):
        super().__init__(*args, params=params)
        self.retry_after = retry_after


class AuthError(ApiError):
    """Credentials are missing, wrong or cannot be refreshed: a configuration problem."""


class QuotaExhaustedError(ApiError):
    """The platform's quota for this credential is spent (a daily budget, or a window longer
    than a run should wait). Not retried: every call of the platform with this credential fails
    fast, in every process sharing the limiter's store, until `resets_at`."""

    def __init__(
        self,
        platform: str,
        method: str,
        endpoint: str,
        status: int | None,
        detail: str,
        *,
        resets_at: datetime | None,
        params: Mapping[str, Any] | None = None,
    ):
        super().__init__(platform, method, endpoint, status, detail, params=params)
        self.resets_at = resets_at


class CircuitOpenError(ApiError):
    """The endpoint failed again and again: its calls fail fast, without a request, until the
    breaker lets one probe through at `retry_at`. The source fails; the run goes on."""

    def __init__(
        self,
        platform: str,
        method: str,
        endpoint: str,
        detail: str,
        *,
        retry_at: datetime,
        params: Mapping[str, Any] | None = None,
    ):
        super().__init__(platform, method, endpoint, None, detail, params=params)
        self.retry_at = retry_at


class Outcome(enum.Enum):
    """What one HTTP exchange says about the platform, for pacing, quotas and the breaker."""

    OK = "ok"  # answered, success or not (a 404 says nothing bad about the endpoint)
    THROTTLED = "throttled"  # the platform asks us to slow down (429, YouTube rateLimitExceeded)
    FAILED = "failed"  # 5xx, 408, timeout, dropped connection, truncated body
    QUOTA = "quota"  # the platform refused the call because the quota is spent
    NOT_SENT = "not sent"  # the reserved call never went out


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


def json_problem(response: httpx.Response) -> str | None:
    """For `ApiSession.validate`: why a success body is not usable JSON (e.g. cut short), or None."""
    try:
        response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return f"the {response.status_code} response body is not valid JSON ({len(response.content)} bytes; cut short?)"
    return None


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
    throttled: int = 0  # 429s and the platform's other "slow down" answers
    latencies_ms: list[float] = field(default_factory=list)  # one per HTTP exchange
    units: int = 0  # quota units charged by the limiter (YouTube: 1 per list call)
    waited_s: float = 0.0  # time the limiter held calls back to stay inside the limits


@dataclass
class ApiSession:
    """Requests to one platform with pacing, retries, re-authentication and landing."""

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
    # Paces and meters every exchange and holds the endpoint breakers (core.limits); None: no pacing.
    limiter: "Limiter | None" = None
    # Says what is wrong with a 2xx response (None if nothing): such a response is retried.
    validate: Callable[[httpx.Response], str | None] | None = None
    # Says why a 2xx response landed as `resource` has items that do not normalize (a field
    # missing or renamed), or None. Such a response is fetched again; on the last attempt it is
    # landed as it is and its items become dead letters.
    check_items: Callable[[Resource, httpx.Response, Mapping[str, str]], str | None] | None = None

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
        send = _Request(method, url, params, data, json_body, headers, authenticated, recorded)
        refreshed = False
        for attempt in retrying:
            with attempt:
                exchange = self._exchange(send, refresh=False)
                if exchange.response.status_code == 401 and authenticated and not refreshed:
                    # Tokens expire early or get revoked: get a fresh one once, then give up.
                    refreshed = True
                    exchange = self._exchange(send, refresh=True)
                if attempt.retry_state.attempt_number < self.max_attempts:
                    self._refuse_unusable_items(send, exchange.response, land_as, normalize, context)
                return self._conclude(send, exchange, land_as, normalize, context)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _refuse_unusable_items(
        self,
        send: "_Request",
        response: httpx.Response,
        land_as: Resource | None,
        normalize: bool,
        context: Mapping[str, str] | None,
    ) -> None:
        if self.check_items is None or land_as is None or not normalize or not response.is_success:
            return
        problem = self.check_items(land_as, response, context or {})
        if problem:
            raise TransientApiError(
                self.platform, send.method, send.url, response.status_code, problem, params=send.recorded
            )

    def _exchange(self, send: "_Request", refresh: bool) -> "_Exchange":
        """One paced HTTP exchange and what it says; a network failure becomes a `TransientApiError`."""
        auth_headers = self.authenticate(refresh) if send.authenticated else {}
        # May wait for the limits, or refuse at once (QuotaExhaustedError, CircuitOpenError).
        permit = self.limiter.acquire(send.method, send.url) if self.limiter else None
        if permit is not None:
            self.stats.units += permit.cost
            self.stats.waited_s += permit.waited
        try:
            response = self._send(send, auth_headers)
        except TransientApiError as error:
            self._settle(permit, None, Outcome.FAILED, type(error.__cause__).__name__)
            raise
        except BaseException:
            self._settle(permit, None, Outcome.NOT_SENT, "")
            raise
        outcome, problem = self._outcome(response)
        settled = self._settle(permit, response, outcome, problem or f"HTTP {response.status_code}")
        return _Exchange(response, outcome, problem, settled)

    def _outcome(self, response: httpx.Response) -> tuple[Outcome, str | None]:
        policy = self.limiter.policy if self.limiter else None
        if policy is not None and policy.quota_exhausted(response):
            return Outcome.QUOTA, None
        if response.status_code == 429 or (policy is not None and policy.throttled(response)):
            return Outcome.THROTTLED, None
        if response.status_code in TRANSIENT_STATUSES:
            return Outcome.FAILED, None
        if response.is_success and self.validate is not None:
            problem = self.validate(response)
            if problem:
                return Outcome.FAILED, problem
        return Outcome.OK, None

    def _settle(
        self, permit: "Permit | None", response: httpx.Response | None, outcome: Outcome, note: str
    ) -> "Settled | None":
        if permit is None or self.limiter is None:
            return None
        settled = self.limiter.settle(permit, response, outcome, note)
        self.stats.units -= settled.refunded
        return settled

    def _conclude(
        self,
        send: "_Request",
        exchange: "_Exchange",
        land_as: Resource | None,
        normalize: bool,
        context: Mapping[str, str] | None,
    ) -> httpx.Response:
        """Raise the exchange's error, if any (after landing a final answer), or return it."""
        response, method, url, recorded = exchange.response, send.method, send.url, send.recorded
        settled = exchange.settled
        if settled is not None and settled.paused:
            # The quota is spent, or the platform asks for a longer wait than a run should sleep.
            if land_as is not None:
                self._land(method, url, recorded, response, land_as, normalize, context)
            raise QuotaExhaustedError(
                self.platform, method, url, response.status_code, error_detail(response),
                resets_at=settled.resets_at, params=recorded,
            )
        if exchange.outcome in (Outcome.THROTTLED, Outcome.FAILED):
            if exchange.outcome is Outcome.THROTTLED:
                self.stats.throttled += 1
            hints = [retry_after_seconds(response), settled.retry_after if settled else None]
            raise TransientApiError(
                self.platform, method, url, response.status_code, exchange.problem or error_detail(response),
                retry_after=max((h for h in hints if h is not None), default=None), params=recorded,
            )
        if land_as is not None:
            self._land(method, url, recorded, response, land_as, normalize, context)
        if response.status_code == 401:
            raise AuthError(self.platform, method, url, 401, error_detail(response), params=recorded)
        if response.is_error:
            raise ApiError(self.platform, method, url, response.status_code, error_detail(response), params=recorded)
        return response

    def _send(self, send: "_Request", auth_headers: Mapping[str, str]) -> httpx.Response:
        """One HTTP exchange; a network failure becomes a `TransientApiError`."""
        self.stats.calls += 1
        started = time.perf_counter()
        try:
            response = self.http.request(
                send.method, send.url, params=send.params, data=send.data, json=send.json_body,
                headers={**(send.headers or {}), **auth_headers},
            )
            response.read()
        except httpx.TransportError as exc:
            self.stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            raise TransientApiError(
                self.platform, send.method, send.url, None, f"{type(exc).__name__}: {exc}", params=send.recorded,
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


@dataclass(frozen=True)
class _Request:
    method: str
    url: str
    params: Mapping[str, Any] | None
    data: Mapping[str, Any] | None
    json_body: Any
    headers: Mapping[str, str] | None
    authenticated: bool
    recorded: dict[str, Any]  # query and form parameters together, as an error records them


@dataclass(frozen=True)
class _Exchange:
    response: httpx.Response
    outcome: Outcome
    problem: str | None  # why a 2xx body is unusable
    settled: "Settled | None"  # what the limiter made of it, when there is one


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, TransientApiError)
