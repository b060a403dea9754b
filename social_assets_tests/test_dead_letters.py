"""Dead letters: what failed is kept with its request or payload, counted when it fails again,
never costs earlier data, and comes through on replay once the cause is fixed."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from social_assets import connections
from social_assets.core.records import Normalized, Rejected
from social_assets.platforms import PLATFORMS
from social_assets.sandbox.http import SandboxResponse
from social_assets_tests.pipeline import collect_partition, memory_instance

DAY = date(2026, 11, 19)


@pytest.fixture
def instance():
    with memory_instance() as dagster_instance:
        yield dagster_instance


@pytest.fixture
def forbidden_subreddit(sandbox_api, monkeypatch):
    """r/duckdb turns private: Reddit answers its listings and about page with 403."""
    emulation = sandbox_api.platforms["reddit"]
    real_handle = emulation.handle

    def handle(request, fault=None):
        if request.path.lower().startswith("/r/duckdb/"):
            return SandboxResponse(403, {"message": "Forbidden", "error": 403})
        return real_handle(request, fault)

    monkeypatch.setattr(emulation, "handle", handle)
    return lambda: monkeypatch.setattr(emulation, "handle", real_handle)


def rows(warehouse, sql, params=()):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_a_source_that_fails_keeps_its_earlier_data_and_gets_a_letter(pipeline_env, instance, monkeypatch):
    collect_partition(instance, "reddit", DAY)
    before = rows(pipeline_env, "SELECT * FROM normalized.posts WHERE account_id = 'r/duckdb' ORDER BY ALL")
    assert before

    emulation = connections.shared_sandbox().platforms["reddit"]
    real_handle = emulation.handle
    monkeypatch.setattr(
        emulation, "handle",
        lambda r: SandboxResponse(403, {"message": "Forbidden", "error": 403})
        if r.path.lower().startswith("/r/duckdb/") else real_handle(r),
    )
    result = collect_partition(instance, "reddit", DAY)

    assert rows(pipeline_env, "SELECT * FROM normalized.posts WHERE account_id = 'r/duckdb' ORDER BY ALL") == before
    (letter,) = rows(
        pipeline_env,
        "SELECT account_id, kind, method, endpoint, reason, attempts, status FROM ops.dead_letters",
    )
    assert letter[:4] == ("r/duckdb", "request", "GET", "https://oauth.reddit.com/r/duckdb/about")
    assert "403" in letter[4] and letter[5:] == (1, "open")
    metadata = result.asset_materializations_for_node("collect")[0].metadata
    assert metadata["collection_status"].value == "partial"
    assert "r/duckdb" in metadata["failed_sources"].value
    statuses = rows(pipeline_env, "SELECT account_id, status FROM ops.collection_log ORDER BY finished_at, account_id")
    assert statuses[-2:] == [("r/duckdb", "failed"), ("u/sandbox_bob", "success")]


def test_replay_recollects_only_the_failed_source_once_fixed(pipeline_env, instance, forbidden_subreddit):
    collect_partition(instance, "reddit", DAY)
    collect_partition(instance, "reddit", DAY)  # still failing: the same letter, a second attempt
    (attempts, first, last) = rows(
        pipeline_env, "SELECT attempts, first_failed_at, last_failed_at FROM ops.dead_letters"
    )[0]
    assert attempts == 2 and first <= last
    assert not rows(pipeline_env, "SELECT * FROM normalized.posts WHERE account_id = 'r/duckdb'")
    bob_before = rows(pipeline_env, "SELECT * FROM raw.posts WHERE account_id = 'u/sandbox_bob' ORDER BY ALL")

    forbidden_subreddit()  # the cause is fixed
    result = collect_partition(instance, "reddit", DAY, replay_dead_letters=True)

    assert rows(pipeline_env, "SELECT count(*) FROM ops.dead_letters")[0][0] == 0
    assert rows(pipeline_env, "SELECT count(*) FROM normalized.posts WHERE account_id = 'r/duckdb'")[0][0] > 0
    # The replay collected r/duckdb only: the other source's landed responses are untouched.
    assert rows(pipeline_env, "SELECT * FROM raw.posts WHERE account_id = 'u/sandbox_bob' ORDER BY ALL") == bob_before
    sources = result.asset_materializations_for_node("collect")[0].metadata["sources"].value
    assert [s["account_id"] for s in sources] == ["r/duckdb"]


def test_items_that_do_not_normalize_are_kept_with_their_payload_and_replayed(pipeline_env, instance, monkeypatch):
    real_posts = PLATFORMS["reddit"].normalizers["posts"]
    victim: dict[str, str] = {}

    def buggy_posts(body, **context) -> Normalized:
        """A normalizer bug: the first post of the day in every listing is refused."""
        result = real_posts(body, **context)
        of_the_day = [r for r in result.records if r.published_at.date() == DAY]
        if not of_the_day:
            return result
        first = of_the_day[0]
        rest = [r for r in result.records if r is not first]
        victim.setdefault("id", first.post_id)
        payload = next(c for c in body["data"]["children"] if c["data"]["id"] == first.post_id)
        return Normalized(records=rest, rejected=[*result.rejected, Rejected(item_id=first.post_id, reason="bug", payload=payload)])

    monkeypatch.setitem(PLATFORMS["reddit"].normalizers, "posts", buggy_posts)
    collect_partition(instance, "reddit", DAY)

    letters = rows(pipeline_env, "SELECT kind, resource, item_id, reason, payload FROM ops.dead_letters WHERE item_id = ?", [victim["id"]])
    assert [letter[:4] for letter in letters] == [("item", "posts", victim["id"], "bug")]
    assert json.loads(letters[0][4])["data"]["id"] == victim["id"]
    assert not rows(pipeline_env, "SELECT * FROM normalized.posts WHERE post_id = ?", [victim["id"]])

    monkeypatch.setitem(PLATFORMS["reddit"].normalizers, "posts", real_posts)  # the bug is fixed
    collect_partition(instance, "reddit", DAY, replay_dead_letters=True)

    assert rows(pipeline_env, "SELECT count(*) FROM ops.dead_letters")[0][0] == 0
    assert rows(pipeline_env, "SELECT count(*) FROM normalized.posts WHERE post_id = ?", [victim["id"]])[0][0] == 1
