"""raw/posts, raw/comments, raw/profiles: every API response of a platform-day, verbatim.

One step collects all three for every configured source of the platform, because comments are
fetched for the day's posts and the profile gives the follower count the posts are measured
against. Sources that fail keep what an earlier run stored for them.
"""


import json

import pandas as pd
from dagster import AssetExecutionContext, AssetSpec, Failure, MaterializeResult, MetadataValue, multi_asset
from dagster_duckdb import DuckDBResource

from social_assets.collection import PartitionCollection, collect_partition
from social_assets.core.records import RESOURCES
from social_assets.defs.partitions import platform_day_partitions, split_key
from social_assets.defs.resources import SocialApiResource
from social_assets.warehouse.tables import RAW_TABLES, PartitionWrite, replace_partition

RAW_SPECS = [
    AssetSpec(
        ["raw", resource],
        description=f"Every {resource} API response of the platform-day, verbatim, with its request.",
        group_name="raw",
        kinds={"duckdb", "python"},
    )
    for resource in RESOURCES
]


@multi_asset(
    name="collect",
    specs=RAW_SPECS,
    partitions_def=platform_day_partitions,
    pool="duckdb",
    description="Collect one platform-day from the platform's API (or the sandbox) and land it.",
)
def collect(context: AssetExecutionContext, social_api: SocialApiResource, warehouse: DuckDBResource):
    platform, day, window = split_key(context.partition_key.keys_by_dimension)
    sources = social_api.sources()[platform]
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
    if collection.status == "failed" and sources:
        raise Failure(
            description=f"{platform} {day}: every source failed; nothing was replaced",
            metadata={"errors": MetadataValue.json({o.account_id: o.error for o in collection.failed})},
        )

    frames = _frames(collection, platform, day)
    failed_accounts = {o.account_id for o in collection.failed}
    with warehouse.get_connection() as con:
        replace_partition(
            con,
            platform,
            day,
            [PartitionWrite(RAW_TABLES[r], frames[r]) for r in RESOURCES],
            keep_accounts=failed_accounts,
        )

    shared = {
        "api": MetadataValue.text(connection.mode),
        "collection_status": MetadataValue.text(collection.status),
        "sources": MetadataValue.json([vars(o) for o in collection.outcomes]),
        "calls": MetadataValue.int(sum(o.calls for o in collection.outcomes)),
        "retries": MetadataValue.int(sum(o.retries for o in collection.outcomes)),
        "throttled_429": MetadataValue.int(sum(o.throttled for o in collection.outcomes)),
    }
    for resource in RESOURCES:
        yield MaterializeResult(
            asset_key=["raw", resource],
            metadata={**shared, "responses": MetadataValue.int(len(frames[resource]))},
        )


def _frames(collection: PartitionCollection, platform: str, day) -> dict[str, pd.DataFrame]:
    rows: dict[str, list[dict]] = {r: [] for r in RESOURCES}
    for seq, (account_id, landed) in enumerate(collection.landed):
        rows[landed.resource].append(
            {
                "platform": platform,
                "partition_date": day,
                "account_id": account_id,
                "seq": seq,
                "method": landed.method,
                "endpoint": landed.endpoint,
                "params": json.dumps(landed.params, sort_keys=True),
                "context": json.dumps(dict(landed.context), sort_keys=True),
                "status": landed.status,
                "fetched_at": pd.Timestamp(landed.fetched_at).tz_convert("UTC").tz_localize(None),
                "normalize": landed.normalize,
                "body": landed.body,
            }
        )
    return {r: pd.DataFrame(rows[r], columns=RAW_TABLES[r].column_names) for r in RESOURCES}
