"""dbt run inside the analytics step's process, its events handed to dagster-dbt as the dbt CLI's.

`DbtCliResource.cli` starts three Python processes per build: `dbt --version` (once per
resource instance, i.e. per run), then `dbt build`, which imports dbt (~3.5 s) and parses the
project again whenever the warehouse path differs from the one the project was prepared with.
Here dbt runs through its programmatic entry point (`dbtRunner`) in this process, with the
project parsed once per process and dbt version (and reused while no project file changes), so
a build costs what dbt does with the warehouse. Everything downstream is dagster-dbt's own: the
events go through `DbtCliInvocation` (materializations, dbt tests as asset checks, errors), as
the JSON log lines of a `dbt` process would.

One dbt invocation runs at a time in a process (dbtRunner keeps global state); the analytics
step is the only caller, and it holds the warehouse's `duckdb` pool slot.
"""

from __future__ import annotations

import queue
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any, Iterator, Sequence

import orjson
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource
from dagster_dbt.asset_utils import extract_runtime_selection_from_args, get_updated_cli_invocation_params_for_context
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from packaging import version

from social_assets.settings import DBT_PROJECT_DIR, warehouse_path
from social_assets.warehouse.dbt_project import project_fingerprint

_ONE_AT_A_TIME = threading.Lock()
# (project fingerprint, warehouse catalog name) -> the parsed dbt Manifest. dbt-duckdb names the
# catalog after the warehouse file, and the parsed nodes carry it.
_PARSED: dict[tuple[str, str], Any] = {}
# The events the dbt CLI prints at its default log level (what dagster-dbt reads).
_PRINTED_LEVELS = {"info", "warn", "error"}


def dbt_in_process(dbt: DbtCliResource, args: Sequence[str], context: AssetExecutionContext) -> DbtCliInvocation:
    """`dbt.cli(args, context=context)` inside `@dbt_assets`, with dbt run in this process: the
    same selection (the assets and checks the run selected), the same events."""
    cleaned, selects, excludes = extract_runtime_selection_from_args(args)
    # As dbt.cli does: the manifest and translator are those of the context's @dbt_assets.
    params = get_updated_cli_invocation_params_for_context(
        context=context, manifest={}, dagster_dbt_translator=DagsterDbtTranslator(),
        runtime_selects=selects, runtime_excludes=excludes,
    )
    project_dir = Path(params.dbt_project.project_dir if params.dbt_project else dbt.project_dir)
    target_path = project_dir / "target" / f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    command = [
        *cleaned, *params.selection_args,
        *(["--indirect-selection", params.indirect_selection] if params.indirect_selection else []),
        "--project-dir", str(project_dir), "--profiles-dir", str(dbt.profiles_dir or project_dir),
        "--target-path", str(target_path), "--log-path", str(target_path),
        # The events reach dagster-dbt, which prints them; dbt's own console output would repeat them.
        "--log-level", "none", "--log-level-file", "debug",
    ]
    # A selector is read from selectors.yml at parse time: such a run parses for itself.
    reuse = "--selector" not in params.selection_args and project_dir == DBT_PROJECT_DIR
    return DbtCliInvocation(
        process=_DbtThread(command, parsed_project(target_path) if reuse else None),
        manifest=params.manifest,
        dagster_dbt_translator=params.dagster_dbt_translator,
        project_dir=project_dir,
        target_path=target_path,
        raise_on_error=True,
        cli_version=version.parse(_dbt_version()),
        project=params.dbt_project,
        context=context,
    )


def parsed_project(scratch: Path) -> Any:
    """The project's dbt Manifest, parsed in this process the first time (in `scratch`, with
    dbt's partial parsing from the prepared project when it applies) and kept while the project
    files and the warehouse's file name stay the same."""
    from dbt.cli.main import dbtRunner

    key = (project_fingerprint(), warehouse_path().stem)
    if key not in _PARSED:
        prepared = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"
        if prepared.exists():
            scratch.mkdir(parents=True, exist_ok=True)
            shutil.copy(prepared, scratch / prepared.name)
        with _ONE_AT_A_TIME:
            result = dbtRunner().invoke([
                "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                "--target-path", str(scratch), "--log-path", str(scratch), "--log-level", "none",
            ])
            _close_warehouse()
        if not result.success:
            raise RuntimeError(f"dbt could not parse {DBT_PROJECT_DIR}: {result.exception}")
        _PARSED.clear()
        _PARSED[key] = result.result
    return _PARSED[key]


def invoke(command: list[str], manifest: Any = None, callbacks: Sequence[Any] = ()) -> Any:
    """One dbt invocation in this process (a `dbtRunnerResult`), the warehouse closed after it."""
    from dbt.cli.main import dbtRunner

    with _ONE_AT_A_TIME:
        try:
            return dbtRunner(manifest=manifest, callbacks=list(callbacks)).invoke(command)
        finally:
            _close_warehouse()


def _dbt_version() -> str:
    from dbt.version import __version__

    return __version__


def _close_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB database open for the next invocation of the process; close
    it, or no other process (a sensor, the next run's step, an analyst's snapshot copy) could
    open the warehouse."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


class _DbtThread:
    """What `DbtCliInvocation` reads of a dbt process (its JSON log lines on stdout, its exit
    code), from a dbt invocation run on a thread of this process."""

    def __init__(self, command: list[str], manifest: Any) -> None:
        self.args = ["dbt (in process)", *command]
        self.returncode: int | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self.stdout = _Lines(self._lines)
        self._thread = threading.Thread(target=self._run, args=(command, manifest), name="dbt", daemon=True)
        self._thread.start()

    def _run(self, command: list[str], manifest: Any) -> None:
        from dbt_common.events.functions import msg_to_dict

        def forward(event) -> None:
            if event.info.level in _PRINTED_LEVELS:
                self._lines.put(orjson.dumps(msg_to_dict(event)))

        try:
            result = invoke(command, manifest, [forward])
            self.returncode = 0 if result.success else (2 if result.exception else 1)
            if result.exception is not None:
                self._lines.put(orjson.dumps({"info": {"level": "error", "msg": str(result.exception), "name": "Error"},
                                              "data": {}}))
        except BaseException as exc:  # reported like a dbt process that crashed
            self.returncode = 2
            self._lines.put(f"dbt failed in process: {exc!r}".encode())
        finally:
            self._lines.put(None)

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, signal: int) -> None:
        # dbt offers no way to stop an invocation from another thread. On a cancelled run
        # dagster-dbt waits for it a while, then fails the step; a step process that then exits
        # takes the dbt thread with it, and DuckDB drops the model it had not committed.
        pass


class _Lines:
    """The dbt thread's output, line by line, until it ends (a process's stdout)."""

    def __init__(self, lines: "queue.Queue[bytes | None]") -> None:
        self._lines = lines
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        while (line := self._lines.get()) is not None:
            yield line

    def __enter__(self) -> "_Lines":
        return self

    def __exit__(self, *exc) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True

