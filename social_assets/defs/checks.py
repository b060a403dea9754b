"""Asset checks (issue #4): what must hold for data to flow from a platform-day to the analysts.

Per platform-day partition, one step (`platform_day_checks`, after normalized/*, in every run that
materializes them) evaluates:

| check                                  | fails when                                           | blocking |
|----------------------------------------|------------------------------------------------------|----------|
| normalized/posts:unique_keys           | a key (account_id, post_id) is null or repeated      | yes      |
| normalized/comments:unique_keys        | a key (post_id, comment_id) is null or repeated      | yes      |
| normalized/profiles:unique_keys        | a key (account_id) is null or repeated               | yes      |
| normalized/comments:known_posts        | a comment's post is in no partition of normalized.posts | yes   |
| normalized/posts:quality_score         | under 95 % of the fetched items normalized cleanly    | yes      |
| normalized/posts:quality_score_target  | under 99 % of them did (WARN)                         | no       |
| normalized/posts:volume                | the row count is far outside its trailing 14-day band | no       |
| normalized/comments:volume             | the same for comments                                 | no       |

The quality score of a platform-day is the share of fetched items that normalized cleanly:
rows in normalized.posts + comments + profiles for the partition, over those rows plus the
partition's item dead letters (ops.dead_letters, kind 'item': items, or whole responses, that
did not normalize). Failed requests are not items and do not count (the collection log and
health report them). A partition with nothing fetched has no score and passes.

The volume band comes from the same platform's partitions of the 14 days before, counting only
days that were collected (ops.collection_log): on a log scale, the median plus or minus three
robust standard deviations (1.4826 x MAD). A count outside it is an anomaly only if a Poisson
count with the history's median would also be that far out with probability under 0.1 %, so
small sources (a few posts a day, where a quiet day is normal) do not raise alarms, while zero
rows for a source that normally has dozens do. Far below is severity ERROR, far above WARN.
It needs 5 collected days of history; before that it passes and says so.

Freshness is checked per platform by `freshness` on analytics/posts (not partitioned): the last
successful collection (ops.collection_log) must be younger than SOCIAL_FRESHNESS_MAX_AGE_HOURS
(36), the same rule `social-assets health` applies. It runs with every analytics build and hourly
(job `data_quality_monitor`). Not blocking: it watches time passing, not a batch of data.

The analytics tables' own checks (schema, keys, comments -> posts) are dbt tests
(dbt_transforms/models/analytics/schema.yml); their results are recorded by the dbt asset.

Blocking checks stop what is downstream: in a run, Dagster skips the steps after a failed
blocking check; across runs, the analytics models' automation condition
(`defs/automation.py`) does not start while any upstream partition has a failed blocking check.

Every result is also a row of ops.data_quality (platform, day, check, passed, value, checked_at),
one per platform, day and check, replaced when the check runs again: `value` is the number of
offending rows (keys, known_posts), the row count (volume), the share 0..1 (quality scores) or
hours since the last successful collection (freshness). dbt tests are recorded with platform
'all' and the day they ran, `value` being their number of failing rows.
"""

import math
import statistics
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable

import duckdb
import pandas as pd
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    PreviewWarning,
    asset_check,
    multi_asset_check,
)
from dagster_duckdb import DuckDBResource

from social_assets.core.timeutil import to_warehouse_time, utc_now
from social_assets.defs.partitions import platform_day_partitions, split_key
from social_assets.defs.resources import SocialApiResource
from social_assets.quality import ALL_PLATFORMS, PARTITION_CHECKS, max_age_from_environment, read_freshness
from social_assets.warehouse.tables import DATA_QUALITY, ensure_schema

POSTS, COMMENTS, PROFILES = (AssetKey(["normalized", r]) for r in ("posts", "comments", "profiles"))
ANALYTICS_POSTS = AssetKey(["analytics", "posts"])

# The key the normalizer keeps one row per, within a partition (see normalization.py).
KEYS = {POSTS: ("account_id", "post_id"), COMMENTS: ("post_id", "comment_id"), PROFILES: ("account_id",)}

QUALITY_FAIL_BELOW = 0.95
QUALITY_WARN_BELOW = 0.99
VOLUME_HISTORY_DAYS = 14
VOLUME_MIN_HISTORY = 5
VOLUME_SPREADS = 3.0  # robust standard deviations either side of the median (log scale)
VOLUME_ALPHA = 0.001  # how unlikely a count must be under Poisson(median) to be an anomaly
VOLUME_MIN_RATE = 0.5  # the Poisson rate assumed for a history of zeros


def check_name(key: AssetCheckKey) -> str:
    """How a check is named in ops.data_quality: `<asset>:<check>`, e.g. normalized/posts:volume."""
    return f"{key.asset_key.to_user_string()}:{key.name}"


