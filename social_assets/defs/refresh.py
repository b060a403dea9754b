"""raw/metric_refreshes and normalized/post_metrics: the hourly engagement refresh.

Every hour, each platform's posts younger than `max_age_days` (default 7) get their current
likes, comments, shares and views fetched with the platform's batch lookup (Reddit /api/info
with 100 fullnames, YouTube videos.list with 50 ids). Each hour is its own partition
(platform x UTC hour), so a refresh can be re-run or backfilled without touching the daily
collections, and every hour adds a point to analytics.engagement_snapshots. Posts the refresh
finds gone (the platform's refresh says so, or its normalizer) are purged and kept as
tombstones (privacy/deletions.py); they are not asked for again.

Like `collect`, it is a graph-backed multi asset whose API calls run outside the warehouse's
`duckdb` pool, so an API that makes it wait (a spent rate-limit window) holds up no writer:
- `due_posts`, in the pool: which posts to refresh, read from normalized.posts;
- `fetch_metrics`: the batch lookups, and the metrics read from their answers;
- `load_metrics`, in the pool: raw/metric_refreshes and normalized/post_metrics of the hour replaced in
  one transaction, gone posts purged.
The run config stays at `ops: refresh_engagement: config:` (a config mapping hands it to `due_posts`).
"""

from datetime import datetime, timedelta, timezone

import pandas as pd
from dagster import (
    AssetOut,
    AssetSelection,
    Config,
    DefaultScheduleStatus,
    HourlyPartitionsDefinition,
    MetadataValue,
    MultiPartitionsDefinition,
    Nothing,
    Out,
    Output,
    build_schedule_from_partitioned_job,
    config_mapping,
    define_asset_job,
    graph_multi_asset,
    op,
)
from dagster_duckdb import DuckDBResource
from pydantic import Field

from social_assets.collection import open_client
from social_assets.core.errors import ApiError
from social_assets.core.http import LandedResponse
from social_assets.core.records import Gone, NotAResponse
from social_assets.core.timeutil import to_warehouse_time, utc_now
from social_assets.defs.partitions import platforms_partitions
from social_assets.defs.resources import HANDOFF, SocialApiResource
from social_assets.normalization import normalize_body, parse_body
from social_assets.platforms import PLATFORMS
from social_assets.privacy.deletions import honour, record_gone
from social_assets.settings import PARTITIONS_START, analytics_snapshot_path
from social_assets.warehouse.tables import (
    METRIC_NAMES,
    NORMALIZED_TABLES,
    POST_METRICS,
    REFRESH_RESPONSES,
    PartitionWrite,
    ensure_schema,
    landed_row,
    replace_rows,
)

hourly_partitions = HourlyPartitionsDefinition(start_date=f"{PARTITIONS_START}-00:00", timezone="UTC")
platform_hour_partitions = MultiPartitionsDefinition({"platform": platforms_partitions, "hour": hourly_partitions})


class RefreshConfig(Config):
    max_age_days: int = Field(default=7, gt=0, le=90, description="refresh posts published this recently")


def _partition(context) -> tuple[str, datetime]:
    """The step's platform and hour."""
    keys = platform_hour_partitions.get_partition_key_from_str(context.partition_key).keys_by_dimension
    return keys["platform"], datetime.strptime(keys["hour"], "%Y-%m-%d-%H:%M").replace(tzinfo=timezone.utc)


@op(
    description="The posts whose metrics the hour refreshes (normalized.posts), by account.",
    out=Out(dict, io_manager_key=HANDOFF),
    pool="duckdb",
)
def due_posts(context, config: RefreshConfig, warehouse: DuckDBResource) -> dict:
    platform, hour = _partition(context)
    with warehouse.get_connection() as con:
        ensure_schema(con)
        return recent_posts(con, platform, hour + timedelta(hours=1), timedelta(days=config.max_age_days))


@op(
    description="The batch lookups of the due posts, outside the duckdb pool, and the metrics they answer.",
    # In memory: the answers (post texts among them) are not copied into Dagster's storage, where
    # the purge of deleted posts would not reach them.
    out=Out(dict, io_manager_key=HANDOFF),
)
def fetch_metrics(context, recent: dict, social_api: SocialApiResource) -> dict:
    platform, hour = _partition(context)
    landed: list[tuple[str, LandedResponse]] = []
    errors: dict[str, str] = {}
    gone: list[Gone] = []
    refresh = PLATFORMS[platform].refresh
    if refresh is None:
        context.log.warning(f"{platform}: the platform has no metrics refresh; nothing to do")
    elif recent:
        connection = social_api.connect(platform)
        # Each account's posts are read with its source's credentials (the platform's when the
        # source left the sources file).
        sources = {source.account_id: source for source in social_api.sources()[platform]}
        try:
            for account_id, post_ids in recent.items():
                sink: list[LandedResponse] = []
                try:
                    # A refresh may report posts its lookup says are gone (a 404, missing from a batch).
                    gone.extend(refresh(open_client(connection, sources.get(account_id), sink.append), post_ids) or ())
                except ApiError as exc:
                    errors[account_id] = str(exc)
                    context.log.warning(f"{platform}: refreshing {account_id} failed: {exc}")
                    continue
                landed.extend((account_id, response) for response in sink)
        finally:
            connection.close()
    responses, metrics, reported = _rows(platform, hour, landed)
    return {
        "responses": responses, "metrics": metrics, "gone": gone + reported, "errors": errors,
        "posts_due": sum(len(ids) for ids in recent.values()),
        "fetched_at": max((r.fetched_at for _, r in landed), default=utc_now()),
    }


