"""Where limiter, breaker and token state is kept, so every process using a credential shares it.

A store holds small JSON documents by key and offers one operation that matters:
`transact(key, change, ttl)` reads the document, applies `change` and writes the result, with no
other process writing that key in between. `change` may run more than once (Redis retries on a
conflict), so it must be a pure function of the document it is given.

- `SQLiteStore`: one file on this machine, no server (the default, next to the warehouse);
- `RedisStore` and `PostgresStore`: shared across machines;
- `MemoryStore`: one process (the in-process sandbox, unit tests).

`open_store(url)` picks one from `SOCIAL_LIMIT_STORE`'s forms: a file path or `sqlite:///path`,
`redis://...`, `postgresql://...`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol, TypeVar

T = TypeVar("T")
Document = dict[str, Any]
Change = Callable[[Document | None], tuple[Document | None, T]]


class StateStore(Protocol):
    def transact(self, key: str, change: Change[T], ttl: float) -> T:
        """Apply `change` to the document at `key` atomically; keep the result for `ttl` seconds
        (a None result deletes the document). Returns what `change` returned beside it."""
        ...

    def read(self, key: str) -> Document | None: ...

    def close(self) -> None: ...


class MemoryStore:
    """A store private to this process (a lock and a dict)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._documents: dict[str, tuple[str, float]] = {}

    def transact(self, key: str, change: Change[T], ttl: float) -> T:
        with self._lock:
            new, result = change(self._load(key))
            if new is None:
                self._documents.pop(key, None)
            else:
                # Kept serialized, so no caller can alias (and later mutate) what is stored.
                self._documents[key] = (json.dumps(new), time.time() + ttl)
            return result

    def read(self, key: str) -> Document | None:
        with self._lock:
            return self._load(key)

    def close(self) -> None:
        pass

    def _load(self, key: str) -> Document | None:
        stored = self._documents.get(key)
        if stored is None or stored[1] <= time.time():
            return None
        return json.loads(stored[0])


class SQLiteStore:
    """A SQLite file shared by the processes of one machine. `BEGIN IMMEDIATE` takes the write
    lock before reading, so two processes never interleave a read-modify-write."""

    TABLE = "limit_state"

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        connection = self._connection()
        self._use_wal(connection)
        connection.execute("BEGIN IMMEDIATE")  # the write lock first, so the busy timeout applies
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self.TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL NOT NULL)"
        )
        connection.execute(f"DELETE FROM {self.TABLE} WHERE expires_at <= ?", (time.time(),))
        connection.execute("COMMIT")

    def _use_wal(self, connection: sqlite3.Connection) -> None:
        """WAL, so readers never block the writer. Switching needs the file to itself, and SQLite
        answers "locked" at once (no busy wait) while another process opens it too: try again."""
        for _ in range(200):
            try:
                if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                time.sleep(0.05)
        raise sqlite3.OperationalError(f"could not switch {self.path.name} to WAL: the file stays locked")

    def transact(self, key: str, change: Change[T], ttl: float) -> T:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            now = time.time()
            row = connection.execute(
                f"SELECT value FROM {self.TABLE} WHERE key = ? AND expires_at > ?", (key, now)
            ).fetchone()
            new, result = change(json.loads(row[0]) if row else None)
            if new is None:
                connection.execute(f"DELETE FROM {self.TABLE} WHERE key = ?", (key,))
            else:
                connection.execute(
                    f"INSERT OR REPLACE INTO {self.TABLE} (key, value, expires_at) VALUES (?, ?, ?)",
                    (key, json.dumps(new), now + ttl),
                )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return result

    def read(self, key: str) -> Document | None:
        row = self._connection().execute(
            f"SELECT value FROM {self.TABLE} WHERE key = ? AND expires_at > ?", (key, time.time())
        ).fetchone()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread, and a new one after a fork: SQLite connections must not
        # cross either boundary.
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            connection.execute("PRAGMA busy_timeout=30000")
            # Two commits per API call: skip the fsync of each (WAL stays consistent; a power
            # cut may forget the last counts, which the next response's headers restore).
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection


