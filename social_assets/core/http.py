"""The HTTP layer every platform client talks through.

One `ApiSession` per platform, source and run wraps an `httpx.Client` and adds what every
platform needs: retries of transient failures (tenacity), one-shot re-authentication when the
platform refuses the credential, secrets kept out of anything recorded, errors classified by the
platform's `ErrorTable` (`core.errors`), and landing of responses verbatim for the `raw.*`
tables. With a `limiter` (see `core.limits`) every HTTP exchange is also paced by the
platform's limits, charged to its quota and guarded by a circuit breaker per endpoint.

Clients always use the platforms' real URLs; whether a request reaches the real platform or the
sandbox is decided by the transport the `httpx.Client` was built with (see `connections.py`).
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.parse import quote, quote_plus

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from social_assets.core.errors import (
    ERROR_TYPES,
    ErrorKind,
    ErrorTable,
    Outcome,
    QuotaExhaustedError,
    TransientApiError,
    redact,
    redact_json,
)
from social_assets.core.records import Resource
from social_assets.core.timeutil import utc_now

if TYPE_CHECKING:
    from social_assets.core.limits.limiter import Limiter, Permit, Settled

@dataclass(frozen=True)
class ItemCheck:
    """What the item check (`ApiSession.check_items`) found in a 2xx response: the collection
    log counts these, so nothing normalizes a response a second time just to count it."""

    clean: int  # items that normalize
    problems: int  # items that do not, or 1 when the body is not a response of its resource at all
    problem: str | None = None  # why the response is refused, when it has problems


@dataclass(frozen=True)
class LandedResponse:
    """One API response exactly as received, with the request that produced it."""

    platform: str
    resource: Resource
    # False for responses that only index what to fetch next (e.g. YouTube playlistItems):
    # they are landed for the record but are not responses of `resource` to normalize.
    normalize: bool
    method: str
    endpoint: str  # the URL without its query: scheme, host and path
    params: dict[str, str]  # query and form parameters, secrets removed
    status: int
    fetched_at: datetime
    body: str  # verbatim, but for secrets the session knows (see `ApiSession.secrets`)
    # Facts the body omits that its normalizer needs (e.g. the video a YouTube replies page
    # belongs to), recorded beside the body in raw.* as request metadata.
    context: Mapping[str, str] = field(default_factory=dict)
    # A JSON request body (TikTok's POSTs), secret-named fields removed; None without one.
    request_body: Any = None
    # The item check's verdict on a 2xx response of `resource` to normalize; None when unchecked.
    item_check: ItemCheck | None = None


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


def server_day(response: httpx.Response) -> datetime:
    """The start (00:00 UTC) of the platform's day at this response: windows of past days are
    asked by its clock, which a sandbox may pin to another day than ours."""
    return server_time(response).astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


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


REDACTED = "<redacted>"


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
    # How the platform says what went wrong (status plus error envelope -> kind).
    errors: ErrorTable = field(default_factory=ErrorTable)
    # Says what is wrong with a 2xx response (None if nothing): such a response is retried.
    validate: Callable[[httpx.Response], str | None] | None = None
    # Counts the items of a 2xx response landed as `resource` that normalize and that do not
    # (a field missing or renamed). A response with problems is fetched again; on the last
    # attempt it is landed as it is and its items become dead letters. The landed response
    # carries the check, so the collection log counts without normalizing again.
    check_items: Callable[[Resource, httpx.Response, Mapping[str, str]], ItemCheck] | None = None
    # Credential values (and tokens the auth obtains) scrubbed from landed bodies and messages,
    # in plain and URL-encoded forms: Graph echoes the token in every `paging.next`.
    secrets: set[str] = field(default_factory=set)
    # The platform's own cleaning of a body before it is landed (after the secrets are scrubbed).
    redact_body: Callable[[str], str] | None = None
    # Appended to an auth error: which source and which variables to fix.
    credential_hint: str = ""

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
        """Send a request, retrying transient failures; raise `ApiError` (of the kind the
        platform's error table gives) when it fails for good.

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
        send = _Request.of(method, url, params, data, json_body, headers, authenticated)
        refreshed = False
        for attempt in retrying:
            with attempt:
                exchange = self._exchange(send, refresh=False)
                if exchange.kind is ErrorKind.AUTH and authenticated and not refreshed:
                    # Tokens expire early or get revoked: get a fresh one once, then give up.
                    refreshed = True
                    exchange = self._exchange(send, refresh=True)
                check = self._check_items(exchange, land_as, normalize, context)
                if check is not None and check.problem and attempt.retry_state.attempt_number < self.max_attempts:
                    raise TransientApiError(
                        self.platform, send.method, send.endpoint, exchange.response.status_code, check.problem,
                        params=send.recorded,
                    )
                return self._conclude(send, exchange, land_as, normalize, context, check)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def scrub(self, text: str) -> str:
        """`text` with every known secret replaced, in its plain and URL-encoded forms."""
        for secret in self.secrets:
            if len(secret) < 6:
                continue  # too short to replace safely; such values are not real secrets
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, REDACTED)
        return text

    def _check_items(
        self,
        exchange: "_Exchange",
        land_as: Resource | None,
        normalize: bool,
        context: Mapping[str, str] | None,
    ) -> ItemCheck | None:
        """The item check of a successful response to land and normalize; None otherwise."""
        if self.check_items is None or land_as is None or not normalize or exchange.kind is not None:
            return None
        return self.check_items(land_as, exchange.response, context or {})

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
        kind, outcome, problem = self._outcome(response)
        settled = self._settle(permit, response, outcome, problem or f"HTTP {response.status_code}")
        return _Exchange(response, kind, outcome, problem, settled)

    def _outcome(self, response: httpx.Response) -> tuple[ErrorKind | None, Outcome, str | None]:
        kind, _ = self.errors.classify(response.status_code, _parsed(response))
        if kind is ErrorKind.QUOTA:
            return kind, Outcome.QUOTA, None
        if kind is ErrorKind.THROTTLED:
            return kind, Outcome.THROTTLED, None
        if kind is ErrorKind.TRANSIENT:
            return kind, Outcome.FAILED, None
        if kind is None and self.validate is not None:
            problem = self.validate(response)
            if problem:
                return ErrorKind.TRANSIENT, Outcome.FAILED, problem
        return kind, Outcome.OK, None

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
        check: ItemCheck | None = None,
    ) -> httpx.Response:
        """Raise the exchange's error, if any (after landing a final answer), or return it."""
        response, kind, settled = exchange.response, exchange.kind, exchange.settled
        fail = (self.platform, send.method, send.endpoint, response.status_code)
        if (settled is not None and settled.paused) or kind is ErrorKind.QUOTA:
            # The quota is spent, or the platform asks for a longer wait than a run should sleep.
            if land_as is not None:
                self._land(send, response, land_as, normalize, context)
            raise QuotaExhaustedError(
                *fail, self._detail(response), resets_at=settled.resets_at if settled else None, params=send.recorded
            )
        if kind in (ErrorKind.THROTTLED, ErrorKind.TRANSIENT):
            if kind is ErrorKind.THROTTLED:
                self.stats.throttled += 1
            hints = [retry_after_seconds(response), settled.retry_after if settled else None]
            raise TransientApiError(
                *fail, exchange.problem or self._detail(response),
                retry_after=max((h for h in hints if h is not None), default=None), params=send.recorded,
            )
        if land_as is not None:
            self._land(send, response, land_as, normalize, context, check)
        if kind is not None:
            detail = self._detail(response)
            if kind is ErrorKind.AUTH and self.credential_hint:
                detail = f"{detail}; {self.credential_hint}"
            raise ERROR_TYPES[kind](*fail, detail, params=send.recorded)
        return response

    def _detail(self, response: httpx.Response) -> str:
        return self.scrub(self.errors.describe(response.status_code, response.text))

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
                self.platform, send.method, send.endpoint, None, self.scrub(f"{type(exc).__name__}: {exc}"),
                params=send.recorded,
            ) from exc
        self.stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        return response

    def _land(
        self,
        send: "_Request",
        response: httpx.Response,
        resource: Resource,
        normalize: bool,
        context: Mapping[str, str] | None,
        check: ItemCheck | None = None,
    ) -> None:
        if self.sink is None:
            return
        body = self.scrub(response.text)
        if self.redact_body is not None:
            body = self.redact_body(body)
        self.sink(
            LandedResponse(
                platform=self.platform,
                resource=resource,
                normalize=normalize,
                method=send.method,
                endpoint=send.endpoint,
                params=redact(send.recorded),
                status=response.status_code,
                fetched_at=server_time(response),
                body=body,
                context=dict(context or {}),
                request_body=redact_json(send.json_body) if send.json_body is not None else None,
                item_check=check,
            )
        )

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(multiplier=self.backoff_initial, max=self.backoff_max)(state)
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
    endpoint: str  # the URL without its query
    recorded: dict[str, Any]  # query (of the URL and `params`) and form parameters together

    @classmethod
    def of(cls, method: str, url: str, params: Mapping[str, Any] | None, data: Mapping[str, Any] | None,
           json_body: Any, headers: Mapping[str, str] | None, authenticated: bool) -> "_Request":
        parsed = httpx.URL(url)
        # A next-page URL carries its query (and, on Graph, the token): split it out to record.
        recorded = {**dict(parsed.params.multi_items()), **(params or {}), **(data or {})}
        endpoint = str(parsed.copy_with(query=None, fragment=None))
        return cls(method, url, params, data, json_body, headers, authenticated, endpoint, recorded)


@dataclass(frozen=True)
class _Exchange:
    response: httpx.Response
    kind: ErrorKind | None  # None: a usable answer
    outcome: Outcome
    problem: str | None  # why a 2xx body is unusable
    settled: "Settled | None"  # what the limiter made of it, when there is one


def _parsed(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, RecursionError):
        return None


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, TransientApiError)
