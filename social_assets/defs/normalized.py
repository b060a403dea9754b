"""normalized/posts, normalized/comments, normalized/profiles: the cross-platform records of a
platform-day, made from the landed responses by the platform's normalizers (the same code as
`social-assets normalize`). Items that do not normalize become dead letters (ops.dead_letters)."""


from dagster import AssetExecutionContext, AssetsDefinition, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from social_assets.core.records import RESOURCES, Resource
from social_assets.defs.partitions import platform_day_partitions, split_key
from social_assets.dead_letters import letters_write
from social_assets.normalization import normalize_partition
from social_assets.warehouse.tables import (
    FOLLOWER_HISTORY,
    NORMALIZED_TABLES,
    RAW_TABLES,
    PartitionWrite,
    ensure_schema,
    replace_partition,
)


def build_normalized_asset(resource: Resource) -> AssetsDefinition:
    @asset(
        key=["normalized", resource],
        deps=[["raw", resource]],
        partitions_def=platform_day_partitions,
        pool="duckdb",
        group_name="normalized",
        kinds={"duckdb", "python"},
        description=f"Normalized {resource} of the platform-day, one row per item and collection.",
    )
    def _normalized(context: AssetExecutionContext, warehouse: DuckDBResource) -> MaterializeResult:
        platform, day, window = split_key(context.partition_key.keys_by_dimension)
        with warehouse.get_connection() as con:
            ensure_schema(con)
            landed = con.execute(
                f"SELECT * FROM {RAW_TABLES[resource].qualified} WHERE platform = ? AND partition_date = ?",
                [platform, day],
            ).df()
            result = normalize_partition(platform, resource, day, window, landed)
            replace_partition(
                con,
                platform,
                day,
                [
                    PartitionWrite(NORMALIZED_TABLES[resource], result.rows),
                    # The three normalized assets share ops.dead_letters: each replaces its items.
                    letters_write(con, result.dead_letters, kind="item", resource=resource),
                    # Derived past follower counts (LinkedIn's follower gains) come with the profiles.
                    *([PartitionWrite(FOLLOWER_HISTORY, result.history)] if result.history is not None else []),
                ],
            )
        for letter in result.dead_letters[:20]:
            context.log.warning(f"{platform} {resource}: item {letter['item_id']} not normalized: {letter['reason']}")
        return MaterializeResult(
            metadata={
                "rows": MetadataValue.int(len(result.rows)),
                "responses": MetadataValue.int(int(landed.normalize.sum()) if len(landed) else 0),
                "items_seen": MetadataValue.int(result.items_seen),
                "dead_letters": MetadataValue.int(len(result.dead_letters)),
            }
        )

    return _normalized


NORMALIZED_ASSETS = [build_normalized_asset(resource) for resource in RESOURCES]
