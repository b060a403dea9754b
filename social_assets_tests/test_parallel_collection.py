"""The sources of a platform are collected at once (SOCIAL_COLLECT_WORKERS threads), each with
its own client under the limits they share, and land exactly what one-at-a-time collection
lands, in the sources' order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from social_assets import connections
from social_assets.collection import collect_partition, collect_workers
from social_assets.platforms import PLATFORMS
from social_assets.platforms.base import DayWindow
from social_assets.sources import load_sources

DAY = DayWindow(datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc))


def landed(collection) -> list[tuple]:
    return [(account, r.method, r.endpoint, tuple(sorted(r.params.items())), r.status, r.body)
            for account, r in collection.landed]


def collect(sources, workers: int):
    connection = connections.connect(PLATFORMS["reddit"])
    try:
        return collect_partition(connection, sources, DAY, workers=workers)
    finally:
        connection.close()


def test_sources_are_collected_at_once_and_land_what_one_at_a_time_lands(pipeline_env, sources_file, monkeypatch):
    sources = load_sources(sources_file)["reddit"]
    assert len(sources) == 2
    one_at_a_time = collect(sources, workers=1)
    monkeypatch.setattr(connections, "_SANDBOX", None)  # a fresh sandbox: its limits start again
    at_once = collect(sources, workers=2)

    assert [o.account_id for o in at_once.outcomes] == [s.account_id for s in sources]
    assert all(o.status == "success" for o in at_once.outcomes)
    assert landed(at_once) == landed(one_at_a_time) and len(landed(at_once)) > 4
    first, second = at_once.outcomes
    assert first.started_at < second.finished_at and second.started_at < first.finished_at  # they overlapped
    one, two = one_at_a_time.outcomes
    assert one.finished_at <= two.started_at + timedelta(milliseconds=1)  # one after the other


def test_the_number_of_sources_at_once_is_checked(monkeypatch):
    monkeypatch.setenv("SOCIAL_COLLECT_WORKERS", "8")
    assert collect_workers() == 8
    for bad in ("0", "many"):
        monkeypatch.setenv("SOCIAL_COLLECT_WORKERS", bad)
        with pytest.raises(ValueError, match=f"SOCIAL_COLLECT_WORKERS must .*{bad}"):
            collect_workers()
