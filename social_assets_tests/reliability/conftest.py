"""A calm run of `social-assets run`, shared by the tests that compare against it."""

from __future__ import annotations

import pytest

from social_assets_tests.reliability.cli_runs import Place, duplicated_keys, run, table_keys


@pytest.fixture(scope="session")
def calm_keys(tmp_path_factory) -> dict[str, list[tuple]]:
    """The keys of every table after one undisturbed run on a fresh home."""
    place = Place(tmp_path_factory.mktemp("calm"))
    result = run(place)
    assert result.returncode == 0, result.stdout + result.stderr
    keys = table_keys(place.warehouse)
    assert all(keys[t] for t in ("normalized.posts", "normalized.comments", "analytics.posts", "analytics.rollups_daily"))
    assert duplicated_keys(keys) == {}
    return keys
