"""normalized/posts, normalized/comments, normalized/profiles: the cross-platform records of a
platform-day, made from the landed responses by the platform's normalizers (the same code as
`social-assets normalize`). Items that do not normalize become dead letters (ops.dead_letters);
items the responses say are deleted or removed are purged (privacy/deletions.py). The sources
file's `privacy` options apply before anything is written: commenters and non-tracked authors
pseudonymized, comments past their retention left out."""

from datetime import timedelta, timezone

from dagster import AssetExecutionContext, AssetsDefinition, Failure, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from social_assets.core.records import RESOURCES, Resource
from social_assets.defs.partitions import platform_day_partitions, split_key
from social_assets.core.timeutil import utc_now
from social_assets.dead_letters import letters_write
from social_assets.normalization import normalize_partition
from social_assets.defs.resources import SocialApiResource
from social_assets.privacy.deletions import honour, keep_tombstones, record_gone
from social_assets.privacy.options import PSEUDONYM_KEY_VARIABLE
from social_assets.privacy.pseudonyms import pseudonymize, readable_names
from social_assets.privacy.retention import raw_cutoff
from social_assets.settings import analytics_snapshot_path
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
    def _normalized(
        context: AssetExecutionContext, warehouse: DuckDBResource, social_api: SocialApiResource
    ) -> MaterializeResult:
        platform, day, window = split_key(context.partition_key.keys_by_dimension)
        privacy = social_api.privacy()
        with warehouse.get_connection() as con:
            ensure_schema(con)
            landed = con.execute(
                f"SELECT * FROM {RAW_TABLES[resource].qualified} WHERE platform = ? AND partition_date = ?",
                [platform, day],
            ).df()
            cutoff = raw_cutoff(privacy)
            if landed.empty and cutoff is not None and day < cutoff:
                # Retention deleted the bodies; the rows made from them are all that is left.
                context.log.info(f"{platform} {day}: raw bodies deleted by retention; {resource} kept as they are")
                return MaterializeResult(metadata={"kept_after_raw_retention": MetadataValue.bool(True)})
            result = normalize_partition(platform, resource, day, window, landed)
            partition = {"platform": platform, "partition_date": day}
            rows = _private(result.rows, resource, platform, privacy, social_api, con)
            # Gone items count from the collection that saw them gone.
            seen_at = landed.fetched_at.max().to_pydatetime().replace(tzinfo=timezone.utc) if len(landed) else utc_now()
            new_gone = record_gone(con, platform, result.gone, seen_at)
            rows = keep_tombstones(con, platform, resource, partition, rows)
            replace_partition(
                con,
                platform,
                day,
                [
                    PartitionWrite(NORMALIZED_TABLES[resource], rows),
                    # The three normalized assets share ops.dead_letters: each replaces its items.
                    letters_write(con, result.dead_letters, kind="item", resource=resource),
                    # Derived past follower counts (Instagram, LinkedIn, YouTube Analytics) come with the profiles.
                    *([PartitionWrite(FOLLOWER_HISTORY, result.history)] if result.history is not None else []),
                ],
            )
            purged = honour(con, platform, new_gone, partition, [RAW_TABLES[resource]], resource, analytics_snapshot_path())
        if result.gone:
            context.log.info(f"{platform} {resource}: {len(result.gone)} item(s) gone on the platform; purged: {purged}")
        for letter in result.dead_letters[:20]:
            context.log.warning(f"{platform} {resource}: item {letter['item_id']} not normalized: {letter['reason']}")
        return MaterializeResult(
            metadata={
                "rows": MetadataValue.int(len(result.rows)),
                "responses": MetadataValue.int(int(landed.normalize.sum()) if len(landed) else 0),
                "items_seen": MetadataValue.int(result.items_seen),
                "dead_letters": MetadataValue.int(len(result.dead_letters)),
                "gone_on_platform": MetadataValue.int(len(result.gone)),
            }
        )

    return _normalized


def _private(rows, resource: str, platform: str, privacy, social_api: SocialApiResource, con):
    """The rows as the sources file's privacy options allow them to be stored: comments past
    their retention left out, people who are not tracked accounts pseudonymized."""
    if resource == "comments" and privacy.comment_retention_days is not None and len(rows):
        oldest = (utc_now() - timedelta(days=privacy.comment_retention_days)).replace(tzinfo=None)
        rows = rows[rows.published_at >= oldest].reset_index(drop=True)
    if not privacy.pseudonymize_usernames or resource not in ("posts", "comments"):
        return rows
    if not social_api.pseudonym_key:
        raise Failure(
            f"privacy.pseudonymize_usernames is on in {social_api.sources_file} but {PSEUDONYM_KEY_VARIABLE} is not set: "
            "set it to a long random secret (keep it: the same key gives the same pseudonyms)"
        )
    tracked = [s.account_id for s in social_api.sources().get(platform, [])]
    tracked += [a for (a,) in con.execute(
        f"SELECT DISTINCT account_id FROM {NORMALIZED_TABLES['posts'].qualified} WHERE platform = ?", [platform]
    ).fetchall()]
    usernames = [u for (u,) in con.execute(
        f"SELECT DISTINCT username FROM {NORMALIZED_TABLES['profiles'].qualified} WHERE platform = ? AND username IS NOT NULL",
        [platform],
    ).fetchall()]
    return pseudonymize(rows, resource, platform, social_api.pseudonym_key, readable_names(platform, tracked, usernames))


NORMALIZED_ASSETS = [build_normalized_asset(resource) for resource in RESOURCES]
