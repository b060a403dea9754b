"""Schedules and sensors (issue #4). All are on by default (`make dev` starts them).

Schedules
- `daily_collection` (01:00 UTC): collects the previous UTC day, one run of collect_platform_day
  per platform with sources (partition `<day>|<platform>`, run key the same).
- `data_quality_hourly` (:40 every hour): the freshness check (job data_quality_monitor).
- The hourly engagement refresh has its own schedule (defs/refresh.py).

Declarative automation
- `automation`: the automation condition sensor. The analytics models (dbt: posts ... rollups
  daily, weekly and monthly) carry `analytics_condition`: they rebuild together, in one dbt
  build, once their inputs updated and nothing that writes them, however indirectly, is queued
  or running (collections, refreshes, replays, backfills, the partitions' checks), and not while
  a partition of normalized/* has a failed blocking check. No job builds them on a timer.

Sensors
- `new_sources`: a source added to the sources file gets its last N complete UTC days collected
  (SOCIAL_NEW_SOURCE_DAYS, default 7): one collect_platform_day run per day with
  `sources: [the new ones]`, which replaces only their rows. The first evaluation records the
  sources file as it is (the daily schedule covers those sources).
- `trending_posts`: a post whose engagement (likes + comments + shares at its latest
  observation) is at least SOCIAL_TRENDING_FACTOR (10) times its account's norm (the median of
  the account's other posts of the last 30 days) and at least SOCIAL_TRENDING_MIN_ENGAGEMENT
  (100) gets its publication day re-collected for its account with `comment_depth` 50 (the most
  the collect config allows), i.e. its whole comment tree. The norm needs
  SOCIAL_TRENDING_MIN_POSTS (4) other posts, and the post must be at most
  SOCIAL_TRENDING_MAX_AGE_DAYS (7) old when observed. Only observations newer than the last
  evaluation count (the first looks back 24 hours), and each post is handled once.
- `run_failure_alert`: every failed run of this code location is logged as one JSON line
  (logger `social_assets.alerts`) and, when SOCIAL_ALERT_WEBHOOK_URL is set, POSTed there as
  JSON. The alert holds no secret: no run config, and any credential value from the
  environment is masked.
"""

import json
import logging
import operator
import os
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from functools import reduce
from pathlib import Path
from typing import Any, Mapping

import duckdb
import httpx
from dagster import (
    AssetKey,
    AssetSelection,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    schedule,
    sensor,
)
from dagster_duckdb import DuckDBResource

from social_assets.core.records import RESOURCES
from social_assets.defs.jobs import collect_job, quality_monitor_job
from social_assets.defs.partitions import platform_day_key
from social_assets.defs.raw import CollectConfig
from social_assets.defs.resources import SocialApiResource
from social_assets.platforms import PLATFORMS
from social_assets.settings import PARTITIONS_START
from social_assets.sources import SourcesConfigError

log = logging.getLogger("social_assets.alerts")

TRIGGER_TAG = "social_assets/trigger"
# The deepest comment_depth the collect step accepts: a trending post's whole tree.
WHOLE_TREE_DEPTH = next(
    (m.le for m in CollectConfig.model_fields["comment_depth"].metadata if getattr(m, "le", None) is not None), 50
)
WEBHOOK_VARIABLE = "SOCIAL_ALERT_WEBHOOK_URL"


def _setting(name: str, default: float, cast=float):
    raw = os.environ.get(name)
    try:
        return cast(raw) if raw else cast(default)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a valid number") from None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def complete_days(now: datetime, count: int) -> list[date]:
    """The last `count` complete UTC days before `now`, oldest first, not before the partitions start."""
    first = date.fromisoformat(PARTITIONS_START)
    yesterday = now.astimezone(timezone.utc).date() - timedelta(days=1)
    return [d for d in (yesterday - timedelta(days=i) for i in reversed(range(count))) if d >= first]


# -- declarative automation -------------------------------------------------------------------

