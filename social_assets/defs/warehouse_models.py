"""analytics/*: the analyst-facing tables, built by the dbt project in dbt_transforms/.

The dbt sources `normalized.*` are the Python assets of the same keys, so lineage runs from
the API responses to the rollups. dbt tests become asset checks.
"""


import json
import os
import subprocess
from typing import Any, Mapping, Optional

from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, AutomationCondition
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_duckdb import DuckDBResource

from social_assets.defs.automation import analytics_condition
from social_assets.defs.checks import record_dbt_results
from social_assets.settings import DBT_PROJECT_DIR, dbt_executable, warehouse_path

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> None:
    """Parse the dbt project when it has no manifest yet (a fresh clone) or a model, macro or
    YAML file changed since, so the asset graph always matches the project's files."""
    manifest = dbt_project.manifest_path
    if manifest.exists():
        built = manifest.stat().st_mtime
        sources = [p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in (".sql", ".yml", ".yaml")
                   and "target" not in p.parts and "logs" not in p.parts]
        if all(p.stat().st_mtime <= built for p in sources):
            return
    subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        check=True,
        env={**os.environ, "SOCIAL_WAREHOUSE": str(warehouse_path())},
    )


ensure_manifest()


def _model_keys() -> list[AssetKey]:
    """Every analytics model's key (the translator's <schema>/<name>): they are held back together."""
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"].values()
    return [AssetKey([n["schema"], n["name"]]) for n in nodes if n["resource_type"] == "model"]


ANALYTICS_CONDITION = analytics_condition(_model_keys())


class SchemaQualifiedTranslator(DagsterDbtTranslator):
    """Models are keyed <schema>/<name> (analytics/posts), matching their warehouse tables."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> Optional[str]:
        return "analytics" if dbt_resource_props["resource_type"] == "model" else None

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> Optional[AutomationCondition]:
        # Rollups (and every other model) follow their inputs: see defs/automation.py.
        return ANALYTICS_CONDITION if dbt_resource_props["resource_type"] == "model" else None


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SchemaQualifiedTranslator(),
    pool="duckdb",
)
def analytics_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBResource):
    # The profile reads the warehouse path from the environment; make it the absolute path
    # the rest of the pipeline writes to, whatever directory dbt runs in.
    os.environ["SOCIAL_WAREHOUSE"] = str(warehouse_path())
    # --no-use-colors: dbt's log lines are shown as they are in the UI and in alerts.
    # dbt tests are asset checks; with severity error they are blocking (dbt build skips what
    # is downstream of a failure). Their results also go to ops.data_quality, once dbt is done
    # with the file (this step holds the duckdb pool slot throughout).
    checked: list[AssetCheckResult] = []
    try:
        for event in dbt.cli(["build", "--no-use-colors"], context=context).stream():
            if isinstance(event, AssetCheckResult):
                checked.append(event)
            yield event
    finally:
        record_dbt_results(warehouse, checked)
