"""A dead run never blocks a live one; a run waiting for the pool says for whom, and gives up.

These use a real Dagster instance in a temporary home and the real `duckdb` pool: a run record
holding the pool's slot is exactly what a run killed in the middle of a step leaves behind.
`social-assets run` runs as a separate process: in this one, the definitions (and the paths
they hold) are those of whichever test imported them first."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus

from social_assets.instance import WAREHOUSE_POOL, prepare_dagster_home
from social_assets.runs import HOST_TAG, PID_TAG, STARTED_TAG, process_tags, reap_dead_runs
from social_assets_tests.reliability.cli_runs import Place, run

ONE_SUBREDDIT = """
reddit:
  defaults: {post_limit: 100, collect_comments: true, comment_depth: 2, sort: new}
  sources:
    - subreddit: duckdb
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return prepare_dagster_home()


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _run_holding_the_pool(instance: DagsterInstance, tags: dict[str, str], status=DagsterRunStatus.STARTED) -> str:
    """A run record in `status` that holds the duckdb slot, as a run killed inside a step leaves."""
    run_id = str(uuid.uuid4())
    instance.add_run(
        DagsterRun(
            job_name="collect_platform_day", run_id=run_id, status=status,
            tags={**tags, "dagster/partition": "2026-11-19|reddit"},
        )
    )
    claim = instance.event_log_storage.claim_concurrency_slot(WAREHOUSE_POOL, run_id, "collect", 0)
    assert claim.is_claimed
    return run_id


def _slot_holders(instance: DagsterInstance) -> set[str]:
    return {slot.run_id for slot in instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots}


def test_runs_of_dead_processes_are_failed_and_their_slots_freed(home):
    said: list[str] = []
    with DagsterInstance.get() as instance:
        # Five slots here, so that every kind of holder can hold one at once.
        instance.event_log_storage.set_concurrency_slots(WAREHOUSE_POOL, 5)
        dead = _run_holding_the_pool(instance, {**process_tags(), PID_TAG: str(_dead_pid())})
        # A pid the system gave to another process since: same pid, another start time.
        reused = _run_holding_the_pool(instance, {**process_tags(), STARTED_TAG: "1"}, DagsterRunStatus.STARTING)
        alive = _run_holding_the_pool(instance, process_tags())
        by_daemon = _run_holding_the_pool(instance, {})  # no process tags: run monitoring's job
        elsewhere = _run_holding_the_pool(instance, {**process_tags(), HOST_TAG: "another-machine"})

        reaped = reap_dead_runs(instance, said.append)

        assert sorted(reaped) == sorted([dead, reused])
        assert instance.get_run_by_id(dead).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(reused).status == DagsterRunStatus.FAILURE
        for untouched in (alive, by_daemon, elsewhere):
            assert instance.get_run_by_id(untouched).status == DagsterRunStatus.STARTED
        assert _slot_holders(instance) == {alive, by_daemon, elsewhere}
        assert len(said) == 2 and all("died without finishing" in line for line in said)
        assert reap_dead_runs(instance, said.append) == []  # once is enough


def test_a_run_frees_the_slot_of_a_dead_run_then_every_collection_failing_leaves_the_analytics_alone(home, tmp_path):
    """The slot is held by a run whose process is gone (what `kill -9` inside a step leaves):
    `social-assets run` fails that run, frees the slot and collects. Every source then fails
    (a subreddit that does not exist): the analytics are not rebuilt, it says why, exits 1."""
    place = Place(tmp_path)
    (tmp_path / "sources.yaml").write_text(ONE_SUBREDDIT.replace("subreddit: duckdb", "subreddit: no_such_subreddit_here"))
    with DagsterInstance.get() as instance:
        dead = _run_holding_the_pool(instance, {**process_tags(), PID_TAG: str(_dead_pid())})

    result = run(place)

    assert result.returncode == 1, result.stdout + result.stderr
    err = result.stderr
    assert f"run {dead} (collect_platform_day 2026-11-19|reddit, social-assets run, pid" in err
    assert "died without finishing" in err
    assert "reddit 2026-11-19: every source failed; their earlier data is kept" in err
    assert "analytics: not rebuilt: every collection failed (reddit 2026-11-19)" in err
    with DagsterInstance.get() as instance:
        assert instance.get_run_by_id(dead).status == DagsterRunStatus.FAILURE
        assert sorted((r.job_name, r.status.value) for r in instance.get_runs()) == [
            ("collect_platform_day", "FAILURE"), ("collect_platform_day", "FAILURE")
        ]  # the dead one and this one's collection; no analytics build
        assert _slot_holders(instance) == set()
    assert not place.snapshot.exists()