# The analytics models are rebuilt together, by one `dbt build` per trigger, and only from
# finished inputs:
# - trigger: an input updated (a collection, a refresh, a replay, or another model requested in
#   the same tick) since the model was last requested or built. An input written after a build
#   began is not swallowed by it: every writer is in the duckdb pool, so an input's write that is
#   older than the model's build was there when dbt read it.
# - hold (the same for every model, so they go together or not at all): while anything that
#   writes their inputs, directly or not, is queued, running or part of a backfill in progress
#   (every raw/* and normalized/* asset, and the normalized partitions' checks, which run after
#   the writes and may still fail), or while any analytics model is being built already.
# - never while a partition of the normalized layer has a failed blocking check, nor while a
#   model's own failed blocking check (a dbt test) would feed its children, unless the model is
#   rebuilt in the same tick (its tests run again, and dbt skips what follows a failure).
COLLECTED = [AssetKey(["normalized", resource]) for resource in RESOURCES]
# Every asset that writes what dbt reads, whatever the path: the daily collection (raw/* then
# normalized/*) and the hourly refresh (raw/metric_refreshes then normalized/post_metrics).
UPSTREAM_WRITERS = [
    *(AssetKey(["raw", resource]) for resource in RESOURCES),
    *COLLECTED,
    AssetKey(["raw", "metric_refreshes"]),
    AssetKey(["normalized", "post_metrics"]),
]
TRIGGER_LABEL = "an_input_updated_since_last_handled"
HOLD_LABEL = "an_upstream_write_or_an_analytics_build_in_progress"


def _blocking_check_failed() -> AutomationCondition:
    return AutomationCondition.any_checks_match(AutomationCondition.check_failed(), blocking_only=True)


def _any_of(conditions: list[AutomationCondition]) -> AutomationCondition:
    return reduce(operator.or_, conditions)


def _upstream_being_written() -> AutomationCondition:
    """Queued or running (a run's planned writes count from its creation), or left to do by an
    asset backfill; for the normalized assets, also their checks still to run."""
    busy = AutomationCondition.in_progress()
    return _any_of(
        [AutomationCondition.asset_matches(key, busy) for key in UPSTREAM_WRITERS]
        + [
            AutomationCondition.asset_matches(key, AutomationCondition.any_checks_match(AutomationCondition.in_progress()))
            for key in COLLECTED
        ]
    )


def analytics_condition(models: list[AssetKey]) -> AutomationCondition:
    """The condition of every analytics model; `models` are all of them (see above)."""
    trigger = AutomationCondition.any_deps_updated().since_last_handled().with_label(TRIGGER_LABEL)
    hold = (
        _upstream_being_written() | _any_of([AutomationCondition.asset_matches(key, AutomationCondition.in_progress()) for key in models])
    ).with_label(HOLD_LABEL)
    return (
        trigger
        & ~hold
        & ~AutomationCondition.any_deps_match(
            _blocking_check_failed() & ~AutomationCondition.will_be_requested()
        ).with_label("a_dep_failed_a_blocking_check")
        & ~_any_of([AutomationCondition.asset_matches(key, _blocking_check_failed()) for key in COLLECTED]).with_label(
            "a_collected_partition_failed_a_blocking_check"
        )
    ).with_label("inputs_updated_and_checked")


automation_sensor = AutomationConditionSensorDefinition(
    "automation",
    target=AssetSelection.all(),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    emit_backfills=False,
    description="Evaluates the assets' automation conditions (the analytics models follow their inputs).",
)


# -- schedules --------------------------------------------------------------------------------


@schedule(
    name="daily_collection",
    job=collect_job,
    cron_schedule="0 1 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every day at 01:00 UTC: collect the previous UTC day, one run per platform with sources.",
)
def daily_collection(context: ScheduleEvaluationContext, social_api: SocialApiResource):
    day = context.scheduled_execution_time.astimezone(timezone.utc).date() - timedelta(days=1)
    sources = social_api.sources()  # a broken sources file fails the tick, naming the problem
    requests = [
        RunRequest(
            run_key=str(platform_day_key(platform, day)),
            partition_key=str(platform_day_key(platform, day)),
            tags={TRIGGER_TAG: "daily_collection"},
        )
        for platform in sorted(PLATFORMS)
        if sources.get(platform)
    ]
    return requests or SkipReason("no platform has sources")


data_quality_hourly = ScheduleDefinition(
    name="data_quality_hourly",
    job=quality_monitor_job,
    cron_schedule="40 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every hour: is every platform's data fresh?",
)


# -- new sources ------------------------------------------------------------------------------


