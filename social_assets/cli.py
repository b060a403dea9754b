"""`social-assets`: the project's command line.

    social-assets run [--date D | --from D1 [--to D2]]   collect days (default yesterday, UTC) and build the warehouse
    social-assets normalize PLATFORM RESOURCE [FILE]
    social-assets sandbox serve [--port N]      serve the platform emulations over HTTP
    social-assets dev [--port 3000]             the Dagster UI on this project (prints its URL)
    social-assets health [--json]               each platform's health; exits 1 when one is unhealthy
    social-assets report [--brand B] [--days N] [--out FILE]   an HTML report with charts
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import json
import os
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path


def command_line() -> None:
    """The `social-assets` console command: `main`, then exit without tearing the interpreter
    down. After a run, its teardown (freeing every object of the Dagster definitions and the
    parsed dbt project, module by module) took ~1.5 s of nothing; the exit handlers still run
    (logging flushed, thread pools joined), and every warehouse write is committed and closed
    by then."""
    try:
        code = main()
    except SystemExit as exc:  # argparse's usage errors, --help
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    atexit._run_exitfuncs()  # what a normal exit runs first (the interpreter's own, not ours)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="social-assets", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run", help="collect days (default yesterday, UTC) for every configured source and build the warehouse"
    )
    add_day_arguments(run)

    normalize = commands.add_parser("normalize", help="normalize one raw API response body")
    normalize.add_argument("platform")
    normalize.add_argument("resource", choices=["posts", "comments", "profiles"])
    normalize.add_argument("file", nargs="?", type=Path, help="response body (default: stdin)")

    sandbox = commands.add_parser("sandbox", help="the local platform API emulation")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser("serve", help="serve every platform's emulation over HTTP")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--host", default="127.0.0.1")

    dev = commands.add_parser("dev", help="open the Dagster UI on this project (prints its URL once it answers)")
    dev.add_argument("--port", type=int, default=3000)
    dev.add_argument("--host", default="127.0.0.1")

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

    add_report_parser(commands)

    commands.add_parser("prepare", help="parse the dbt project into the manifest the definitions are built from")

    args = parser.parse_args(argv)
    if args.command == "prepare":
        from social_assets.warehouse.dbt_project import prepare_dbt_project

        print(f"dbt manifest ready: {prepare_dbt_project()}")
        return 0
    if args.command == "normalize":
        return normalize_command(args.platform, args.resource, args.file)
    if args.command == "sandbox":
        return serve_command(args.host, args.port)
    if args.command == "dev":
        return dev_command(args.host, args.port)
    if args.command == "health":
        return health_command(args.json, args.max_age_hours, args.max_error_rate)
    if args.command == "report":
        return report_command(args.brand, args.days, args.out)
    try:
        days = days_to_collect(args.date, args.first, args.last, datetime.now(timezone.utc))
    except DayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_command(days)


# -- which days `run` collects ----------------------------------------------------------------


class DayError(ValueError):
    """A day or range that cannot be collected; the message gives the allowed range."""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_day_arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument("--date", type=_day, help="one UTC day to collect (default: yesterday)")
    run.add_argument("--from", dest="first", type=_day, metavar="D1", help="first UTC day of a range to collect")
    run.add_argument("--to", dest="last", type=_day, metavar="D2",
                     help="last UTC day of the range, included (default: yesterday)")


def days_to_collect(day: date | None, first: date | None, last: date | None, now: datetime) -> list[date]:
    """The days `run` collects, checked before anything starts: each must be a complete UTC day
    with a partition, i.e. from PARTITIONS_START to yesterday."""
    from social_assets.settings import PARTITIONS_START

    earliest, yesterday = date.fromisoformat(PARTITIONS_START), now.astimezone(timezone.utc).date() - timedelta(days=1)
    allowed = f"days from {earliest} to {yesterday} (UTC; today is not over yet)"
    if day is not None and (first is not None or last is not None):
        raise DayError("give either --date or --from/--to, not both")
    if first is None and last is not None:
        raise DayError("--to needs --from")
    if day is not None:
        first = last = day
    first = first or yesterday
    last = last or yesterday
    for name, value in (("--from" if day is None else "--date", first), ("--to" if day is None else "--date", last)):
        if value > yesterday or value < earliest:
            why = "today" if value == yesterday + timedelta(days=1) else ("in the future" if value > yesterday else "before the partitions start")
            raise DayError(f"{name} {value} cannot be collected ({why}): {allowed}")
    if first > last:
        raise DayError(f"--from {first} is after --to {last}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# -- progress ---------------------------------------------------------------------------------


class Progress:
    """One line per platform-day as it finishes: where the run is, what was collected, how long
    it took and how long the rest should take (the mean so far times what is left)."""

    def __init__(self, total: int, out=None, clock=None):
        import threading
        import time

        self.total, self.out, self.clock = total, out or sys.stdout, clock or time.monotonic
        self.started = self.clock()
        self.begun = 0
        self.done = 0
        self.items = 0
        self.lock = threading.Lock()  # the platforms of a day report from their own threads

    @staticmethod
    def _clock_text(seconds: float) -> str:
        seconds = int(round(seconds))
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"

    def start(self, day: date, platform: str, detail: str) -> None:
        with self.lock:
            self.begun += 1
            print(f"[{self.begun}/{self.total}] {day} {platform}: collecting {detail}...", file=self.out, flush=True)

    def finish(self, day: date, platform: str, items: dict[str, int], ok: bool) -> None:
        with self.lock:
            self.done += 1
            self.items += sum(items.values())
            elapsed = self.clock() - self.started
            remaining = elapsed / self.done * (self.total - self.done)
            what = ", ".join(f"{count} {name}" for name, count in items.items()) or "nothing"
            print(
                f"[{self.done}/{self.total}] {day} {platform}: {'done' if ok else 'FAILED'}, {what}"
                f" | {self.items} items so far | elapsed {self._clock_text(elapsed)}"
                f" | remaining ~{self._clock_text(remaining)}",
                file=self.out,
                flush=True,
            )


def collected_items(result) -> dict[str, int]:
    """Rows each normalized table received in a collection run (its materializations' `rows`)."""
    items = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.path[0] == "normalized" and "rows" in materialization.metadata:
            items[materialization.asset_key.path[-1]] = int(materialization.metadata["rows"].value)
    return {name: items[name] for name in ("posts", "comments", "profiles") if name in items}


def normalize_command(platform: str, resource: str, file: Path | None) -> int:
    """Exit 0 with records on stdout and rejected and gone items on stderr (one JSON line each), or 2
    with one line on stderr when the body is not a response we can use. Never a traceback:
    invalid UTF-8 is replaced (as in the pipeline), and bad data fails its item or its body."""
    from social_assets.core.records import NotAResponse
    from social_assets.normalization import decode_body, normalize_body, parse_body
    from social_assets.platforms import PLATFORMS

    if platform not in PLATFORMS:
        print(f"unknown platform {platform!r} (known: {', '.join(sorted(PLATFORMS))})", file=sys.stderr)
        return 2
    source = str(file) if file else "stdin"
    try:
        data = file.read_bytes() if file else sys.stdin.buffer.read()
    except OSError as exc:
        print(f"{source}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        result = normalize_body(platform, resource, parse_body(decode_body(data)))
    except NotAResponse as exc:
        print(f"{source}: not a {platform} {resource} response: {exc}", file=sys.stderr)
        return 2
    for record in result.records:
        sys.stdout.write(record.model_dump_json() + "\n")
    for rejected in result.rejected:
        sys.stderr.write(json.dumps({"id": rejected.item_id, "reason": rejected.reason}) + "\n")
    for gone in result.gone:  # deleted or removed on the platform: no record, the pipeline purges it
        sys.stderr.write(json.dumps({"id": gone.item_id, "reason": f"gone on the platform: {gone.reason}"}) + "\n")
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


def dev_command(host: str, port: int) -> int:
    """`dagster dev` on the project; once the UI answers, its URL is printed where it is seen,
    after Dagster's start-up log."""
    import subprocess
    import threading

    from social_assets.instance import prepare_dagster_home
    from social_assets.settings import PROJECT_ROOT
    from social_assets.warehouse.dbt_project import prepare_dbt_project

    prepare_dagster_home()
    prepare_dbt_project()  # the code server only reads the manifest
    dagster = Path(sys.executable).parent / "dagster"
    url = f"http://{host}:{port}"
    print(f"starting the Dagster UI at {url} (Ctrl-C stops it)...", flush=True)
    process = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", host, "-p", str(port)], cwd=PROJECT_ROOT
    )
    threading.Thread(target=_announce_when_up, args=(url, process), daemon=True).start()
    try:
        return process.wait()
    except KeyboardInterrupt:  # the terminal's Ctrl-C reached dagster dev too: let it shut down
        return process.wait()


def _announce_when_up(url: str, process, every: float = 1.0) -> None:
    import time

    import httpx

    while process.poll() is None:
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                print(f"\n  Dagster UI ready: {url}\n", flush=True)
                return
        except httpx.HTTPError:
            pass
        time.sleep(every)


def health_command(as_json: bool, max_age_hours: float | None, max_error_rate: float) -> int:
    """Exit 0 when every platform with sources and the analytics tables are healthy, 1 when one
    is not (a failing blocking check included, dbt's too), 2 when health
    cannot be judged (the sources file is invalid, or the warehouse stays locked by a writer)."""
    from social_assets.health import WarehouseBusy, assess, render
    from social_assets.quality import max_age_from_environment
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
        print(json.dumps(report.to_json(now), indent=2))
    else:
        print(render(report, now))
    return 0 if report.healthy else 1


def add_report_parser(commands) -> None:
    report = commands.add_parser(
        "report", help="write a self-contained HTML report: followers, engagement rate and top posts per platform and brand"
    )
    report.add_argument("--brand", help="only this brand's accounts (a brand of the sources file)")
    report.add_argument("--days", type=int, default=30, help="the last N days up to the newest data (default 30)")
    report.add_argument("--out", type=Path, default=Path("report.html"), help="the HTML file to write (default report.html)")


def report_command(brand: str | None, days: int, out: Path) -> int:
    """Exit 0 with the report written, 2 when it cannot be made (the reason on stderr)."""
    import duckdb

    from social_assets.report import ReportError, write_report
    from social_assets.settings import warehouse_path

    try:
        written = write_report(warehouse_path(), out, brand=brand, days=days)
    except ReportError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    except duckdb.IOException as exc:  # e.g. a writer holds the file
        print(f"report: cannot read the warehouse: {exc}", file=sys.stderr)
        return 2
    print(f"report written to {written}")
    return 0


def run_command(days: list[date]) -> int:
    from social_assets.instance import prepare_dagster_home
    from social_assets.warehouse.dbt_project import prepare_dbt_project

    home = prepare_dagster_home()
    prepare_dbt_project()
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from filelock import FileLock

    from social_assets.brands import load_brands
    from social_assets.connections import api_mode
    from social_assets.definitions import defs
    from social_assets.defs.partitions import platform_day_key
    from social_assets.command_line_instance import command_line_instance
    from social_assets.platforms import PLATFORMS
    from social_assets.runs import reap_dead_runs
    from social_assets.settings import pool_wait_seconds, runs_at_once, sources_path
    from social_assets.sources import SourcesConfigError, load_sources

    try:
        sources = load_sources(sources_path())
        # Brand mistakes stop the run here, with the other mistakes of the file, not after
        # every day was collected, when the analytics build reads them.
        load_brands(sources_path(), sources)
        pool_wait = pool_wait_seconds()
        at_once = runs_at_once()
    except (SourcesConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    platforms = [p for p in sorted(PLATFORMS) if sources[p]]
    for platform in sorted(PLATFORMS):
        if not sources[platform]:
            print(f"{platform}: no sources configured, skipped")
    progress = Progress(len(days) * len(platforms))

    # The runs' full logs are in the Dagster instance (make dev); the terminal gets warnings.
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    ok = True
    blocked: list[str] = []
    failed_collections: list[str] = []
    collections = 0
    with command_line_instance(home) as instance:
        collect = defs.resolve_job_def("collect_platform_day")

        # The runs of this process take turns at the warehouse once their fetch is done: queued
        # in Dagster's pool instead, each waiting step would poll for the slot every 15 s.
        warehouse_turn = threading.Lock()

        def collect_platform_day(day: date, platform: str):
            mode = api_mode(platform)
            if mode == "sandbox":
                mode = f"sandbox ({os.environ.get('SOCIAL_SANDBOX_URL') or 'in-process'})"
            progress.start(day, platform, f"{len(sources[platform])} sources from {mode}")
            result = _execute_run(
                instance, collect, f"{platform} {day}", pool_wait, turn_after_fetch=warehouse_turn,
                partition_key=platform_day_key(platform, day), run_config=quiet,
            )
            progress.finish(day, platform, collected_items(result) if result is not None else {},
                            result is not None and result.success)
            return result

        for day in days:
            with FileLock(str(home / "reap.lock")):  # one process reports a dead run, not each
                reap_dead_runs(instance, _say)
            # The platforms of the day at once (or `at_once` at a time), a run each: their API
            # calls overlap, then they take turns at the warehouse (`warehouse_turn`).
            with ThreadPoolExecutor(max_workers=max(1, min(at_once or len(platforms), len(platforms))), thread_name_prefix="run") as pool:
                results = list(pool.map(lambda platform: collect_platform_day(day, platform), platforms))
            for platform, result in zip(platforms, results):
                what = f"{platform} {day}"
                collections += 1
                ok &= _report(result, what, quiet_success=True)
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
            _summary(home, days[-1], pool_wait)
            return 1
        if blocked:
            # Bad data must not reach the analyst tables: they stay as they were.
            print(
                f"analytics: not rebuilt: a blocking data-quality check failed for {', '.join(blocked)} "
                "(see ops.data_quality)",
                file=sys.stderr,
            )
            _summary(home, days[-1], pool_wait)
            return 1
        print("analytics: building the warehouse tables with dbt...", flush=True)
        dbt_log = io.StringIO()  # dagster-dbt echoes dbt's log; show it only when it matters
        with contextlib.redirect_stdout(dbt_log):
            result = _execute_run(
                instance, defs.resolve_job_def("build_analytics"), "analytics", pool_wait, take_turn=home,
                run_config=quiet,
            )
        if result is not None and not result.success:
            print(dbt_log.getvalue(), file=sys.stderr)
        ok &= _report(result, "analytics")
        if result is not None and result.success:
            from social_assets.settings import analytics_snapshot_path

            print(f"analytics: published for analysts at {analytics_snapshot_path()}")
        _summary(home, days[-1], pool_wait)
    return 0 if ok else 1


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _execute_run(instance, job, what: str, pool_wait: float, take_turn: Path | None = None,
                 turn_after_fetch=None, **execute_args):
    """Execute one run of `job` in this thread; with `take_turn` (a Dagster home), in its turn
    among the command line's analytics builds, once the dead runs of this machine are cleared
    away; with `turn_after_fetch` (a lock), holding it from the end of its fetch step to its
    end. None when it gave up waiting for the pool (said why)."""
    import uuid

    from social_assets.runs import PoolWaitTimeout, pool_turn, process_tags, reap_dead_runs, watch_pool_wait

    run_id = str(uuid.uuid4())
    watch = None
    holds_turn = False

    def take_turn_after_fetch() -> None:
        nonlocal holds_turn
        turn_after_fetch.acquire()
        holds_turn = True

    if turn_after_fetch is not None:
        instance.after_fetch[run_id] = take_turn_after_fetch
    try:
        with pool_turn(take_turn, run_id, what, pool_wait, _say) if take_turn else contextlib.nullcontext():
            if take_turn:
                reap_dead_runs(instance, _say)
            with watch_pool_wait(instance, run_id, what, pool_wait, _say) as watch:
                result = job.execute_in_process(
                    instance=instance, run_id=run_id, tags=process_tags(), raise_on_error=False, **execute_args
                )
            if watch.gave_up and not result.success:
                _say(watch.gave_up)
            return result
    except PoolWaitTimeout as exc:
        _say(watch.gave_up if watch is not None and watch.gave_up else str(exc))
        return None
    finally:
        if turn_after_fetch is not None:
            instance.after_fetch.pop(run_id, None)
        if holds_turn:
            turn_after_fetch.release()


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


def _report(result, what: str, quiet_success: bool = False) -> bool:
    if result is None:
        print(f"{what}: not run", file=sys.stderr)
        return False
    if result.success:
        if not quiet_success:
            print(f"{what}: run {result.run_id} succeeded")
        return True
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            print(f"{what}: step {event.step_key} failed: {event.step_failure_data.error.message.strip()}", file=sys.stderr)
    print(f"{what}: run {result.run_id} failed", file=sys.stderr)
    return False


if __name__ == "__main__":
    sys.exit(main())