@op(
    description="The hour's responses and metrics into the warehouse in one transaction; gone posts purged.",
    out={"metric_refreshes": Out(Nothing), "post_metrics": Out(Nothing)},
    pool="duckdb",
)
def load_metrics(context, fetched: dict, warehouse: DuckDBResource):
    platform, hour = _partition(context)
    errors, gone = fetched["errors"], fetched["gone"]
    partition = {"platform": platform, "partition_hour": to_warehouse_time(hour)}
    with warehouse.get_connection() as con:
        replace_rows(
            con,
            partition,
            [
                PartitionWrite(REFRESH_RESPONSES, fetched["responses"], keep_accounts=frozenset(errors)),
                PartitionWrite(POST_METRICS, fetched["metrics"], keep_accounts=frozenset(errors)),
            ],
        )
        new_gone = record_gone(con, platform, gone, fetched["fetched_at"])
        purged = honour(con, platform, new_gone, partition, [REFRESH_RESPONSES], snapshot=analytics_snapshot_path())
    if gone:
        context.log.info(f"{platform}: {len(gone)} post(s) gone on the platform; purged: {purged}")
    shared = {
        "posts_due": MetadataValue.int(fetched["posts_due"]),
        "gone_on_platform": MetadataValue.int(len({g.item_id for g in gone})),
        "failed_accounts": MetadataValue.json(errors),
    }
    yield Output(None, "metric_refreshes", metadata={**shared, "responses": MetadataValue.int(len(fetched["responses"]))})
    yield Output(None, "post_metrics", metadata={**shared, "rows": MetadataValue.int(len(fetched["metrics"]))})


@config_mapping
def _refresh_config(config: RefreshConfig) -> dict:
    """The graph's config (`ops: refresh_engagement: config:`) is the `due_posts` step's."""
    return {"due_posts": {"config": config.model_dump()}}


@graph_multi_asset(
    name="refresh_engagement",
    outs={
        "metric_refreshes": AssetOut(
            key=["raw", "metric_refreshes"],
            description="Batch-lookup responses of the hour's engagement refresh, verbatim.",
            group_name="raw",
            kinds={"duckdb", "python"},
            dagster_type=Nothing,
        ),
        "post_metrics": AssetOut(
            key=["normalized", "post_metrics"],
            description="Likes, comments, shares and views of recent posts, observed this hour.",
            group_name="normalized",
            kinds={"duckdb", "python"},
            dagster_type=Nothing,
        ),
    },
    partitions_def=platform_hour_partitions,
    config=_refresh_config,
)
def refresh_engagement():
    """Refresh the metrics of a platform's recent posts (reads normalized.posts for which)."""
    loaded = load_metrics(fetch_metrics(due_posts()))
    return {"metric_refreshes": loaded.metric_refreshes, "post_metrics": loaded.post_metrics}


def recent_posts(con, platform: str, as_of: datetime, max_age: timedelta) -> dict[str, list[str]]:
    """Post ids published in (as_of - max_age, as_of], by the account they were collected for;
    posts known to be gone (tombstones) are not asked for again."""
    rows = con.execute(
        f"SELECT DISTINCT account_id, post_id FROM {NORMALIZED_TABLES['posts'].qualified} "
        "WHERE platform = ? AND published_at > ? AND published_at <= ? AND deleted_at IS NULL ORDER BY 1, 2",
        [platform, to_warehouse_time(as_of - max_age), to_warehouse_time(as_of)],
    ).fetchall()
    by_account: dict[str, list[str]] = {}
    for account_id, post_id in rows:
        by_account.setdefault(account_id, []).append(post_id)
    return by_account


def _rows(platform: str, hour: datetime, landed: list[tuple[str, LandedResponse]]):
    partition_hour = to_warehouse_time(hour)
    responses, metrics, gone = [], [], []
    for seq, (account_id, response) in enumerate(landed):
        responses.append(landed_row(response, {"platform": platform, "partition_hour": partition_hour}, account_id, seq))
        if not (response.normalize and 200 <= response.status < 300):
            continue
        try:
            result = normalize_body(platform, "posts", parse_body(response.body), response.context)
        except NotAResponse:
            continue
        gone.extend(g for g in result.gone if g.resource == "posts")
        for post in result.records:
            metrics.append(
                {
                    "platform": platform,
                    "partition_hour": partition_hour,
                    "account_id": account_id,
                    "post_id": post.post_id,
                    **{name: getattr(post, name) for name in METRIC_NAMES},
                    "collected_at": to_warehouse_time(response.fetched_at),
                }
            )
    metrics_frame = pd.DataFrame(metrics, columns=POST_METRICS.column_names)
    # A post seen twice in the hour keeps its last observation; a gone post keeps none.
    metrics_frame = metrics_frame.drop_duplicates(subset=["account_id", "post_id"], keep="last")
    metrics_frame = metrics_frame[~metrics_frame.post_id.isin({g.item_id for g in gone})]
    return pd.DataFrame(responses, columns=REFRESH_RESPONSES.column_names), metrics_frame, gone


refresh_job = define_asset_job(
    "refresh_engagement_hourly",
    selection=AssetSelection.assets(["raw", "metric_refreshes"], ["normalized", "post_metrics"]),
    description="Refresh likes, comments, shares and views of every platform's recent posts.",
)

refresh_schedule = build_schedule_from_partitioned_job(
    refresh_job,
    name="hourly_engagement_refresh",
    minute_of_hour=10,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every hour: the previous hour's refresh, for every platform.",
)
