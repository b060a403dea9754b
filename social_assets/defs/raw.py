"""raw/posts, raw/comments, raw/profiles: every API response of a platform-day, verbatim.

One collection makes all three for the platform's sources, because comments are fetched for the
day's posts and the profile gives the follower count the posts are measured against. It is two
steps (a graph-backed multi asset, `collect`):

- `fetch` calls the API, outside the warehouse's `duckdb` pool: a slow or throttled API holds
  up no other step. Sources collect at once, each response written as it arrives to its
  source's landing file (landing.py). One fetch per platform-day runs at a time.
- `load`, in the pool, loads the partition's landing files into raw.* in one transaction, with
  the collection log (ops.collection_log) and the dead letters of requests that failed for
  good. Files a dead run left complete are loaded too. Sources that fail keep what an earlier
  run stored for them.

The collection's run config stays at `ops: collect: config:` (a config mapping hands it to fetch).
"""

from typing import Optional

from dagster import (
    AssetOut,
    Config,
    Failure,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    config_mapping,
    graph_multi_asset,
    op,
)
from dagster_duckdb import DuckDBResource
from pydantic import Field

from social_assets.collection import collect_partition
from social_assets.core.records import RESOURCES
from social_assets.dead_letters import open_request_letters
from social_assets.defs.partitions import platform_day_partitions, split_key
from social_assets.defs.resources import SocialApiResource
from social_assets.landing import CollectionBusy, PartitionLanding, load_partition, partition_lock
from social_assets.platforms.base import SourceConfig
from social_assets.settings import pool_wait_seconds
from social_assets.warehouse.tables import ensure_schema

RAW_OUTS = {
    resource: AssetOut(
        key=["raw", resource],
        description=f"Every {resource} API response of the platform-day, verbatim, with its request.",
        group_name="raw",
        kinds={"duckdb", "python"},
        dagster_type=Nothing,
    )
    for resource in RESOURCES
}


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


@op(
    description="Collect one platform-day from the platform's API (or the sandbox) into landing files.",
    out=Out(dict, description="what the load step needs: the sources and their order, and whether all were asked for"),
)
def fetch(context: OpExecutionContext, config: CollectConfig, social_api: SocialApiResource,
          warehouse: DuckDBResource) -> dict:
    platform, day, window = split_key(platform_day_partitions.get_partition_key_from_str(context.partition_key).keys_by_dimension)
    wanted = config.sources
    if config.replay_dead_letters:
        # A short read before any call (a replay is rare): the dead letters say what to collect.
        with warehouse.get_connection() as con:
            ensure_schema(con)
            wanted = open_request_letters(con, platform, day)
        context.log.info(f"{platform} {day}: replaying dead letters of {wanted or 'no source'}")
    configured = social_api.sources()[platform]
    sources = _selected(configured, wanted, platform)
    if config.comment_depth is not None:
        sources = [s.model_copy(update={"comment_depth": config.comment_depth}) for s in sources]
    scoped = bool(config.sources) or config.replay_dead_letters
    connection = social_api.connect(platform)
    context.log.info(
        f"{platform}: collecting {day} for {len(sources)} source(s) from {connection.mode}"
        + ("" if connection.is_live else " (no credentials in the environment)")
    )
    try:
        with partition_lock(platform, day, pool_wait_seconds(), context.log.info):
            landing = PartitionLanding(platform, day, context.run_id, connection.mode)
            collection = collect_partition(connection, sources, window, landing=landing)
    except CollectionBusy as exc:
        raise Failure(description=str(exc)) from None
    finally:
        connection.close()
    for outcome in collection.failed:
        context.log.warning(f"{platform}: {outcome.account_id} failed: {outcome.error}")
    selected = [s.account_id for s in sources]
    return {
        "configured": [s.account_id for s in configured],
        # The responses' order (seq): the sources collected, then any others a dead run left.
        "order": selected + [s.account_id for s in configured if s.account_id not in selected],
        "whole_partition": not scoped,
        "api": connection.mode,
    }


@op(
    description="Load the platform-day's landing files into raw.*, with the collection log and dead letters.",
    out={resource: Out(Nothing) for resource in RESOURCES},
    pool="duckdb",
)
def load(context: OpExecutionContext, collected: dict, warehouse: DuckDBResource):
    platform, day, _ = split_key(platform_day_partitions.get_partition_key_from_str(context.partition_key).keys_by_dimension)
    with warehouse.get_connection() as con:
        loaded = load_partition(con, platform, day, collected["configured"], collected["order"], collected["whole_partition"])
    recovered = loaded.recovered(context.run_id)
    if recovered:
        context.log.info(
            f"{platform} {day}: loaded what runs that died before loading had collected: "
            + ", ".join(f"{l.account_id} (run {l.run_id})" for l in recovered)
        )

    if loaded.status == "failed" and loaded.outcomes:
        raise Failure(
            description=f"{platform} {day}: every source failed; their earlier data is kept",
            metadata={"errors": MetadataValue.json({o.account_id: str(o.error) for o in loaded.failed})},
        )
    shared = {
        "api": MetadataValue.text(collected["api"]),
        "collection_status": MetadataValue.text(loaded.status),
        "sources": MetadataValue.json([o.summary() for o in loaded.outcomes]),
        "calls": MetadataValue.int(sum(o.calls for o in loaded.outcomes)),
        "retries": MetadataValue.int(sum(o.retries for o in loaded.outcomes)),
        "throttled_429": MetadataValue.int(sum(o.throttled for o in loaded.outcomes)),
        "dead_letters": MetadataValue.int(sum(o.item_problems + (1 if o.error else 0) for o in loaded.outcomes)),
    }
    if loaded.failed:
        shared["failed_sources"] = MetadataValue.json({o.account_id: str(o.error) for o in loaded.failed})
    if recovered:
        shared["recovered_from_runs"] = MetadataValue.json({l.account_id: l.run_id for l in recovered})
    for resource in RESOURCES:
        yield Output(None, resource, metadata={**shared, "responses": MetadataValue.int(loaded.responses[resource])})


@config_mapping
def _collect_config(config: CollectConfig) -> dict:
    """The graph's config (`ops: collect: config:`) is the fetch step's."""
    return {"fetch": {"config": config.model_dump()}}


@graph_multi_asset(
    name="collect",
    outs=RAW_OUTS,
    partitions_def=platform_day_partitions,
    config=_collect_config,
)
def collect():
    """Collect one platform-day from the platform's API (or the sandbox) and land it in raw.*."""
    loaded = load(fetch())
    return {resource: getattr(loaded, resource) for resource in RESOURCES}


def _selected(configured: list[SourceConfig], wanted: list[str], platform: str) -> list[SourceConfig]:
    if not wanted:
        return configured
    by_id = {s.account_id: s for s in configured}
    unknown = [w for w in wanted if w not in by_id]
    if unknown:
        raise Failure(f"{platform}: {unknown} not in the sources file (configured: {sorted(by_id)})")
    return [by_id[w] for w in wanted]
