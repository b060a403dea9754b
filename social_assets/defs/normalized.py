"""normalized/posts, normalized/comments, normalized/profiles: the cross-platform records of a
platform-day, made from the landed responses by the platform's normalizers (the same code as
`social-assets normalize`). Items that do not normalize become dead letters (ops.dead_letters);
items the responses say are deleted or removed are purged (privacy/deletions.py). The sources
file's `privacy` options apply before anything is written: commenters and non-tracked authors
pseudonymized, comments past their retention left out. The rows are made and written in DuckDB,
a batch of responses at a time (see normalization.py): memory does not grow with the day."""

from datetime import timedelta, timezone

import duckdb
from dagster import AssetExecutionContext, AssetsDefinition, Failure, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from social_assets.core.records import RESOURCES, Resource, one_line
from social_assets.defs.partitions import platform_day_partitions, split_key
from social_assets.core.timeutil import utc_now
from social_assets.dead_letters import letters_write
from social_assets.normalization import MEMORY_LIMIT, PartitionRows, bounded_memory, normalize_partition
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
        with warehouse.get_connection() as con, bounded_memory(con) as lift_memory_cap:
            ensure_schema(con)
            landed, to_normalize, last_fetched = con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE normalize), max(fetched_at) "
                f"FROM {RAW_TABLES[resource].qualified} WHERE platform = ? AND partition_date = ?",
                [platform, day],
            ).fetchone()
            cutoff = raw_cutoff(privacy)
            if not landed and cutoff is not None and day < cutoff:
                # Retention deleted the bodies; the rows made from them are all that is left.
                context.log.info(f"{platform} {day}: raw bodies deleted by retention; {resource} kept as they are")
                return MaterializeResult(metadata={"kept_after_raw_retention": MetadataValue.bool(True)})
            prepare = _pseudonymizer(resource, platform, privacy, social_api, con)
            try:
                result = normalize_partition(platform, resource, day, window, con, prepare=prepare)
            except duckdb.OutOfMemoryException as exc:
                # Raw bodies stored ZSTD-compressed (tables made before the column was declared
                # uncompressed) are read 2,048 at a time: more than the cap when they are large.
                context.log.warning(f"{platform} {resource}: normalizing needs more than {MEMORY_LIMIT} "
                                    f"({one_line(str(exc), 120)}); normalizing again without the cap")
                lift_memory_cap()
                result = normalize_partition(platform, resource, day, window, con, prepare=prepare)
            rows = len(result.rows)
            partition = {"platform": platform, "partition_date": day}
            _drop_expired_comments(con, result, resource, privacy)
            # Gone items count from the collection that saw them gone.
            seen_at = last_fetched.replace(tzinfo=timezone.utc) if last_fetched else utc_now()
            new_gone = record_gone(con, platform, result.gone, seen_at)
            keep_tombstones(con, platform, resource, partition, result.table)
            replace_partition(
                con,
                platform,
                day,
                [
                    PartitionWrite(NORMALIZED_TABLES[resource], result.rows),
                    # The three normalized assets share ops.dead_letters: each replaces its items.
                    letters_write(con, result.dead_letters, kind="item", resource=resource),
                    # Derived past follower counts (Instagram, LinkedIn, YouTube Analytics) come with the profiles.
                    *([PartitionWrite(FOLLOWER_HISTORY, result.history)] if result.history is not None else []),
                ],
            )
            lift_memory_cap()  # the purge and the scrub of raw bodies run uncapped, as before
            purged = honour(con, platform, new_gone, partition, [RAW_TABLES[resource]], resource, analytics_snapshot_path())
        if result.gone:
            context.log.info(f"{platform} {resource}: {len(result.gone)} item(s) gone on the platform; purged: {purged}")
        for letter in result.dead_letters[:20]:
            context.log.warning(f"{platform} {resource}: item {letter['item_id']} not normalized: {letter['reason']}")
        return MaterializeResult(
            metadata={
                "rows": MetadataValue.int(rows),
                "responses": MetadataValue.int(to_normalize),
                "items_seen": MetadataValue.int(result.items_seen),
                "dead_letters": MetadataValue.int(len(result.dead_letters)),
                "gone_on_platform": MetadataValue.int(len(result.gone)),
            }
        )

    return _normalized


def _drop_expired_comments(con, result: PartitionRows, resource: str, privacy) -> None:
    """The sources file's comment retention: comments published before it are not stored."""
    if resource == "comments" and privacy.comment_retention_days is not None:
        oldest = (utc_now() - timedelta(days=privacy.comment_retention_days)).replace(tzinfo=None)
        con.execute(f"DELETE FROM {result.table} WHERE published_at < ?", [oldest])


def _pseudonymizer(resource: str, platform: str, privacy, social_api: SocialApiResource, con):
    """What the privacy options do to each batch of rows before it is staged: people who are
    not tracked accounts pseudonymized (None when there is nothing to do)."""
    if not privacy.pseudonymize_usernames or resource not in ("posts", "comments"):
        return None
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
    readable = readable_names(platform, tracked, usernames)
    return lambda rows: pseudonymize(rows, resource, platform, social_api.pseudonym_key, readable)


NORMALIZED_ASSETS = [build_normalized_asset(resource) for resource in RESOURCES]
