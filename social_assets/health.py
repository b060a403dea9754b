"""Health of each platform and of the analytics tables, for `social-assets health`.

Per platform with sources configured:

- reachable: one unauthenticated GET to each of the platform's API hosts through the same
  connection logic as the pipeline (`connections.connect`: the sandbox without credentials).
  Any HTTP answer means reachable; a transport error (DNS, refused, timeout, TLS) means not.
  No credential is sent, so the probe spends no rate limit or quota.
- limit: what is left of the platform's rate limit or quota (`limit_remaining`, the one place
  to switch to the shared limiter state once it exists).
- last successful collection: the newest `finished_at` in ops.collection_log of a source
  collection that succeeded (fully or partly).
- data freshness: the newest day collected, and the newest observation (`collected_at`) in the
  normalized tables.
- recent error rate: the share of source collections in the last 24 hours that failed.
- data quality: checks that failed for the newest day collected (ops.data_quality).
- credentials: a source whose token expires soon is a warning, an expired one a problem (the
  sources that know their token's expiry: `token_expiry`, e.g. LinkedIn's).

And for the analytics tables: the dbt tests whose latest result failed (ops.data_quality,
platform `all`); a failing blocking one (dbt severity error) makes the report unhealthy.

A platform is unhealthy when it is unreachable, its last successful collection is older than
the allowed age (SOCIAL_FRESHNESS_MAX_AGE_HOURS, 36: the same rule as the freshness check), its
recent error rate is above the allowed rate, its quota is known to be spent, or a blocking
data-quality check failed on its newest day. The newest observation is shown, not judged: its
time is the platform's clock (`collected_at`), which the sandbox may pin anywhere.
Platforms without sources are reported and never unhealthy.

Everything is read from the warehouse read-only, in one short connection, so the command can
run next to the pipeline (DuckDB allows a reader only while nobody writes: see `open_read_only`).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import duckdb
import httpx

from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import Platform
from social_assets.quality import (
    DBT_MANIFEST,
    FailedCheck,
    dbt_tests,
    failed_dbt_tests,
    has_table,
    is_blocking,
    read_freshness,
)

DEFAULT_MAX_ERROR_RATE = 0.25
ERROR_WINDOW = timedelta(hours=24)
PROBE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
LOCK_WAIT_SECONDS = 15.0


# -- reading the warehouse --------------------------------------------------------------------


class WarehouseBusy(RuntimeError):
    """Another process holds the DuckDB file for writing."""


def open_read_only(path: Path, wait_seconds: float = LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection, or None when the file does not exist yet. A writer (a pipeline
    step) holding the file makes DuckDB refuse readers: wait for it a little, then give up."""
    if not path.exists():
        return None
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            if time.monotonic() >= deadline:
                raise WarehouseBusy(f"{path} is held by another process: {exc}") from None
            time.sleep(0.5)


