"""What can go wrong talking to a platform, and how each platform's errors map onto it.

Errors and outcomes live here, below both the HTTP session (`core.http`) and the limits
(`core.limits`), so neither imports the other for them.

Each platform declares an `ErrorTable`: a function that reads its error envelope out of a
response body, and rules from (status, envelope code, reason) to an `ErrorKind`. Kinds are
decided from the parsed envelope and the status, never from the message text, which is kept
only to show to people.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from social_assets.core.records import ApiErrorBody

# Query, form or JSON-body fields that carry credentials; never recorded or shown.
SECRET_PARAMS = frozenset(
    {
        "key", "access_token", "client_secret", "refresh_token", "code", "code_verifier", "password",
        "accessjwt", "refreshjwt", "client_key", "fb_exchange_token", "input_token", "appsecret_proof",
    }
)


def redact(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Parameters fit to record: secrets removed, values as strings."""
    if not params:
        return {}
    # A repeated parameter (`uris=a&uris=b`, given as a list or tuple) is recorded comma-joined.
    return {k: ",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)
            for k, v in params.items() if k.lower() not in SECRET_PARAMS}


def redact_json(value: Any) -> Any:
    """A JSON document fit to record: every secret-named field removed, at any depth."""
    if isinstance(value, dict):
        return {k: redact_json(v) for k, v in value.items() if str(k).lower() not in SECRET_PARAMS}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


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
        super().__init__(f"{platform}: {method} {endpoint} failed with status {status}: {detail}")


class TransientApiError(ApiError):
    """A failure worth retrying (429 and the platform's other "slow down" answers, 408, 5xx,
    timeouts, dropped connections, a success whose body is cut short)."""

    def __init__(self, *args: Any, retry_after: float | None = None, params: Mapping[str, Any] | None = None):
        super().__init__(*args, params=params)
        self.retry_after = retry_after


class AuthError(ApiError):
    """Credentials are missing, wrong, expired or cannot be refreshed: a configuration problem.
    The message names the source and the variables to fix, never their values."""


class CredentialsNotSet(AuthError):
    """In live mode, none of an API's credential variables is set: not a half-done setup but
    none at all, which an optional API (YouTube Analytics) takes as "not authorized"."""


class PermissionDeniedError(ApiError):
    """The credential works but may not read this (a private account, a missing scope)."""


class NotFoundError(ApiError):
    """The thing asked for does not exist (any more): deleted, renamed, or never existed."""


class InvalidRequestError(ApiError):
    """The platform refused the request as malformed: a bug on our side or a bad source entry."""


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


class ErrorKind(enum.Enum):
    TRANSIENT = "transient"  # retried: 5xx, 408, the platform's "try again"
    THROTTLED = "throttled"  # retried after the platform's wait: 429, "slow down" codes
    QUOTA = "quota"  # not retried: the budget is spent until its reset
    AUTH = "auth"  # not retried: a configuration error naming the source and its variables
    PERMISSION = "permission"  # not retried: this credential may not read this
    NOT_FOUND = "not found"  # not retried: deleted or never existed
    INVALID = "invalid"  # not retried: the request is wrong


# The exception each final kind raises (transient and throttled ones raise TransientApiError).
ERROR_TYPES: dict[ErrorKind, type[ApiError]] = {
    ErrorKind.AUTH: AuthError,
    ErrorKind.PERMISSION: PermissionDeniedError,
    ErrorKind.NOT_FOUND: NotFoundError,
    ErrorKind.INVALID: InvalidRequestError,
}

# What a status means when the platform's own rules say nothing more specific.
STATUS_KINDS: dict[int, ErrorKind] = {
    400: ErrorKind.INVALID,
    401: ErrorKind.AUTH,
    403: ErrorKind.PERMISSION,
    404: ErrorKind.NOT_FOUND,
    408: ErrorKind.TRANSIENT,
    410: ErrorKind.NOT_FOUND,
    422: ErrorKind.INVALID,
    429: ErrorKind.THROTTLED,
    500: ErrorKind.TRANSIENT,
    502: ErrorKind.TRANSIENT,
    503: ErrorKind.TRANSIENT,
    504: ErrorKind.TRANSIENT,
}


@dataclass(frozen=True)
class Envelope:
    """A platform's error envelope, parsed: machine-readable `code`, `subcode` and `reasons`
    decide the kind; `message` is only shown."""

    code: str | None = None
    subcode: str | None = None
    reasons: frozenset[str] = frozenset()
    message: str = ""

    @property
    def text(self) -> str:
        """The message, with the reasons after it, to show: "Forbidden (quotaExceeded)"."""
        message = self.message or self.code or "no message"
        return f"{message} ({', '.join(sorted(self.reasons))})" if self.reasons else message