@sensor(
    name="new_sources",
    job=collect_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="A source added to the sources file gets its last SOCIAL_NEW_SOURCE_DAYS (7) days collected.",
)
def new_sources(context: SensorEvaluationContext, social_api: SocialApiResource):
    try:
        configured = social_api.sources()
    except SourcesConfigError as exc:
        # Mid-edit files are common: wait for a valid one, keep comparing against the last.
        return SkipReason(f"sources file not usable, nothing compared: {exc}")
    current = {p: sorted(s.account_id for s in configured.get(p) or []) for p in sorted(PLATFORMS)}
    state = json.loads(context.cursor) if context.cursor else None
    if state is None:
        return SensorResult(
            skip_reason="first evaluation: the sources file is recorded as known",
            cursor=json.dumps({"generation": 0, "sources": current}),
        )
    known = {p: set(ids) for p, ids in state["sources"].items()}
    added = {p: [a for a in ids if a not in known.get(p, set())] for p, ids in current.items()}
    added = {p: ids for p, ids in added.items() if ids}
    generation = state["generation"] + (1 if added else 0)
    cursor = json.dumps({"generation": generation, "sources": current})
    if not added:
        return SensorResult(skip_reason="no new source", cursor=cursor)
    days = complete_days(_utc_now(), int(_setting("SOCIAL_NEW_SOURCE_DAYS", 7, int)))
    requests = [
        RunRequest(
            run_key=f"new-sources-{generation}:{platform_day_key(platform, day)}",
            partition_key=str(platform_day_key(platform, day)),
            run_config={"ops": {"collect": {"config": {"sources": ids}}}},
            tags={TRIGGER_TAG: "new_sources", "social_assets/sources": ",".join(ids)},
        )
        for platform, ids in added.items()
        for day in days
    ]
    context.log.info(f"new sources {added}: collecting {days[0]}..{days[-1]}")
    return SensorResult(run_requests=requests, cursor=cursor)


# -- trending posts ---------------------------------------------------------------------------


def _writing(instance) -> bool:
    """A run in progress may be writing the warehouse; DuckDB then refuses other processes, and a
    reader would make a starting writer (dbt) fail."""
    writing = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
    return bool(instance.get_run_records(RunsFilter(statuses=writing), limit=1))


TRENDING_SQL = """
WITH latest AS (
    SELECT platform, post_id, collected_at,
           coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) AS engagement
    FROM analytics.engagement_snapshots
    QUALIFY row_number() OVER (PARTITION BY platform, post_id ORDER BY collected_at DESC) = 1
),
posts AS (
    SELECT p.platform, p.account_id, p.post_id, p.published_at, l.collected_at, l.engagement
    FROM analytics.posts p JOIN latest l USING (platform, post_id)
),
observed AS (
    SELECT * FROM posts
    WHERE collected_at > $since AND published_at >= collected_at - to_days($max_age_days)
),
judged AS (
    -- The account's norm: the median engagement of its other posts of the last 30 days.
    SELECT o.*,
           (SELECT median(h.engagement) FROM posts h WHERE h.platform = o.platform AND h.account_id = o.account_id
              AND h.post_id <> o.post_id AND h.published_at >= $norm_since) AS norm,
           (SELECT count(*) FROM posts h WHERE h.platform = o.platform AND h.account_id = o.account_id
              AND h.post_id <> o.post_id AND h.published_at >= $norm_since) AS history
    FROM observed o
)
SELECT platform, account_id, post_id, published_at, collected_at, engagement, norm, history
FROM judged
WHERE history >= $min_history AND engagement >= $min_engagement AND engagement >= $factor * greatest(norm, 1)
ORDER BY platform, account_id, published_at, post_id
"""


def trending_candidates(con: duckdb.DuckDBPyConnection, since: datetime) -> list[dict[str, Any]]:
    """Posts observed after `since` (UTC, zone-less) whose engagement is far above their account's norm."""
    newest = con.execute("SELECT max(collected_at) FROM analytics.engagement_snapshots").fetchone()[0]
    if newest is None:
        return []
    rows = con.execute(
        TRENDING_SQL,
        {
            "since": since,
            "norm_since": newest - timedelta(days=30),
            "max_age_days": int(_setting("SOCIAL_TRENDING_MAX_AGE_DAYS", 7, int)),
            "min_history": int(_setting("SOCIAL_TRENDING_MIN_POSTS", 4, int)),
            "min_engagement": _setting("SOCIAL_TRENDING_MIN_ENGAGEMENT", 100),
            "factor": _setting("SOCIAL_TRENDING_FACTOR", 10),
        },
    ).fetchall()
    names = ["platform", "account_id", "post_id", "published_at", "collected_at", "engagement", "norm", "history"]
    return [dict(zip(names, row)) for row in rows]


