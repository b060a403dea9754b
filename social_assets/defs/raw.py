"""raw/posts, raw/comments, raw/profiles: every API response of a platform-day, verbatim.

One step collects all three for the platform's sources, because comments are fetched for the
day's posts and the profile gives the follower count the posts are measured against. It also
writes the collection log (ops.collection_log) and the dead letters of requests that failed
for good. Sources that fail keep what an earlier run stored for them.
"""

from datetime import date
from typing import Optional

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from dagster_duckdb import DuckDBResource
from pydantic import Field

from social_assets.collection import PartitionCollection, collect_partition
from social_assets.core.records import RESOURCES
from social_assets.core.timeutil import to_warehouse_time
from social_assets.dead_letters import letters_write, open_request_letters, request_letter
from social_assets.defs.partitions import platform_day_partitions, split_key
from social_assets.defs.resources import SocialApiResource
from social_assets.platforms.base import SourceConfig
from social_assets.warehouse.tables import (
    COLLECTION_LOG,
    RAW_TABLES,
    PartitionWrite,
    ensure_schema,
    landed_row,
    replace_partition,
)

RAW_SPECS = [
    AssetSpec(
        ["raw", resource],
        description=f"Every {resource} API response of the platform-day, verbatim, with its request.",
        group_name="raw",
        kinds={"duckdb", "python"},
    )
    for resource in RESOURCES
]


class CollectConfig(Config):
    sources: list[str] = Field(
        default_factory=list,
        description="account ids to collect (r/python, a channel id, ...); empty: every configured source",
    )
    comment_depth: Optional[int] = Field(
        default=None, ge=0, le=50, description="collect comments this deep instead of the sources file's depth"
    )
    replay_dead_letters: bool = Field(
        default=False,
        description="collect only the sources whose requests failed for good in this partition (open dead letters)",
    )


@multi_asset(
    name="collect",
    specs=RAW_SPECS,
    partitions_def=platform_day_partitions,
    pool="duckdb",
    description="Collect one platform-day from the platform's API (or the sandbox) and land it.",
)
def collect(
    context: AssetExecutionContext, config: CollectConfig, social_api: SocialApiResource, warehouse: DuckDBResource
):
    platform, day, window = split_key(context.partition_key.keys_by_dimension)
    wanted = config.sources
    if config.replay_dead_letters:
        with warehouse.get_connection() as con:
            ensure_schema(con)
            wanted = open_request_letters(con, platform, day)
        context.log.info(f"{platform} {day}: replaying dead letters of {wanted or 'no source'}")
    sources = _selected(social_api.sources()[platform], wanted, platform)
    if config.comment_depth is not None:
        sources = [s.model_copy(update={"comment_depth": config.comment_depth}) for s in sources]
    scoped = bool(config.sources) or config.replay_dead_letters
    connection = social_api.connect(platform)
    context.log.info(
        f"{platform}: collecting {day} for {len(sources)} source(s) from {connection.mode}"
        + ("" if connection.is_live else " (no credentials in the environment)")
    )
    try:
        collection = collect_partition(connection, sources, window)
    finally:
        connection.close()
    for outcome in collection.failed:
        context.log.warning(f"{platform}: {outcome.account_id} failed: {outcome.error}")

    frames = _frames(collection, platform, day)
    failed_accounts = frozenset(o.account_id for o in collection.failed)
    with warehouse.get_connection() as con:
        letters = [
            request_letter(platform, day, o.account_id, "posts", o.error, o.finished_at)
            for o in collection.failed
        ]
        replace_partition(
            con,
            platform,
            day,
            # A failed source keeps its earlier responses; its request letter is rewritten.
            [PartitionWrite(RAW_TABLES[r], frames[r], keep_accounts=failed_accounts) for r in RESOURCES]
            + [letters_write(con, letters, kind="request")],
            only_accounts={s.account_id for s in sources} if scoped else None,
        )
        # The log keeps every run's rows: it is history, not a partition's current state.
        con.register("log_rows", _log_rows(collection, platform, day, context.run.run_id))
        columns = ", ".join(COLLECTION_LOG.column_names)
        con.execute(f"INSERT INTO {COLLECTION_LOG.qualified} ({columns}) SELECT {columns} FROM log_rows")
        con.unregister("log_rows")

    if collection.status == "failed" and collection.outcomes:
        raise Failure(
            description=f"{platform} {day}: every source failed; their earlier data is kept",
            metadata={"errors": MetadataValue.json({o.account_id: str(o.error) for o in collection.failed})},
        )
    shared = {
        "api": MetadataValue.text(connection.mode),
        "collection_status": MetadataValue.text(collection.status),
        "sources": MetadataValue.json([o.summary() for o in collection.outcomes]),
        "calls": MetadataValue.int(sum(o.calls for o in collection.outcomes)),
        "retries": MetadataValue.int(sum(o.retries for o in collection.outcomes)),
        "throttled_429": MetadataValue.int(sum(o.throttled for o in collection.outcomes)),
        "dead_letters": MetadataValue.int(len(letters) + sum(o.item_problems for o in collection.outcomes)),
    }
    if collection.failed:
        shared["failed_sources"] = MetadataValue.json({o.account_id: str(o.error) for o in collection.failed})
    for resource in RESOURCES:
        yield MaterializeResult(
            asset_key=["raw", resource],
            metadata={**shared, "responses": MetadataValue.int(len(frames[resource]))},
        )


def _selected(configured: list[SourceConfig], wanted: list[str], platform: str) -> list[SourceConfig]:
    if not wanted:
        return configured
    by_id = {s.account_id: s for s in configured}
    unknown = [w for w in wanted if w not in by_id]
    if unknown:
        raise Failure(f"{platform}: {unknown} not in the sources file (configured: {sorted(by_id)})")
    return [by_id[w] for w in wanted]


def _frames(collection: PartitionCollection, platform: str, day: date) -> dict[str, pd.DataFrame]:
    rows: dict[str, list[dict]] = {r: [] for r in RESOURCES}
    partition = {"platform": platform, "partition_date": day}
    for seq, (account_id, landed) in enumerate(collection.landed):
        rows[landed.resource].append(landed_row(landed, partition, account_id, seq))
    return {r: pd.DataFrame(rows[r], columns=RAW_TABLES[r].column_names) for r in RESOURCES}


def _log_rows(collection: PartitionCollection, platform: str, day: date, run_id: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "platform": platform,
                "partition_date": day,
                "account_id": o.account_id,
                "run_id": run_id,
                "status": o.status,
                "items": o.items,
                "responses": o.responses,
                "calls": o.calls,
                "retries": o.retries,
                "throttled": o.throttled,
                "dead_letters": o.item_problems + (1 if o.error else 0),
                "latency_p50_ms": o.latency_p50_ms,
                "latency_p95_ms": o.latency_p95_ms,
                "duration_s": o.duration_s,
                "api": collection.mode,
                "error": str(o.error) if o.error else None,
                "started_at": to_warehouse_time(o.started_at),
                "finished_at": to_warehouse_time(o.finished_at),
            }
            for o in collection.outcomes
        ],
        columns=COLLECTION_LOG.column_names,
    )
