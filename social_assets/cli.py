"""`social-assets`: the project's command line.

    social-assets run [--date YYYY-MM-DD]       collect a day (default yesterday, UTC) and build the warehouse
    social-assets normalize PLATFORM RESOURCE [FILE]
    social-assets sandbox serve [--port N]      serve the platform emulations over HTTP
    social-assets dev                           the Dagster UI on this project
    social-assets health [--json]               each platform's health; exits 1 when one is unhealthy
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="social-assets", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="collect one day for every configured source and build the warehouse")
    run.add_argument("--date", type=date.fromisoformat, help="UTC day to collect (default: yesterday)")

    normalize = commands.add_parser("normalize", help="normalize one raw API response body")
    normalize.add_argument("platform")
    normalize.add_argument("resource", choices=["posts", "comments", "profiles"])
    normalize.add_argument("file", nargs="?", type=Path, help="response body (default: stdin)")

    sandbox = commands.add_parser("sandbox", help="the local platform API emulation")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser("serve", help="serve every platform's emulation over HTTP")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--host", default="127.0.0.1")

    commands.add_parser("dev", help="open the Dagster UI on this project")

    health = commands.add_parser(
        "health",
        help="per platform: reachable, limit left, last collection, freshness, recent errors; exit 1 if unhealthy",
    )
    health.add_argument("--json", action="store_true", help="print the report as JSON")
    health.add_argument(
        "--max-age-hours", type=float, default=None,
        help="a platform whose last successful collection is older is unhealthy (default SOCIAL_FRESHNESS_MAX_AGE_HOURS or 36)",
    )
    health.add_argument(
        "--max-error-rate", type=float, default=0.25,
        help="a platform whose share of failed source collections in the last 24 h is higher is unhealthy (default 0.25)",
    )

    args = parser.parse_args(argv)
    if args.command == "normalize":
        return normalize_command(args.platform, args.resource, args.file)
    if args.command == "sandbox":
        return serve_command(args.host, args.port)
    if args.command == "dev":
        return dev_command()
    if args.command == "health":
        return health_command(args.json, args.max_age_hours, args.max_error_rate)
    return run_command(args.date)


def normalize_command(platform: str, resource: str, file: Path | None) -> int:
    from social_assets.core.records import NotAResponse
    from social_assets.normalization import normalize_body, parse_body
    from social_assets.platforms import PLATFORMS

    if platform not in PLATFORMS:
        print(f"unknown platform {platform!r} (known: {', '.join(sorted(PLATFORMS))})", file=sys.stderr)
        return 2
    source = str(file) if file else "stdin"
    try:
        text = file.read_text() if file else sys.stdin.read()
    except OSError as exc:
        print(f"{source}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        result = normalize_body(platform, resource, parse_body(text))
    except NotAResponse as exc:
        print(f"{source}: not a {platform} {resource} response: {exc}", file=sys.stderr)
        return 2
    for record in result.records:
        sys.stdout.write(record.model_dump_json() + "\n")
    for rejected in result.rejected:
        sys.stderr.write(json.dumps({"id": rejected.item_id, "reason": rejected.reason}) + "\n")
    return 0


def serve_command(host: str, port: int) -> int:
    from social_assets.sandbox.app import Sandbox, make_server

    sandbox = Sandbox()
    server = make_server(sandbox, host, port)
    bound_host, bound_port = server.server_address[:2]
    print(f"sandbox serving {', '.join(sandbox.hosts)} at http://{bound_host}:{bound_port}/<host>/<path>")
    print(f"point the pipeline at it with SOCIAL_SANDBOX_URL=http://{bound_host}:{bound_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def dev_command() -> int:
    from social_assets.instance import prepare_dagster_home
    from social_assets.settings import PROJECT_ROOT

    prepare_dagster_home()
    dagster = Path(sys.executable).parent / "dagster"
    os.chdir(PROJECT_ROOT)
    os.execv(str(dagster), [str(dagster), "dev", "-w", "workspace.yaml"])
    return 0  # not reached


def health_command(as_json: bool, max_age_hours: float | None, max_error_rate: float) -> int:
    """Exit 0 when every platform with sources is healthy, 1 when one is not, 2 when health
    cannot be judged (the sources file is invalid, or the warehouse stays locked by a writer)."""
    from social_assets.health import WarehouseBusy, assess, max_age_from_environment, render
    from social_assets.settings import sources_path, warehouse_path
    from social_assets.sources import SourcesConfigError, load_sources

    now = datetime.now(timezone.utc)
    try:
        sources = load_sources(sources_path())
        max_age = timedelta(hours=max_age_hours) if max_age_hours is not None else max_age_from_environment()
        report = assess(warehouse_path(), sources, now, max_age, max_error_rate)
    except (SourcesConfigError, WarehouseBusy, ValueError) as exc:
        print(f"health: cannot check: {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps({"checked_at": now.isoformat(timespec="seconds"),
                          "healthy": all(h.healthy for h in report),
                          "platforms": [h.to_json() for h in report]}, indent=2))
    else:
        print(render(report, now))
    return 0 if all(h.healthy for h in report) else 1


def run_command(day: date | None) -> int:
    from social_assets.instance import prepare_dagster_home

    home = prepare_dagster_home()
    from dagster import DagsterInstance

    from social_assets.connections import api_mode
    from social_assets.definitions import defs
    from social_assets.defs.partitions import platform_day_key
    from social_assets.platforms import PLATFORMS
    from social_assets.settings import pool_wait_seconds, sources_path
    from social_assets.sources import SourcesConfigError, load_sources

    day = day or (datetime.now(timezone.utc).date() - timedelta(days=1))
    try:
        sources = load_sources(sources_path())
        pool_wait = pool_wait_seconds()
    except (SourcesConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    # The runs' full logs are in the Dagster instance (make dev); the terminal gets warnings.
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    ok = True
    blocked: list[str] = []
    failed_collections: list[str] = []
    collections = 0
    with DagsterInstance.get() as instance:
        collect = defs.resolve_job_def("collect_platform_day")
        for platform in sorted(PLATFORMS):
            if not sources[platform]:
                print(f"{platform}: no sources configured, skipped")
                continue
            mode = api_mode(PLATFORMS[platform], os.environ, os.environ.get("SOCIAL_SANDBOX_URL"))
            what = f"{platform} {day}"
            print(f"{platform}: collecting {day} ({len(sources[platform])} sources) from {mode}...", flush=True)
            result = _execute_run(
                instance, home, collect, what, pool_wait,
                partition_key=platform_day_key(platform, day), run_config=quiet,
            )
            collections += 1
            ok &= _report(result, what)
            if result is None or not result.success:
                failed_collections.append(what)
            if result is not None and _blocking_check_failed(result):
                blocked.append(what)
        if collections and len(failed_collections) == collections:
            # Nothing new came in: rebuilding would only hide that behind a successful build.
            print(
                f"analytics: not rebuilt: every collection failed ({', '.join(failed_collections)}); "
                "the analytics tables and the analysts' snapshot are as before",
                file=sys.stderr,
            )
            _summary(home, day, pool_wait)
            return 1
        if blocked:
            # Bad data must not reach the analyst tables: they stay as they were.
            print(
                f"analytics: not rebuilt: a blocking data-quality check failed for {', '.join(blocked)} "
                "(see ops.data_quality)",
                file=sys.stderr,
            )
            _summary(home, day, pool_wait)
            return 1
        print("analytics: building the warehouse tables with dbt...", flush=True)
        dbt_log = io.StringIO()  # dagster-dbt echoes dbt's log; show it only when it matters
        with contextlib.redirect_stdout(dbt_log):
            result = _execute_run(
                instance, home, defs.resolve_job_def("build_analytics"), "analytics", pool_wait, run_config=quiet
            )
        if result is not None and not result.success:
            print(dbt_log.getvalue(), file=sys.stderr)
        ok &= _report(result, "analytics")
        if result is not None and result.success:
            from social_assets.settings import analytics_snapshot_path

            print(f"analytics: published for analysts at {analytics_snapshot_path()}")
        _summary(home, day, pool_wait)
    return 0 if ok else 1


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _execute_run(instance, home: Path, job, what: str, pool_wait: float, **execute_args):
    """Execute one run of `job` in this process, in its turn at the warehouse, once the dead
    runs of this machine are cleared away; None when it gave up waiting for the pool (said why)."""
    import uuid

    from social_assets.runs import PoolWaitTimeout, pool_turn, process_tags, reap_dead_runs, watch_pool_wait

    run_id = str(uuid.uuid4())
    try:
        with pool_turn(home, run_id, what, pool_wait, _say):
            reap_dead_runs(instance, _say)
            with watch_pool_wait(instance, run_id, what, pool_wait, _say) as watch:
                result = job.execute_in_process(
                    instance=instance, run_id=run_id, tags=process_tags(), raise_on_error=False, **execute_args
                )
            if watch.gave_up and not result.success:
                _say(watch.gave_up)
            return result
    except PoolWaitTimeout as exc:
        _say(str(exc))
        return None


def _summary(home: Path, day: date, pool_wait: float) -> None:
    """Rows per table and the day's top posts, read in this process's turn so that it never
    stands in the way of another run's writer."""
    from social_assets.health import WarehouseBusy
    from social_assets.runs import PoolWaitTimeout, pool_turn
    from social_assets.settings import warehouse_path
    from social_assets.summary import print_summary

    try:
        with pool_turn(home, "", "summary", pool_wait, _say):
            print_summary(warehouse_path(), day)
    except (PoolWaitTimeout, WarehouseBusy) as exc:
        _say(f"summary skipped: {exc}")


def _blocking_check_failed(result) -> bool:
    return any(
        event.is_step_failure
        and event.step_failure_data
        and event.step_failure_data.error
        and event.step_failure_data.error.cls_name == "DagsterAssetCheckFailedError"
        for event in result.all_events
    )


def _report(result, what: str) -> bool:
    if result is None:
        print(f"{what}: not run", file=sys.stderr)
        return False
    if result.success:
        print(f"{what}: run {result.run_id} succeeded")
        return True
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            print(f"{what}: step {event.step_key} failed: {event.step_failure_data.error.message.strip()}", file=sys.stderr)
    print(f"{what}: run {result.run_id} failed", file=sys.stderr)
    return False


if __name__ == "__main__":
    sys.exit(main())