class RedisStore:
    """Documents as Redis strings under `prefix`, updated in WATCH/MULTI transactions (redis-py
    retries the change when another client wrote the key in between)."""

    def __init__(self, url: str, prefix: str = "social_assets:"):
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(url)

    def transact(self, key: str, change: Change[T], ttl: float) -> T:
        name = self.prefix + key
        results: list[T] = []

        def attempt(pipe: Any) -> None:
            raw = pipe.get(name)
            new, result = change(json.loads(raw) if raw else None)
            pipe.multi()
            if new is None:
                pipe.delete(name)
            else:
                pipe.set(name, json.dumps(new), px=max(1, int(ttl * 1000)))
            results[:] = [result]

        self.client.transaction(attempt, name)
        return results[0]

    def read(self, key: str) -> Document | None:
        raw = self.client.get(self.prefix + key)
        return json.loads(raw) if raw else None

    def close(self) -> None:
        self.client.close()


class PostgresStore:
    """Documents in one table; `SELECT ... FOR UPDATE` serializes writers of a key. `schema`
    (default: the connection's search_path) lets tests use a fresh schema each."""

    def __init__(self, dsn: str, schema: str | None = None, table: str = "social_limit_state"):
        from psycopg2 import sql

        self._dsn = dsn
        self._local = threading.local()
        self._table = sql.Identifier(schema, table) if schema else sql.Identifier(table)
        with self._connection() as connection, connection.cursor() as cursor:
            # Serialize the CREATE: two processes creating the table at once would collide.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"social_assets:{schema}.{table}",))
            cursor.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (key TEXT PRIMARY KEY, value TEXT, expires_at DOUBLE PRECISION NOT NULL)"
                ).format(self._table)
            )
            cursor.execute(sql.SQL("DELETE FROM {} WHERE expires_at <= %s").format(self._table), (time.time(),))

    def transact(self, key: str, change: Change[T], ttl: float) -> T:
        from psycopg2 import sql

        with self._connection() as connection, connection.cursor() as cursor:  # one transaction
            cursor.execute(
                sql.SQL("INSERT INTO {} (key, value, expires_at) VALUES (%s, NULL, 0) ON CONFLICT (key) DO NOTHING")
                .format(self._table), (key,),
            )
            cursor.execute(sql.SQL("SELECT value, expires_at FROM {} WHERE key = %s FOR UPDATE").format(self._table), (key,))
            value, expires_at = cursor.fetchone()
            now = time.time()
            new, result = change(json.loads(value) if value and expires_at > now else None)
            cursor.execute(
                sql.SQL("UPDATE {} SET value = %s, expires_at = %s WHERE key = %s").format(self._table),
                (None if new is None else json.dumps(new), 0 if new is None else now + ttl, key),
            )
        return result

    def read(self, key: str) -> Document | None:
        from psycopg2 import sql

        with self._connection() as connection, connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("SELECT value FROM {} WHERE key = %s AND expires_at > %s").format(self._table), (key, time.time())
            )
            row = cursor.fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _connection(self) -> Any:
        import psycopg2

        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed or self._local.pid != os.getpid():
            connection = psycopg2.connect(self._dsn)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection


def open_store(url: str) -> StateStore:
    """The store a `SOCIAL_LIMIT_STORE` value names. Errors name the scheme, never the URL (it
    may hold a password)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("redis", "rediss", "unix"):
        return RedisStore(url)
    if scheme in ("postgresql", "postgres"):
        return PostgresStore(url)
    if scheme == "sqlite":  # as SQLAlchemy spells it: sqlite:///relative/path, sqlite:////absolute/path
        return SQLiteStore(url[len("sqlite:///"):])
    if scheme == "":
        return SQLiteStore(url)
    raise ValueError(
        f"SOCIAL_LIMIT_STORE: unknown store type {scheme!r}; use a file path, sqlite:///path, redis://... or postgresql://..."
    )
