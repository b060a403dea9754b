"""analytics/*: the analyst-facing tables, built by the dbt project in dbt_transforms/.

The dbt sources `normalized.*` are the Python assets of the same keys, so lineage runs from
the API responses to the rollups. dbt tests become asset checks. After every successful build the analyst tables are published to
the read-only snapshot analysts open (warehouse/snapshot.py).
"""


import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    AutomationCondition,
    Config,
    MetadataValue,
    Output,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.asset_utils import default_description_fn
from dagster_duckdb import DuckDBResource
from pydantic import Field

from social_assets.brands import load_brands, write_brand_accounts
from social_assets.privacy.retention import apply_retention
from social_assets.defs.automation import analytics_condition
from social_assets.defs.checks import record_dbt_results
from social_assets.defs.resources import SocialApiResource
from social_assets.settings import analytics_snapshot_path, warehouse_path
from social_assets.warehouse.dbt_project import (
    dbt_project,
    plan_analytics_build,
    prepared_manifest,
    record_analytics_build,
)
from social_assets.warehouse.dbt_runner import dbt_in_process
from social_assets.warehouse.snapshot import publish_snapshot

# Built from the manifest prepared beforehand (warehouse/dbt_project.py): importing these
# definitions never runs dbt.
DBT_PROJECT = dbt_project()
MANIFEST = prepared_manifest()


def _model_keys() -> list[AssetKey]:
    """Every analytics model's key (the translator's <schema>/<name>): they are held back together."""
    nodes = json.loads(MANIFEST.read_text())["nodes"].values()
    return [AssetKey([n["schema"], n["name"]]) for n in nodes if n["resource_type"] == "model"]


MODEL_KEYS = _model_keys()
ANALYTICS_CONDITION = analytics_condition(MODEL_KEYS)