@sensor(
    name="trending_posts",
    job=collect_job,
    minimum_interval_seconds=600,
    default_status=DefaultSensorStatus.RUNNING,
    description="A post far above its account's usual engagement gets its whole comment tree collected.",
)
def trending_posts(context: SensorEvaluationContext, warehouse: DuckDBResource, social_api: SocialApiResource):
    if _writing(context.instance):
        return SkipReason("a run is in progress: the warehouse is left to it")
    if not Path(warehouse.database).exists():
        return SkipReason("no warehouse yet")
    try:
        con = duckdb.connect(warehouse.database, read_only=True)
    except duckdb.IOException as exc:
        return SkipReason(f"warehouse not readable now ({type(exc).__name__}); next time")
    try:
        tables = {t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics'").fetchall()}
        if not {"posts", "engagement_snapshots"} <= tables:
            return SkipReason("the analytics tables are not built yet")
        state = json.loads(context.cursor) if context.cursor else {}
        newest = con.execute("SELECT max(collected_at) FROM analytics.engagement_snapshots").fetchone()[0]
        if newest is None:
            return SkipReason("no engagement observed yet")
        since = datetime.fromisoformat(state["since"]) if state.get("since") else newest - timedelta(hours=24)
        candidates = trending_candidates(con, since)
    finally:
        con.close()

    handled = list(state.get("handled", []))
    configured = {p: {s.account_id for s in sources} for p, sources in social_api.sources().items()}
    groups: dict[tuple[str, date, str], list[dict]] = defaultdict(list)
    for post in candidates:
        if f"{post['platform']}:{post['post_id']}" in handled:
            continue
        if post["account_id"] not in configured.get(post["platform"], set()):
            continue  # no longer in the sources file: a collection of it would be refused
        groups[(post["platform"], post["published_at"].date(), post["account_id"])].append(post)

    requests = []
    for (platform, day, account_id), posts in sorted(groups.items()):
        ids = sorted(p["post_id"] for p in posts)
        context.log.info(
            f"trending on {platform} {account_id}: "
            + ", ".join(f"{p['post_id']} ({p['engagement']} vs norm {p['norm']:g})" for p in posts)
        )
        requests.append(
            RunRequest(
                run_key=f"trending:{platform_day_key(platform, day)}:{account_id}:{'+'.join(ids)}",
                partition_key=str(platform_day_key(platform, day)),
                run_config={"ops": {"collect": {"config": {"sources": [account_id], "comment_depth": WHOLE_TREE_DEPTH}}}},
                tags={TRIGGER_TAG: "trending_posts", "social_assets/posts": ",".join(f"{platform}:{i}" for i in ids)},
            )
        )
        handled += [f"{platform}:{i}" for i in ids]
    cursor = json.dumps({"since": newest.isoformat(), "handled": handled[-1000:]})
    if not requests:
        return SensorResult(skip_reason="no post trending", cursor=cursor)
    return SensorResult(run_requests=requests, cursor=cursor)


# -- run failures -----------------------------------------------------------------------------


def _secrets(environ: Mapping[str, str]) -> list[str]:
    names = {name for platform in PLATFORMS.values() for name in platform.credentials}
    values = [environ.get(name) for name in sorted(names)] + [environ.get(WEBHOOK_VARIABLE)]
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)


def _masked(text: str | None, secrets: list[str], limit: int = 2000) -> str | None:
    if text is None:
        return None
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text if len(text) <= limit else text[:limit] + "..."


def failure_alert(context: RunFailureSensorContext, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """What a failed run is reported as: where and what failed, never config or secrets."""
    secrets = _secrets(environ)
    run = context.dagster_run
    steps = []
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error if event.step_failure_data else None
        while error is not None and error.cause is not None:  # the user code's own exception, not Dagster's wrapper
            error = error.cause
        steps.append({"step": event.step_key, "error": _masked(error.message.strip() if error else None, secrets)})
    return {
        "event": "dagster_run_failed",
        "job": run.job_name,
        "run_id": run.run_id,
        "partition": run.tags.get("dagster/partition"),
        "trigger": run.tags.get(TRIGGER_TAG) or run.tags.get("dagster/schedule_name") or run.tags.get("dagster/sensor_name"),
        "failed_steps": steps,
        "message": _masked(context.failure_event.message, secrets),
        "at": _utc_now().isoformat(timespec="seconds"),
    }


def post_alert(url: str, alert: dict[str, Any], timeout: float = 10.0) -> str:
    """POST the alert as JSON; returns what happened (the URL is never logged: it may hold a token)."""
    try:
        response = httpx.post(url, json=alert, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"webhook not reached ({type(exc).__name__})"
    if response.status_code >= 300:
        return f"webhook answered {response.status_code}"
    return "webhook notified"


@run_failure_sensor(
    name="run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Logs every failed run as a JSON line and POSTs it to SOCIAL_ALERT_WEBHOOK_URL when set.",
)
def run_failure_alert(context: RunFailureSensorContext):
    alert = failure_alert(context)
    line = json.dumps(alert, sort_keys=True)
    log.error(line)
    context.log.error(line)
    url = os.environ.get(WEBHOOK_VARIABLE)
    if url:
        outcome = post_alert(url, alert)
        (context.log.info if outcome == "webhook notified" else context.log.warning)(f"alert: {outcome}")


SCHEDULES = [daily_collection, data_quality_hourly]
SENSORS = [automation_sensor, new_sources, trending_posts, run_failure_alert]