def _warehouse_time(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


# -- limits -----------------------------------------------------------------------------------


@dataclass
class Limit:
    remaining: int | None  # None: not known
    of: int | None
    detail: str

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


def limit_remaining(platform: str, con: duckdb.DuckDBPyConnection | None, now: datetime) -> Limit:
    """What is left of the platform's rate limit or quota.

    Against the live API it is read from the shared limiter state (core/limits: the store
    every collecting process writes). The in-process sandbox keeps its limiter state in memory,
    so for it the estimate below from the warehouse stands:
    - YouTube: the daily quota (10,000 units, reset at midnight America/Los_Angeles) minus the
      calls the daily collections made since the reset (ops.collection_log; every list call
      costs one unit). An estimate: other users of the same API project are not seen.
    - Reddit: unknown. Its limit is a 600 s window reported in response headers, which are not
      stored (raw.* keeps bodies).
    """
    live = _live_limit(platform)
    if live is not None:
        return live
    if platform == "youtube":
        from social_assets.platforms.youtube.spec import DAILY_QUOTA_UNITS, QUOTA_TIME_ZONE

        reset = now.astimezone(QUOTA_TIME_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
        spent = 0
        if con is not None and has_table(con, "ops.collection_log"):
            spent = con.execute(
                "SELECT coalesce(sum(calls), 0) FROM ops.collection_log WHERE platform = ? AND started_at >= ?",
                [platform, _warehouse_time(reset)],
            ).fetchone()[0]
        left = max(0, DAILY_QUOTA_UNITS - int(spent))
        return Limit(
            left,
            DAILY_QUOTA_UNITS,
            f"~{left:,} of {DAILY_QUOTA_UNITS:,} quota units left today "
            f"(estimate: {DAILY_QUOTA_UNITS:,} minus {int(spent):,} calls logged since midnight America/Los_Angeles)",
        )
    if platform == "reddit":
        return Limit(None, None, "unknown (Reddit reports its 600 s window in response headers, which are not stored)")
    return Limit(None, None, "unknown")


def _live_limit(platform_name: str) -> Limit | None:
    """The tightest limit left, from the shared limiter state, when the platform is live."""
    from social_assets.connections import connect
    from social_assets.core.errors import AuthError
    from social_assets.platforms import PLATFORMS

    platform = PLATFORMS[platform_name]
    connection = connect(platform, os.environ)
    try:
        if not connection.is_live:
            return None
        client = connection.client(None)
        rooms = client.session.limiter.headroom() if client.session.limiter is not None else []
        for name in platform.api.companions:  # another API's quota (TikTok Research), when set up
            try:
                rooms += client.companion(name).session.limiter.headroom()
            except AuthError:
                pass
    except AuthError:
        return None  # no platform-wide credentials: the sources' own are not summed up here
    finally:
        connection.close()
    if not rooms:
        return None
    tightest = min(rooms, key=lambda r: r.remaining / r.of if r.of else 1.0)
    resets = f", resets {tightest.resets_at:%Y-%m-%d %H:%M %Z}" if tightest.resets_at else ""
    return Limit(int(tightest.remaining), int(tightest.of), f"{int(tightest.remaining):,} of {int(tightest.of):,} left ({tightest.limit}{resets})")


# -- reachability -----------------------------------------------------------------------------


def api_hosts(platform: Platform, sources: Sequence[Any] = ()) -> list[str]:
    """The platform's API and token hosts, and the hosts its sources live on (Mastodon instances)."""
    urls = [platform.api.base_url, *(auth.token_url for auth in platform.api.auth if auth.token_url)]
    urls += [source.base_url for source in sources if getattr(source, "base_url", None)]
    return list(dict.fromkeys(httpx.URL(url).host for url in urls))


@dataclass
class Reach:
    reachable: bool
    api: str  # live, or which sandbox
    detail: str


def probe(platform: Platform, environ: Mapping[str, str] = os.environ, sources: Sequence[Any] = ()) -> Reach:
    """One GET per API host of the platform (its API and token endpoints), without
    credentials. The sandbox runs at the real URLs, so the hosts are the same in both modes."""
    from social_assets.connections import api_mode, connect

    connection = connect(platform, {}, sandbox_url=environ.get("SOCIAL_SANDBOX_URL") or None, mode=api_mode(platform, environ))
    answers = []
    try:
        for host in api_hosts(platform, sources):
            try:
                response = connection.http.get(f"https://{host}/", timeout=PROBE_TIMEOUT)
            except httpx.TransportError as exc:
                return Reach(False, connection.mode, f"{host}: no answer ({type(exc).__name__})")
            answers.append(f"{host} answered {response.status_code}")
    finally:
        connection.close()
    return Reach(True, connection.mode, "; ".join(answers))


# -- the report -------------------------------------------------------------------------------


@dataclass
class PlatformHealth:
    platform: str
    sources: int
    api: str | None = None
    reachable: bool | None = None
    reach_detail: str = ""
    limit: str = ""
    last_success: datetime | None = None
    newest_day: date | None = None
    newest_observation: datetime | None = None
    collections_24h: int = 0
    failed_24h: int = 0
    failed_checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # shown, not judged (a token expiring soon)

    @property
    def configured(self) -> bool:
        return self.sources > 0

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def error_rate(self) -> float | None:
        return self.failed_24h / self.collections_24h if self.collections_24h else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_success", "newest_observation"):
            data[key] = data[key].isoformat(timespec="seconds") if data[key] else None
        data["newest_day"] = self.newest_day.isoformat() if self.newest_day else None
        data["healthy"] = self.healthy
        data["error_rate"] = self.error_rate
        return data


@dataclass
class AnalyticsHealth:
    """The analytics tables: the dbt tests whose latest result failed (ops.data_quality, platform `all`)."""

    failed_checks: list[FailedCheck] = field(default_factory=list)

    @property
    def blocking(self) -> list[FailedCheck]:
        return [f for f in self.failed_checks if f.blocking]

    @property
    def problems(self) -> list[str]:
        return [f"blocking check failed: {f.describe()}" for f in self.blocking]

    @property
    def healthy(self) -> bool:
        return not self.blocking

    def to_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "problems": self.problems,
            "failed_checks": [
                {"check": f.check, "day": f.day.isoformat(), "failing_rows": f.failing_rows,
                 "checked_at": f.checked_at.isoformat(timespec="seconds"), "blocking": f.blocking}
                for f in self.failed_checks
            ],
        }


@dataclass
class HealthReport:
    platforms: list[PlatformHealth]
    analytics: AnalyticsHealth

    @property
    def healthy(self) -> bool:
        return all(h.healthy for h in self.platforms) and self.analytics.healthy

    @property
    def unhealthy(self) -> list[str]:
        names = [h.platform for h in self.platforms if not h.healthy]
        return names + ([] if self.analytics.healthy else ["analytics"])

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {
            "checked_at": now.isoformat(timespec="seconds"),
            "healthy": self.healthy,
            "platforms": [h.to_json() for h in self.platforms],
            "analytics": self.analytics.to_json(),
        }


def assess(
    warehouse: Path,
    sources: Mapping[str, list],
    now: datetime,
    max_age: timedelta,
    max_error_rate: float = DEFAULT_MAX_ERROR_RATE,
    environ: Mapping[str, str] = os.environ,
) -> HealthReport:
    """The health of every platform and of the analytics tables (see the module docstring).
    Raises `WarehouseBusy`."""
    report = [PlatformHealth(name, len(sources.get(name) or [])) for name in sorted(PLATFORMS)]
    configured = [h.platform for h in report if h.configured]
    dbt = dbt_tests(DBT_MANIFEST)
    con = open_read_only(warehouse)
    try:
        freshness = read_freshness(con, configured)
        for health in report:
            if not health.configured:
                continue
            fresh = freshness[health.platform]
            health.last_success, health.newest_day = fresh.last_success, fresh.newest_day
            health.newest_observation = fresh.newest_observation
            stale = fresh.stale_reason(now, max_age)
            if stale:
                health.problems.append(stale)
            limit = limit_remaining(health.platform, con, now)
            health.limit = limit.detail
            if limit.exhausted:
                health.problems.append("quota spent")
            _recent_errors(con, health, now)
            if health.error_rate is not None and health.error_rate > max_error_rate:
                health.problems.append(
                    f"{health.failed_24h} of {health.collections_24h} source collections failed in the last 24 h "
                    f"(allowed {max_error_rate:.0%})"
                )
            _failed_checks(con, health, dbt)
            _token_expiry(health, sources.get(health.platform) or (), now)
        analytics = AnalyticsHealth(failed_dbt_tests(con, DBT_MANIFEST))
    finally:
        if con is not None:
            con.close()
    # Probes run after the warehouse is closed: a slow network must not hold the file.
    for health in report:
        if not health.configured:
            continue
        reach = probe(PLATFORMS[health.platform], environ, sources.get(health.platform) or ())
        health.api, health.reachable, health.reach_detail = reach.api, reach.reachable, reach.detail
        if not reach.reachable:
            health.problems.insert(0, f"unreachable: {reach.detail}")
    return HealthReport(report, analytics)


def _recent_errors(con: duckdb.DuckDBPyConnection | None, health: PlatformHealth, now: datetime) -> None:
    if con is None or not has_table(con, "ops.collection_log"):
        return
    failed, total = con.execute(
        "SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FROM ops.collection_log "
        "WHERE platform = ? AND finished_at >= ?",
        [health.platform, _warehouse_time(now - ERROR_WINDOW)],
    ).fetchone()
    health.failed_24h, health.collections_24h = int(failed), int(total)


def _token_expiry(health: PlatformHealth, sources: Sequence[Any], now: datetime) -> None:
    """Sources that know when their token expires: expired is a problem, expiring soon a warning."""
    for source in sources:
        expiry = getattr(source, "token_expiry", None)
        found = expiry(now.date()) if callable(expiry) else None
        if found is not None:
            message, expired = found
            (health.problems if expired else health.warnings).append(message)


def _failed_checks(con: duckdb.DuckDBPyConnection | None, health: PlatformHealth, dbt: Mapping[str, bool]) -> None:
    """Checks that failed on the platform's newest collected day; a blocking one is a problem:
    it keeps the analytics tables from updating."""
    if con is None or health.newest_day is None or not has_table(con, "ops.data_quality"):
        return
    failed = [
        name
        for (name,) in con.execute(
            'SELECT "check" FROM ops.data_quality WHERE platform = ? AND day = ? AND NOT passed ORDER BY 1',
            [health.platform, health.newest_day],
        ).fetchall()
    ]
    health.failed_checks = failed
    blocking = [name for name in failed if is_blocking(name, health.platform, dbt)]
    if blocking:
        health.problems.append(f"blocking check failed on {health.newest_day}: {', '.join(blocking)}")


def render(report: HealthReport, now: datetime) -> str:
    def when(moment: datetime | None) -> str:
        if moment is None:
            return "never"
        hours = max(0.0, (now - moment).total_seconds() / 3600)
        return f"{moment:%Y-%m-%d %H:%M} UTC ({hours:.1f} h ago)"

    lines = []
    for h in report.platforms:
        if not h.configured:
            lines.append(f"{h.platform}: not configured (no sources)")
            continue
        status = "healthy" if h.healthy else "UNHEALTHY: " + "; ".join(h.problems)
        rate = f"{h.error_rate:.0%}" if h.error_rate is not None else "no collections"
        lines += [
            f"{h.platform}: {status}",
            f"  api             {h.api}, {'reachable' if h.reachable else 'NOT reachable'} ({h.reach_detail})",
            f"  limit           {h.limit}",
            f"  last success    {when(h.last_success)}",
            f"  data freshness  newest day {h.newest_day or 'none'}, newest observation {when(h.newest_observation)}",
            f"  errors (24 h)   {h.failed_24h} of {h.collections_24h} source collections failed ({rate})",
            f"  quality         {', '.join(h.failed_checks) + ' failed' if h.failed_checks else 'no failed checks'}"
            + (f" on {h.newest_day}" if h.newest_day else ""),
        ]
        lines += [f"  warning         {w}" for w in h.warnings]
    analytics = report.analytics
    lines.append("analytics: " + ("healthy" if analytics.healthy else "UNHEALTHY: " + "; ".join(analytics.problems)))
    warned = [f.describe() for f in analytics.failed_checks if not f.blocking]
    lines.append(
        "  dbt tests       "
        + (", ".join(f.check for f in analytics.blocking) + " failed" if analytics.blocking else "no blocking test failed")
        + (f"; warnings: {', '.join(warned)}" if warned else "")
    )
    unhealthy = report.unhealthy
    lines.append(f"overall: {'UNHEALTHY (' + ', '.join(unhealthy) + ')' if unhealthy else 'healthy'}")
    return "\n".join(lines)