def test_a_run_waiting_for_a_live_holder_names_it_and_gives_up(home, tmp_path):
    """The slot is held by a live run that does not let go: the run names it, gives up after
    SOCIAL_POOL_WAIT_SECONDS, and leaves the holder alone."""
    place = Place(tmp_path)
    (tmp_path / "sources.yaml").write_text(ONE_SUBREDDIT)
    with DagsterInstance.get() as instance:
        live = _run_holding_the_pool(instance, process_tags())  # this test's process: alive

    result = run(place, SOCIAL_POOL_WAIT_SECONDS="3")

    assert result.returncode == 1, result.stdout + result.stderr
    err = result.stderr
    assert f"reddit 2026-11-19: waiting for the duckdb pool: run {live} (collect_platform_day 2026-11-19|reddit" in err
    assert f"reddit 2026-11-19: gave up after waiting 3 s for the duckdb pool, held by run {live}" in err
    assert "analytics: not rebuilt: every collection failed (reddit 2026-11-19)" in err
    with DagsterInstance.get() as instance:
        assert instance.get_run_by_id(live).status == DagsterRunStatus.STARTED
        mine = [r for r in instance.get_runs() if r.run_id != live]
        assert [(r.job_name, r.status) for r in mine] == [("collect_platform_day", DagsterRunStatus.FAILURE)]
        assert _slot_holders(instance) == {live}  # the run that gave up holds nothing


def test_the_pool_wait_setting_must_be_a_number(home, pipeline_env, monkeypatch, capsys):
    from social_assets.cli import main

    monkeypatch.setenv("SOCIAL_POOL_WAIT_SECONDS", "soon")
    assert main(["run", "--date", "2026-11-19"]) == 2
    assert "SOCIAL_POOL_WAIT_SECONDS='soon' is not a number of seconds" in capsys.readouterr().err


def test_a_step_waiting_for_the_pool_sleeps_between_its_claim_checks(home):
    """Dagster's in-process executor would spin a core while a step's claim is refused
    (`defs/claim_wait.py`): with the project's definitions loaded it sleeps, then runs the
    step once the slot is free."""
    import threading
    import time

    from dagster import job, op

    import social_assets.definitions  # noqa: F401 (applies claim_wait)

    @op(pool=WAREHOUSE_POOL)
    def writes_the_warehouse() -> int:
        return 1

    @job
    def waits_for_the_pool():
        writes_the_warehouse()

    with DagsterInstance.get() as instance:
        holder = _run_holding_the_pool(instance, process_tags())
        results = []
        runner = threading.Thread(target=lambda: results.append(waits_for_the_pool.execute_in_process(instance=instance)))
        runner.start()
        deadline = time.monotonic() + 30
        while not instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).pending_steps:
            assert time.monotonic() < deadline, "the step never asked for the slot"
            time.sleep(0.1)
        cpu, wall = time.process_time(), time.monotonic()
        time.sleep(2)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        assert cpu < wall / 2, f"the waiting run used {cpu:.2f} s of CPU in {wall:.2f} s"  # spinning: about all of it
        instance.event_log_storage.free_concurrency_slots_for_run(holder)
        runner.join(timeout=60)
    assert not runner.is_alive() and results[0].success
    assert results[0].output_for_node("writes_the_warehouse") == 1