@dataclass(frozen=True)
class ErrorRule:
    """One row of a platform's error table. Unset fields match anything; `codes` and `reasons`
    match when the envelope has one of them."""

    kind: ErrorKind
    statuses: frozenset[int] | None = None
    codes: frozenset[str] | None = None
    subcodes: frozenset[str] | None = None
    reasons: frozenset[str] | None = None

    def matches(self, status: int, envelope: Envelope | None) -> bool:
        if self.statuses is not None and status not in self.statuses:
            return False
        wants_envelope = self.codes is not None or self.subcodes is not None or self.reasons is not None
        if not wants_envelope:
            return True
        if envelope is None:
            return False
        if self.codes is not None and envelope.code not in self.codes:
            return False
        if self.subcodes is not None and envelope.subcode not in self.subcodes:
            return False
        return self.reasons is None or bool(self.reasons & envelope.reasons)


def rule(kind: ErrorKind, statuses: Any = None, codes: Any = None, subcodes: Any = None, reasons: Any = None) -> ErrorRule:
    """An `ErrorRule` from plain values or iterables (codes are compared as strings)."""

    def as_set(values: Any, convert: Callable[[Any], Any]) -> frozenset | None:
        if values is None:
            return None
        if isinstance(values, (str, int)):
            values = [values]
        return frozenset(convert(v) for v in values)

    return ErrorRule(kind, as_set(statuses, int), as_set(codes, str), as_set(subcodes, str), as_set(reasons, str))


def no_envelope(body: Any) -> Envelope | None:
    return None


@dataclass(frozen=True)
class ErrorTable:
    """How one platform says what went wrong.

    `envelope` reads the platform's error envelope from a parsed body (None when the body holds
    none: success data, or an error page without one). `rules` are tried in order; the first
    that matches decides, then `STATUS_KINDS`. A 2xx response is an error only when a rule
    with no status restriction or a 2xx status matches its envelope (TikTok and Graph answer
    some errors with 200).
    """

    envelope: Callable[[Any], Envelope | None] = no_envelope
    rules: tuple[ErrorRule, ...] = field(default_factory=tuple)

    def read(self, body: Any) -> Envelope | None:
        try:
            return self.envelope(body)
        except (AttributeError, LookupError, TypeError, ValueError):
            return None  # a malformed envelope is no envelope

    def classify(self, status: int, body: Any) -> tuple[ErrorKind | None, Envelope | None]:
        """The kind of error the answer is (None for a success) and its envelope."""
        envelope = self.read(body)
        for candidate in self.rules:
            if 200 <= status < 300 and (envelope is None or candidate.statuses is not None and status not in candidate.statuses):
                continue
            if candidate.matches(status, envelope):
                return candidate.kind, envelope
        if 200 <= status < 300:
            return None, envelope
        if status in STATUS_KINDS:
            return STATUS_KINDS[status], envelope
        if status >= 500:
            return ErrorKind.TRANSIENT, envelope
        return ErrorKind.INVALID, envelope

    def raise_if_error(self, platform: str, body: Any) -> None:
        """For a normalizer: raise `ApiErrorBody` when `body` holds the platform's error
        envelope, so an error body is refused whole. Only for platforms whose envelope reader
        finds nothing in a success body (TikTok's and Graph's 200 answers carry one)."""
        envelope = self.read(body)
        if envelope is not None:
            code = envelope.code  # a number, as the platform sent it, when it is one ("403": 403)
            raise ApiErrorBody(platform, int(code) if code and code.isdecimal() else code, envelope.text)

    def describe(self, status: int, text: str) -> str:
        """A one-line description of an error answer for messages and dead letters."""
        try:
            body = json.loads(text)
        except (json.JSONDecodeError, ValueError):
            return text.strip().replace("\n", " ")[:200] or f"HTTP {status}"
        envelope = self.read(body)
        if envelope is not None:
            parts = [envelope.message, f"code {envelope.code}" if envelope.code else "", ", ".join(sorted(envelope.reasons))]
            return "; ".join(p for p in parts if p)[:300] or f"HTTP {status}"
        return generic_detail(body)


def generic_detail(body: Any) -> str:
    """A short description of an error body in no envelope we know (for messages only)."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        for key in ("message", "detail", "error_description", "explanation", "reason", "title", "error"):
            if isinstance(body.get(key), str):
                return body[key]
    return json.dumps(body)[:200]