def _spec(asset: AssetKey, name: str, blocking: bool, description: str, deps=()) -> AssetCheckSpec:
    # Partitioned checks are a preview feature of Dagster 1.13, used knowingly: they keep a
    # result per platform-day, which is what lets a failed partition hold back the analytics
    # until that partition is fixed (see analytics_condition in defs/automation.py).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return AssetCheckSpec(
            name,
            asset=asset,
            partitions_def=platform_day_partitions,
            blocking=blocking,
            description=description,
            additional_deps=list(deps),
        )


PARTITION_SPECS = [
    _spec(
        AssetKey(check.table.split(".")),
        check.name,
        check.blocking,
        check.description,
        deps=[AssetKey(table.split(".")) for table in check.reads],
    )
    for check in PARTITION_CHECKS
]

FRESHNESS_KEY = AssetCheckKey(ANALYTICS_POSTS, "freshness")


@dataclass
class Outcome:
    key: AssetCheckKey
    passed: bool
    value: float | None
    description: str
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR
    metadata: dict[str, Any] = field(default_factory=dict)

    def result(self) -> AssetCheckResult:
        metadata = {"value": self.value, **self.metadata}
        return AssetCheckResult(
            asset_key=self.key.asset_key,
            check_name=self.key.name,
            passed=self.passed,
            severity=self.severity,
            description=self.description,
            metadata={k: _metadata(v) for k, v in metadata.items() if v is not None},
        )


