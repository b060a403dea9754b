"""Nothing phones home: a whole `make run` (install check, collection, normalization, checks,
dbt, the snapshot) with every outbound connection and name lookup refused (the calm run of
conftest.py). Every Python process it starts (social-assets, dbt, make's pip if it ran) loads a
guard from PYTHONPATH that refuses anything but this machine and records the attempt."""

from __future__ import annotations

import pytest

from social_assets_tests.reliability.cli_runs import table_keys


# Whole runs of the pipeline as separate processes: minutes on a busy machine (the calm
# reference run is made by the first test that needs it).
@pytest.mark.timeout(1200)
def test_make_run_succeeds_with_the_network_refused_and_tries_nothing(calm_run):
    assert "analytics: published for analysts" in calm_run.result.stdout
    assert not calm_run.outbound_attempts.exists(), f"outbound attempts: {calm_run.outbound_attempts.read_text()}"
    assert table_keys(calm_run.place.snapshot, tables=["analytics.posts"])["analytics.posts"]