class SchemaQualifiedTranslator(DagsterDbtTranslator):
    """Models are keyed <schema>/<name> (analytics/posts), matching their warehouse tables."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> Optional[str]:
        return "analytics" if dbt_resource_props["resource_type"] == "model" else None

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        # The model's description from schema.yml, without dagster-dbt's raw-SQL appendix.
        return default_description_fn(dbt_resource_props, display_raw_sql=False)

    def get_asset_check_spec(
        self, asset_spec: AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Optional[DbtProject]
    ) -> Optional[AssetCheckSpec]:
        # dagster-dbt reads a check's description from the test's meta only; ours are the
        # tests' own `description` in schema.yml.
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is not None and not spec.description:
            spec = spec._replace(description=manifest["nodes"][unique_id].get("description") or None)
        return spec

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> Optional[AutomationCondition]:
        # Rollups (and every other model) follow their inputs: see defs/automation.py.
        return ANALYTICS_CONDITION if dbt_resource_props["resource_type"] == "model" else None


class AnalyticsConfig(Config):
    full_refresh: bool = Field(
        default=False,
        description=(
            "rebuild every analytics table from the normalized tables (dbt --full-refresh) instead of "
            "folding in only what the pipeline wrote since the last build: after editing normalized.* by hand"
        ),
    )


@dbt_assets(
    manifest=MANIFEST,
    project=DBT_PROJECT,
    dagster_dbt_translator=SchemaQualifiedTranslator(),
    pool="duckdb",
)
def analytics_models(
    context: AssetExecutionContext,
    config: AnalyticsConfig,
    dbt: DbtCliResource,
    warehouse: DuckDBResource,
    social_api: SocialApiResource,
):
    # The profile reads the warehouse path from the environment; make it the absolute path
    # the rest of the pipeline writes to, whatever directory dbt runs in.
    os.environ["SOCIAL_WAREHOUSE"] = str(warehouse_path())
    # The brand rollups read the brands of the sources file as it is now.
    brands = load_brands(Path(social_api.sources_file))
    with warehouse.get_connection() as con:
        write_brand_accounts(con, brands)
        # What the sources file's privacy section no longer allows to keep goes first.
        swept = apply_retention(con, social_api.privacy())
        # Incremental: only what the partitions written since the last build touch is recomputed.
        build = plan_analytics_build(con, force_full=config.full_refresh)
    if swept:
        context.log.info(f"retention deleted (rows per table): {swept}")
    context.log.info("analytics: full rebuild" if build.full_refresh else "analytics: incremental build")
    # dbt runs in this process (warehouse/dbt_runner.py): no dbt process to start, no parse per build.
    # --no-use-colors: dbt's log lines are shown as they are in the UI and in alerts.
    # dbt tests are asset checks; with severity error they are blocking (dbt build skips what
    # is downstream of a failure). Their results also go to ops.data_quality, once dbt is done
    # with the file (this step holds the duckdb pool slot throughout).
    checked: list[AssetCheckResult] = []
    # dbt opens the file itself: wait here, with a message, if a process outside the pipeline
    # holds it, rather than let dbt fail on the lock.
    with warehouse.get_connection():
        pass
    # The rollups' events wait for the end of the build: their per-platform figures (charted
    # in the Plots tab) are read from the warehouse, which dbt holds while it runs.
    held: list[Any] = []
    try:
        for event in dbt_in_process(dbt, ["build", "--no-use-colors", *build.dbt_args], context).stream():
            if isinstance(event, AssetCheckResult):
                checked.append(event)
            if held or (isinstance(event, Output) and _asset_name(context, event) in TREND_MODELS):
                held.append(event)
            else:
                yield event
    except Exception:
        yield from held
        raise
    finally:
        record_dbt_results(warehouse, checked)
    built = {_asset_name(context, event) for event in held if isinstance(event, Output)} & TREND_MODELS.keys()
    figures = {}
    if built:
        with warehouse.get_connection() as con:
            figures = {name: trend_metadata(con, name) for name in built}
    # Reached only when the build succeeded (the invocation raises otherwise): analysts keep the last
    # good snapshot until then.
    with warehouse.get_connection() as con:
        if set(MODEL_KEYS) <= set(context.selected_asset_keys):
            record_analytics_build(con, build)
        published = publish_snapshot(con, analytics_snapshot_path(), context.run.run_id)
    context.log.info(f"analytics published for analysts at {published}")
    for event in held:
        name = _asset_name(context, event) if isinstance(event, Output) else None
        yield event.with_metadata({**event.metadata, **figures[name]}) if name in figures else event


def _asset_name(context: AssetExecutionContext, output: Output) -> str:
    return context.asset_key_for_output(output.output_name).path[-1]


# The rollups whose materializations carry figures per platform (per brand for the brand
# rollups), charted by the Plots tab across builds.
TREND_MODELS = {
    "rollups_daily": "platform",
    "rollups_weekly": "platform",
    "rollups_monthly": "platform",
    "brand_rollups_daily": "brand",
    "brand_rollups_weekly": "brand",
    "brand_rollups_monthly": "brand",
}


def trend_metadata(con, model: str) -> dict[str, MetadataValue]:
    """Per platform (or brand): `<name>/posts` and `<name>/engagement` (likes + comments +
    shares) of the newest period with posts (`trend_period`), and `<name>/followers`, the sum
    of each account's newest known followers_end."""
    group = TREND_MODELS[model]
    table = f"analytics.{model}"
    engagement = "engagement" if group == "brand" else "coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0)"
    (period,) = con.execute(f"SELECT max(period_start) FROM {table} WHERE posts > 0").fetchone()
    figures: dict[str, MetadataValue] = {}
    if period is not None:
        figures["trend_period"] = MetadataValue.text(str(period))
        for name, posts, engaged in con.execute(
            f"SELECT {group}, sum(posts), sum({engagement}) FROM {table} WHERE period_start = ? GROUP BY 1 ORDER BY 1",
            [period],
        ).fetchall():
            figures[f"{name}/posts"] = MetadataValue.int(int(posts))
            if engaged is not None:
                figures[f"{name}/engagement"] = MetadataValue.int(int(engaged))
    # Each account's (or brand's) newest known follower figure, added up per platform (brand).
    key = "brand" if group == "brand" else "platform, account_id"
    for name, followers in con.execute(
        f"""SELECT {group}, sum(followers_end) FROM (
                SELECT DISTINCT ON ({key}) {group}, followers_end FROM {table}
                WHERE followers_end IS NOT NULL ORDER BY {key}, period_start DESC
            ) GROUP BY 1 ORDER BY 1"""
    ).fetchall():
        figures[f"{name}/followers"] = MetadataValue.int(int(followers))
    return figures
