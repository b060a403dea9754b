"""Each state store against the real thing: a SQLite file, this machine's Redis and PostgreSQL.
What the limiter relies on: a read-modify-write that no other process can interleave."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from social_assets.core.limits.store import MemoryStore, SQLiteStore, open_store

INCREMENTS = 40
PROCESSES = 4


def _increment(document):
    count = (document or {}).get("count", 0)
    return {"count": count + 1}, count + 1


def _increment_many(url: str, counter: str) -> None:
    store = open_store(url)
    for _ in range(INCREMENTS):
        store.transact(counter, _increment, ttl=60)
    store.close()


def test_a_change_is_applied_and_read_back(store, key):
    assert store.read(key + "doc") is None
    assert store.transact(key + "doc", lambda doc: ({"n": [1, 2], "doc_was": doc}, "result"), ttl=60) == "result"
    assert store.read(key + "doc") == {"n": [1, 2], "doc_was": None}
    store.transact(key + "doc", lambda doc: (None, None), ttl=60)  # None deletes
    assert store.read(key + "doc") is None


def test_documents_expire(store, key):
    store.transact(key + "short", lambda doc: ({"v": 1}, None), ttl=0.3)
    store.transact(key + "long", lambda doc: ({"v": 2}, None), ttl=60)
    time.sleep(0.5)
    assert store.read(key + "short") is None and store.read(key + "long") == {"v": 2}
    assert store.transact(key + "short", lambda doc: (doc, doc), ttl=60) is None  # expired reads as absent


def test_a_failing_change_writes_nothing(store, key):
    store.transact(key + "keep", lambda doc: ({"v": 1}, None), ttl=60)

    def broken(doc):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.transact(key + "keep", broken, ttl=60)
    assert store.read(key + "keep") == {"v": 1}
    store.transact(key + "keep", lambda doc: ({"v": doc["v"] + 1}, None), ttl=60)  # still usable
    assert store.read(key + "keep") == {"v": 2}


def test_processes_never_interleave_a_read_modify_write(store_url, key):
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_increment_many, args=(store_url, key + "counter")) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    store = open_store(store_url)
    assert store.read(key + "counter") == {"count": PROCESSES * INCREMENTS}
    store.close()


def _open_and_increment(path: str, start) -> None:
    start.wait()
    open_store(path).transact("test/counter", _increment, ttl=60)


def test_processes_can_create_the_same_sqlite_file_at_once(tmp_path):
    context = multiprocessing.get_context("fork")
    start = context.Event()
    path = str(tmp_path / "new.sqlite")
    workers = [context.Process(target=_open_and_increment, args=(path, start)) for _ in range(8)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * 8
    assert open_store(path).read("test/counter") == {"count": 8}


def test_open_store_understands_the_settings_forms_and_hides_the_url(tmp_path):
    assert isinstance(open_store(str(tmp_path / "a.sqlite")), SQLiteStore)
    opened = open_store(f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert isinstance(opened, SQLiteStore) and opened.path == tmp_path / "b.sqlite"
    with pytest.raises(ValueError) as refused:
        open_store("mongodb://admin:hunter2@db.example.com/limits")
    assert "'mongodb'" in str(refused.value) and "hunter2" not in str(refused.value)


def test_the_memory_store_keeps_copies():
    store = MemoryStore()
    kept = {"list": [1]}
    store.transact("k", lambda doc: (kept, None), ttl=60)
    kept["list"].append(2)
    assert store.read("k") == {"list": [1]}