def _metadata(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return MetadataValue.json(value)
    return value


# -- the checks of a platform-day -------------------------------------------------------------


def evaluate_platform_day(con: duckdb.DuckDBPyConnection, platform: str, day: date) -> list[Outcome]:
    """Every partition check for one platform-day, from the warehouse (see the module docstring)."""
    counts = {asset: _count(con, asset, platform, day) for asset in KEYS}
    outcomes = [_unique_keys(con, asset, platform, day) for asset in KEYS]
    outcomes.append(_known_posts(con, platform, day))
    outcomes += _quality(con, platform, day, counts)
    for asset in (POSTS, COMMENTS):
        history = volume_history(con, asset, platform, day)
        outcomes.append(volume_outcome(AssetCheckKey(asset, "volume"), counts[asset], history))
    return outcomes


def _table(asset: AssetKey) -> str:
    return ".".join(asset.path)


def _count(con, asset: AssetKey, platform: str, day: date) -> int:
    return con.execute(
        f"SELECT count(*) FROM {_table(asset)} WHERE platform = ? AND partition_date = ?", [platform, day]
    ).fetchone()[0]


def _unique_keys(con, asset: AssetKey, platform: str, day: date) -> Outcome:
    key = KEYS[asset]
    nulls = " OR ".join(f"{c} IS NULL" for c in key)
    columns = ", ".join(key)
    null_rows, duplicates = con.execute(
        f"""
        SELECT
            (SELECT count(*) FROM {_table(asset)} WHERE platform = ? AND partition_date = ? AND ({nulls})),
            (SELECT coalesce(sum(n - 1), 0) FROM (
                SELECT count(*) AS n FROM {_table(asset)}
                WHERE platform = ? AND partition_date = ? AND NOT ({nulls})
                GROUP BY {columns} HAVING count(*) > 1))
        """,
        [platform, day, platform, day],
    ).fetchone()
    examples = [
        dict(zip(key, row))
        for row in con.execute(
            f"SELECT {columns} FROM {_table(asset)} WHERE platform = ? AND partition_date = ? "
            f"GROUP BY {columns} HAVING count(*) > 1 ORDER BY {columns} LIMIT 10",
            [platform, day],
        ).fetchall()
    ]
    bad = int(null_rows) + int(duplicates)
    what = f"({', '.join(key)})"
    return Outcome(
        AssetCheckKey(asset, "unique_keys"),
        passed=bad == 0,
        value=bad,
        description=f"every key {what} is present and unique"
        if bad == 0
        else f"{null_rows} row(s) with a null key and {duplicates} duplicate row(s) of key {what}",
        metadata={"null_key_rows": int(null_rows), "duplicate_rows": int(duplicates), "duplicated_keys": examples or None},
    )


def _known_posts(con, platform: str, day: date) -> Outcome:
    orphans = con.execute(
        """
        SELECT c.post_id, count(*) FROM normalized.comments c
        WHERE c.platform = ? AND c.partition_date = ?
          AND NOT EXISTS (SELECT 1 FROM normalized.posts p WHERE p.platform = c.platform AND p.post_id = c.post_id)
        GROUP BY 1 ORDER BY 2 DESC, 1
        """,
        [platform, day],
    ).fetchall()
    count = sum(n for _, n in orphans)
    return Outcome(
        AssetCheckKey(COMMENTS, "known_posts"),
        passed=count == 0,
        value=count,
        description="every comment belongs to a known post"
        if count == 0
        else f"{count} comment(s) point at {len(orphans)} post(s) not in normalized.posts",
        metadata={"orphan_comments": count, "unknown_post_ids": [p for p, _ in orphans[:10]] or None},
    )


def _quality(con, platform: str, day: date, counts: dict[AssetKey, int]) -> list[Outcome]:
    clean = sum(counts.values())
    rejected = con.execute(
        "SELECT count(*) FROM ops.dead_letters WHERE platform = ? AND partition_date = ? AND kind = 'item'",
        [platform, day],
    ).fetchone()[0]
    seen = clean + rejected
    score = clean / seen if seen else None
    metadata = {"items_clean": clean, "items_rejected": int(rejected)}
    shown = f"{score:.2%}" if score is not None else "n/a"
    text = f"{clean} of {seen} fetched items normalized cleanly ({shown})" if seen else "nothing fetched"
    return [
        Outcome(
            AssetCheckKey(POSTS, "quality_score"),
            passed=score is None or score >= QUALITY_FAIL_BELOW,
            value=score,
            description=text + ("" if score is None or score >= QUALITY_FAIL_BELOW else f"; under {QUALITY_FAIL_BELOW:.0%}"),
            metadata=metadata,
        ),
        Outcome(
            AssetCheckKey(POSTS, "quality_score_target"),
            passed=score is None or score >= QUALITY_WARN_BELOW,
            value=score,
            severity=AssetCheckSeverity.WARN,
            description=text + ("" if score is None or score >= QUALITY_WARN_BELOW else f"; under {QUALITY_WARN_BELOW:.0%}"),
            metadata=metadata,
        ),
    ]


# -- volume -----------------------------------------------------------------------------------


def volume_history(con, asset: AssetKey, platform: str, day: date) -> dict[date, int]:
    """Rows per collected day among the 14 days before `day` (a day never collected is not a zero)."""
    start = day - timedelta(days=VOLUME_HISTORY_DAYS)
    collected = [
        d
        for (d,) in con.execute(
            "SELECT DISTINCT partition_date FROM ops.collection_log "
            "WHERE platform = ? AND partition_date >= ? AND partition_date < ? AND status <> 'failed' ORDER BY 1",
            [platform, start, day],
        ).fetchall()
    ]
    counts = dict(
        con.execute(
            f"SELECT partition_date, count(*) FROM {_table(asset)} "
            "WHERE platform = ? AND partition_date >= ? AND partition_date < ? GROUP BY 1",
            [platform, start, day],
        ).fetchall()
    )
    return {d: int(counts.get(d, 0)) for d in collected}


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    median: float


def volume_band(history: Iterable[int]) -> Band | None:
    counts = list(history)
    if len(counts) < VOLUME_MIN_HISTORY:
        return None
    logs = [math.log1p(c) for c in counts]
    center = statistics.median(logs)
    spread = 1.4826 * statistics.median(abs(v - center) for v in logs)
    return Band(
        low=math.expm1(center - VOLUME_SPREADS * spread),
        high=math.expm1(center + VOLUME_SPREADS * spread),
        median=float(statistics.median(counts)),
    )


def poisson_cdf(k: int, rate: float) -> float:
    """P(X <= k) for X ~ Poisson(rate)."""
    if k < 0:
        return 0.0
    log_rate = math.log(rate)
    return min(1.0, sum(math.exp(-rate + i * log_rate - math.lgamma(i + 1)) for i in range(k + 1)))


def volume_outcome(key: AssetCheckKey, count: int, history: dict[date, int]) -> Outcome:
    band = volume_band(history.values())
    what = key.asset_key.path[-1]
    metadata: dict[str, Any] = {"rows": count, "history_days": len(history)}
    if band is None:
        return Outcome(
            key, True, count,
            f"{count} {what}; {len(history)} collected day(s) of history, {VOLUME_MIN_HISTORY} needed to judge",
            metadata=metadata,
        )
    rate = max(band.median, VOLUME_MIN_RATE)
    below = count < band.low and poisson_cdf(count, rate) < VOLUME_ALPHA
    above = count > band.high and 1.0 - poisson_cdf(count - 1, rate) < VOLUME_ALPHA
    metadata.update(band_low=round(band.low, 2), band_high=round(band.high, 2), history_median=band.median)
    if below:
        text = f"{count} {what}, far below the trailing band {band.low:.1f}..{band.high:.1f} (median {band.median:g})"
    elif above:
        text = f"{count} {what}, far above the trailing band {band.low:.1f}..{band.high:.1f} (median {band.median:g})"
    else:
        text = f"{count} {what}, within the trailing band (median {band.median:g} over {len(history)} days)"
    return Outcome(
        key,
        passed=not (below or above),
        value=count,
        description=text,
        severity=AssetCheckSeverity.WARN if above else AssetCheckSeverity.ERROR,
        metadata=metadata,
    )


# -- ops.data_quality -------------------------------------------------------------------------


def record_results(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Upsert rows of ops.data_quality: one per (platform, day, check), the latest result."""
    if not rows:
        return
    ensure_schema(con)
    frame = pd.DataFrame(rows, columns=["platform", "day", "check", "passed", "value", "checked_at"])
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("quality_rows", frame)
        con.execute(
            f'DELETE FROM {DATA_QUALITY.qualified} q USING quality_rows r '
            'WHERE q.platform = r.platform AND q.day = r.day AND q."check" = r."check"'
        )
        con.execute(
            f'INSERT INTO {DATA_QUALITY.qualified} (platform, day, "check", passed, value, checked_at) '
            'SELECT platform, day, "check", passed, value, checked_at FROM quality_rows'
        )
        con.unregister("quality_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def quality_row(platform: str, day: date, name: str, passed: bool, value: float | None, at: datetime) -> dict[str, Any]:
    return {
        "platform": platform,
        "day": day,
        "check": name,
        "passed": bool(passed),
        "value": None if value is None else float(value),
        "checked_at": to_warehouse_time(at),
    }


def record_dbt_results(warehouse: DuckDBResource, results: list[AssetCheckResult], at: datetime | None = None) -> None:
    """The dbt tests' results of a build, as ops.data_quality rows (platform 'all', today)."""
    at = at or utc_now()
    rows = []
    for result in results:
        if result.asset_key is None or result.check_name is None:
            continue
        failures = result.metadata.get("dagster_dbt/failed_row_count")
        value = getattr(failures, "value", failures)
        name = check_name(AssetCheckKey(result.asset_key, result.check_name))
        rows.append(quality_row(ALL_PLATFORMS, at.date(), name, result.passed, value, at))
    if rows:
        with warehouse.get_connection() as con:
            record_results(con, rows)


# -- the Dagster definitions ------------------------------------------------------------------


@multi_asset_check(
    specs=PARTITION_SPECS,
    name="platform_day_checks",
    can_subset=True,
    pool="duckdb",
    description="The data-quality checks of a platform-day, read from the warehouse; results also go to ops.data_quality.",
)
def platform_day_checks(context: AssetCheckExecutionContext, warehouse: DuckDBResource):
    platform, day, _ = split_key(context.partition_key.keys_by_dimension)
    selected = context.selected_asset_check_keys
    now = utc_now()
    with warehouse.get_connection() as con:
        ensure_schema(con)
        outcomes = [o for o in evaluate_platform_day(con, platform, day) if o.key in selected]
        record_results(con, [quality_row(platform, day, check_name(o.key), o.passed, o.value, now) for o in outcomes])
    for outcome in outcomes:
        if not outcome.passed:
            context.log.warning(f"{platform} {day}: {check_name(outcome.key)} failed: {outcome.description}")
        yield outcome.result()


@asset_check(
    asset=ANALYTICS_POSTS,
    name="freshness",
    pool="duckdb",
    description="Every platform with sources had a successful collection within "
    "SOCIAL_FRESHNESS_MAX_AGE_HOURS (36 h).",
)
def freshness(context: AssetCheckExecutionContext, warehouse: DuckDBResource, social_api: SocialApiResource):
    now = utc_now()
    max_age = max_age_from_environment()
    platforms = sorted(p for p, sources in social_api.sources().items() if sources)
    with warehouse.get_connection() as con:
        ensure_schema(con)
        found = read_freshness(con, platforms)
        stale = {p: found[p].stale_reason(now, max_age) for p in platforms}
        record_results(
            con,
            [
                quality_row(p, now.date(), check_name(FRESHNESS_KEY), stale[p] is None, found[p].hours_since_success(now), now)
                for p in platforms
            ],
        )
    problems = {p: reason for p, reason in stale.items() if reason}
    for platform, reason in problems.items():
        context.log.warning(f"{platform} is stale: {reason}")
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="stale: " + "; ".join(f"{p} ({r})" for p, r in problems.items())
        if problems
        else f"every platform is fresh ({', '.join(platforms) or 'none configured'})",
        metadata={
            "stale_platforms": MetadataValue.json(sorted(problems)),
            "hours_since_success": MetadataValue.json(
                {p: None if found[p].last_success is None else round(found[p].hours_since_success(now), 2) for p in platforms}
            ),
            "max_age_hours": max_age.total_seconds() / 3600,
        },
    )


CHECKS = [platform_day_checks, freshness]
