"""The automatic analytics rebuild never starts on half-written inputs (issue 12, item 1).

A real collection run of a platform-day executes in a thread against a real Dagster instance and
a real DuckDB file. It is held at two moments while it writes: before its last normalize step
(raw/* and two of normalized/* written, the third not) and inside its checks step (every
normalized table written, the blocking checks not yet judged). At both, the automation
conditions are evaluated as the `automation` sensor's tick would: the project's condition
requests nothing, while the condition the project had before (which looked at direct parents
only) requests analytics models: that is the race the issue saw. Once the run is done, one tick
requests every model, as one run (one dbt build), and that build leaves every blocking check green.
"""

from __future__ import annotations

import operator
import threading
from functools import reduce

from dagster import AssetKey, AutomationCondition, Definitions, evaluate_automation_conditions, materialize
from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests

from social_assets.defs import checks, normalized
from social_assets.defs.automation import COLLECTED
from social_assets.defs.resources import build_resources
from social_assets.defs.warehouse_models import analytics_models
from social_assets_tests.automation.conftest import project_defs, query, run_job

ANALYTICS = sorted(key for key in analytics_models.keys)
PAUSE_TIMEOUT = 120


def previous_condition() -> AutomationCondition:
    """The condition of the analytics models before issue 12, kept here to show the race."""
    blocking_failed = AutomationCondition.any_checks_match(AutomationCondition.check_failed(), blocking_only=True)
    return (
        AutomationCondition.any_deps_updated().since_last_handled()
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
        & ~AutomationCondition.any_deps_match(blocking_failed & ~AutomationCondition.will_be_requested())
        & ~reduce(operator.or_, [AutomationCondition.asset_matches(key, blocking_failed) for key in COLLECTED])
    )


def with_previous_condition(defs: Definitions) -> Definitions:
    old = analytics_models.map_asset_specs(lambda spec: spec.replace_attributes(automation_condition=previous_condition()))
    return Definitions(
        assets=[old if a is analytics_models else a for a in defs.assets],
        asset_checks=defs.asset_checks,
        resources=build_resources(),
    )


class Gate:
    """Holds the run at a point until the test lets it go."""

    def __init__(self, name: str):
        self.name = name
        self.reached = threading.Event()
        self.released = threading.Event()

    def hold(self) -> None:
        self.reached.set()
        assert self.released.wait(PAUSE_TIMEOUT), f"{self.name}: never released"

    def wait_reached(self, run: threading.Thread) -> None:
        while not self.reached.wait(0.2):
            assert run.is_alive(), f"the run ended before reaching {self.name}"


def test_no_analytics_run_is_requested_while_a_collection_writes(warehouse, instance, monkeypatch):
    defs, old_defs = project_defs(), None
    old_defs = with_previous_condition(defs)
    now = evaluate_automation_conditions(defs=defs, instance=instance)
    before = evaluate_automation_conditions(defs=old_defs, instance=instance)
    assert now.total_requested == before.total_requested == 0

    last_normalize, in_checks = Gate("last normalize step"), Gate("checks step")
    normalize_partition, evaluate_platform_day = normalized.normalize_partition, checks.evaluate_platform_day
    calls = []

    def normalize_then_maybe_hold(platform, resource, *args, **options):
        calls.append(resource)
        if len(calls) == 3:  # raw/* and two normalized tables are written; the third is not
            last_normalize.hold()
        return normalize_partition(platform, resource, *args, **options)

    def hold_then_check(*args):
        in_checks.hold()
        return evaluate_platform_day(*args)

    monkeypatch.setattr(normalized, "normalize_partition", normalize_then_maybe_hold)
    monkeypatch.setattr(checks, "evaluate_platform_day", hold_then_check)

    results = []
    run = threading.Thread(
        target=lambda: results.append(run_job(instance, "collect_platform_day", "2026-11-18|reddit", success=None)),
        daemon=True,
    )
    run.start()
    try:
        for gate in (last_normalize, in_checks):
            gate.wait_reached(run)
            now = evaluate_automation_conditions(defs=defs, instance=instance, cursor=now.cursor)
            before = evaluate_automation_conditions(defs=old_defs, instance=instance, cursor=before.cursor)
            assert now.total_requested == 0, f"{gate.name}: {[k for k in ANALYTICS if now.get_requested_partitions(k)]}"
            # The race of the issue: the old condition starts models on what is written so far.
            assert before.total_requested > 0, gate.name
            gate.released.set()
    finally:
        last_normalize.released.set()
        in_checks.released.set()
        run.join(PAUSE_TIMEOUT)
    (result,) = results
    assert result.success
    assert sorted(calls) == ["comments", "posts", "profiles"]

    # Done: one tick requests every model, in one run, i.e. one dbt build.
    now = evaluate_automation_conditions(defs=defs, instance=instance, cursor=now.cursor)
    assert {key for key in ANALYTICS if now.get_requested_partitions(key) == {None}} == set(ANALYTICS)
    requests = build_run_requests(now._requested_subsets, defs.resolve_asset_graph(), run_tags=None, emit_backfills=False)
    assert len(requests) == 1 and set(requests[0].asset_selection) == set(ANALYTICS)

    built = materialize(
        [analytics_models], selection=requests[0].asset_selection, instance=instance, resources=build_resources()
    )
    assert built.success
    checked = built.get_asset_check_evaluations()
    assert checked and all(c.passed for c in checked), [c.check_name for c in checked if not c.passed]
    latest = query(warehouse, 'SELECT "check", passed FROM ops.data_quality WHERE platform = \'all\' '
                              'QUALIFY row_number() OVER (PARTITION BY "check" ORDER BY checked_at DESC) = 1')
    assert latest and all(passed for _, passed in latest)
    assert query(warehouse, "SELECT count(*) FROM ops.data_quality WHERE day = '2026-11-18' AND NOT passed "
                            "AND platform = 'reddit'") == [(0,)]
    assert query(warehouse, "SELECT count(*) FROM analytics.posts WHERE published_at::date = '2026-11-18'")[0][0] > 0

    # Handled: the next tick requests nothing.
    assert evaluate_automation_conditions(defs=defs, instance=instance, cursor=now.cursor).total_requested == 0


def test_an_analytics_build_in_progress_holds_the_others(warehouse, instance):
    """A model whose inputs updated waits while another analytics build is queued or running, so
    two dbt builds never overlap."""
    from dagster._core.storage.dagster_run import DagsterRunStatus

    defs = project_defs()
    cursor = evaluate_automation_conditions(defs=defs, instance=instance).cursor
    run_job(instance, "collect_platform_day", "2026-11-18|reddit")
    # A build of one model, started (created by hand: its planned materialization makes it in progress).
    job = defs.resolve_implicit_global_asset_job_def()
    building = instance.create_run_for_job(
        job, asset_selection=frozenset({AssetKey(["analytics", "comments"])}), status=DagsterRunStatus.STARTED
    )
    held = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert held.total_requested == 0

    # It ends: the models whose inputs changed are requested, all of them in this tick.
    instance.report_run_failed(building)
    free = evaluate_automation_conditions(defs=defs, instance=instance, cursor=held.cursor)
    assert {key for key in ANALYTICS if free.get_requested_partitions(key) == {None}} == set(ANALYTICS)
