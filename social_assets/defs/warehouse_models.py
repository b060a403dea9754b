"""analytics/*: the analyst-facing tables, built by the dbt project in dbt_transforms/.

The dbt sources `normalized.*` are the Python assets of the same keys, so lineage runs from
the API responses to the rollups. dbt tests become asset checks. After every successful build the analyst tables are published to
the read-only snapshot analysts open (warehouse/snapshot.py).
"""


import os
import subprocess
from typing import Any, Mapping, Optional

from dagster import AssetCheckResult, AssetExecutionContext, AssetKey, AutomationCondition
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_duckdb import DuckDBResource
from filelock import FileLock

from social_assets.defs.automation import ANALYTICS_CONDITION
from social_assets.defs.checks import record_dbt_results
from social_assets.settings import DBT_PROJECT_DIR, analytics_snapshot_path, dbt_executable, warehouse_path
from social_assets.warehouse.snapshot import publish_snapshot

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> None:
    """Parse the dbt project when it has no manifest yet (a fresh clone) or a model, macro or
    YAML file changed since, so the asset graph always matches the project's files. Processes
    starting together parse once: the others wait for the manifest instead of reading it half
    written."""
    if _manifest_is_current():
        return
    dbt_project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(dbt_project.manifest_path.parent / ".parse.lock")):
        if not _manifest_is_current():
            _parse()


def _manifest_is_current() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    sources = [p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in (".sql", ".yml", ".yaml")
               and "target" not in p.parts and "logs" not in p.parts]
    return all(p.stat().st_mtime <= built for p in sources)


def _parse() -> None:
    subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        check=True,
        env={**os.environ, "SOCIAL_WAREHOUSE": str(warehouse_path())},
    )


ensure_manifest()


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
    # dbt tests are asset checks; with severity error they are blocking (dbt build skips what
    # is downstream of a failure). Their results also go to ops.data_quality, once dbt is done
    # with the file (this step holds the duckdb pool slot throughout).
    checked: list[AssetCheckResult] = []
    # dbt opens the file itself: wait here, with a message, if a process outside the pipeline
    # holds it, rather than let dbt fail on the lock.
    with warehouse.get_connection():
        pass
    try:
        for event in dbt.cli(["build"], context=context).stream():
            if isinstance(event, AssetCheckResult):
                checked.append(event)
            yield event
    finally:
        record_dbt_results(warehouse, checked)
    # Reached only when the build succeeded (dbt.cli raises otherwise): analysts keep the last
    # good snapshot until then.
    with warehouse.get_connection() as con:
        published = publish_snapshot(con, analytics_snapshot_path(), context.run_id)
    context.log.info(f"analytics published for analysts at {published}")
