"""The YouTube emulation's Analytics part: Google's token endpoint (`POST /token`,
`grant_type=refresh_token` with the client id and secret in the form; the refresh token is not
rotated) and YouTube Analytics API v2 `GET /v2/reports` for the subscriber metrics by day, with
a bearer token the token endpoint issued. Neither is metered (the Analytics quota is not the
Data API's, and PLATFORMS.md gives none).

The report is the world's follower history: a Los Angeles day's net change is the channel's
followers at its end minus those at its start, split into `subscribersGained` and a small
`subscribersLost` (by a hash), for the days that are over, since the channel's creation. So
`channels.list`'s `subscriberCount` minus the net changes after a day gives the world's count at
that day's end, up to the rounding of `subscriberCount` and today's changes so far.

Served only for `ids=channel==<channel id>` (the sandbox's token manages every channel; `MINE`
names none), `metrics` among the two, `dimensions=day`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Mapping

from social_assets.platforms.youtube.spec import ANALYTICS_VARIABLES, QUOTA_TIME_ZONE
from social_assets.sandbox.engine import Emulation, bearer, digest
from social_assets.sandbox.http import SandboxRequest, SandboxResponse
from social_assets.sandbox.world import WorldAccount

ANALYTICS_HOST, TOKEN_HOST = "youtubeanalytics.googleapis.com", "oauth2.googleapis.com"
HOSTS = (ANALYTICS_HOST, TOKEN_HOST)
CREDENTIALS = dict(zip(ANALYTICS_VARIABLES, ("sandbox-youtube-analytics.apps.googleusercontent.com",
                                             "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cret",
                                             "1//sandbox-youtube-analytics-refresh-token")))
TOKEN_LIFETIME = 3599  # as Google sends it
SCOPE = "https://www.googleapis.com/auth/yt-analytics.readonly"
METRICS = ("subscribersGained", "subscribersLost")


def _error(status: int, reason: str, message: str, state: str) -> SandboxResponse:
    return SandboxResponse(status, {"error": {"code": status, "message": message, "status": state, "errors": [
        {"message": message, "domain": "global", "reason": reason}]}})


def _bad_request(message: str) -> SandboxResponse:
    return _error(400, "badRequest", message, "INVALID_ARGUMENT")


class AnalyticsRoutes(Emulation):
    """The token endpoint and the reports: a base of the YouTube emulation, which owns the hosts
    and knows its channels by id (`_channels`)."""

    _channels: Mapping[str, WorldAccount]

    def analytics_authenticate(self, request: SandboxRequest) -> SandboxResponse | None:
        """None (not metered) for a bearer token the token endpoint issued, else Google's 401. (The
        engine authenticates no call to the token endpoint.)"""
        if self.tokens.subject(bearer(request)):
            return None
        return _error(401, "required", "Request is missing required authentication credential.", "UNAUTHENTICATED")

    def analytics_route(self, request: SandboxRequest) -> SandboxResponse:
        if request.method == "POST" and request.host == TOKEN_HOST and request.path == "/token":
            return self._token(request)
        if request.method == "GET" and request.host == ANALYTICS_HOST and request.path == "/v2/reports":
            return self._report(request)
        return _error(404, "notFound", "Not Found", "NOT_FOUND")

    def _token(self, request: SandboxRequest) -> SandboxResponse:
        form = request.form()
        client_id, secret, refresh = (form.get(k, "") for k in ("client_id", "client_secret", "refresh_token"))
        client_variable, secret_variable, refresh_variable = ANALYTICS_VARIABLES
        if not self.accepted.accepts(**{client_variable: client_id, secret_variable: secret}):
            return SandboxResponse(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if form.get("grant_type") != "refresh_token" or not self.accepted.accepts(
                **{client_variable: client_id, refresh_variable: refresh}):
            return SandboxResponse(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        return self.ok({"access_token": self.tokens.issue(client_id, TOKEN_LIFETIME), "expires_in": TOKEN_LIFETIME,
                        "scope": SCOPE, "token_type": "Bearer"})

    def _report(self, request: SandboxRequest) -> SandboxResponse:
        ids = request.param("ids") or ""
        account = self._channels.get(ids.removeprefix("channel==")) if ids.startswith("channel==") else None
        if account is None:
            return _error(403, "forbidden", "Forbidden", "PERMISSION_DENIED")
        try:
            start, end = (date.fromisoformat(request.param(name) or "") for name in ("startDate", "endDate"))
        except ValueError:
            return _bad_request("Required parameters startDate and endDate must be dates (YYYY-MM-DD).")
        if start > end:
            return _bad_request("The start date must be before the end date.")
        metrics = (request.param("metrics") or "").split(",")
        if not metrics or not set(metrics) <= set(METRICS):
            return _bad_request(f"Unknown or unsupported metrics {request.param('metrics')!r} (the sandbox serves "
                                f"{', '.join(METRICS)}).")
        if request.param("dimensions") != "day" or request.param("sort") not in (None, "day"):
            return _bad_request("The sandbox serves dimensions=day, sorted by day.")
        now = self.world.now()
        last_over = now.astimezone(QUOTA_TIME_ZONE).date() - timedelta(days=1)
        first = max(start, account.created_at.astimezone(QUOTA_TIME_ZONE).date())
        days = (first + timedelta(days=n) for n in range((min(end, last_over) - first).days + 1))
        rows = [[day.isoformat(), *(changes[m] for m in metrics)] for day, changes in
                ((d, self._changes(account, d)) for d in days)]
        headers = [{"name": "day", "columnType": "DIMENSION", "dataType": "STRING"}]
        headers += [{"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics]
        return self.ok({"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, **({"rows": rows} if rows else {})})

    def _changes(self, account: WorldAccount, day: date) -> dict[str, int]:
        """The world's net follower change over a Los Angeles day, as gained and lost."""
        start, end = (datetime.combine(d, time.min, QUOTA_TIME_ZONE) for d in (day, day + timedelta(days=1)))
        net = account.followers(end) - account.followers(start)
        lost = max(digest("yt-unsubscribed", account.handle, day) % (2 + abs(net) // 5), -net)
        return {"subscribersGained": net + lost, "subscribersLost": lost}

