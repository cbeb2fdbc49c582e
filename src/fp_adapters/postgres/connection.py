"""Connections, migrations, and the translation of driver errors into core errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

import psycopg
from psycopg_pool import ConnectionPool

from fp_core.errors import AppendOnlyViolation, InvalidInput, TransientError

APPEND_ONLY_SQLSTATE = "FP001"
MIGRATIONS_LOCK = 7_310_001


def connect(dsn: str) -> psycopg.Connection:
    try:
        return psycopg.connect(dsn, autocommit=False, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise TransientError(f"postgres unreachable: {exc}") from exc


def open_pool(dsn: str, size: int, reconnect_s: float) -> ConnectionPool:
    """Connections re-established after a Postgres restart: each checkout is checked (one empty round
    trip) and a dead one replaced; a caller waits up to ``reconnect_s`` for the server to come back and
    then gets a TransientError naming Postgres. Connections are in autocommit: a single statement is its
    own transaction (one round trip, no BEGIN/COMMIT); work of several statements opens one explicitly
    (``PgStore.tx``)."""
    pool = ConnectionPool(dsn, min_size=1, max_size=size, timeout=reconnect_s, open=False,
                          check=ConnectionPool.check_connection, name="fp",
                          kwargs={"autocommit": True, "connect_timeout": 10})
    try:
        pool.open(wait=True, timeout=min(reconnect_s, 10.0))
    except psycopg.OperationalError as exc:
        pool.close()
        raise TransientError(f"postgres unreachable: {exc}") from exc
    return pool


@contextmanager
def translated() -> Iterator[None]:
    """Driver errors become core errors, so callers and contracts see one vocabulary."""
    try:
        yield
    except psycopg.Error as exc:
        if exc.sqlstate == APPEND_ONLY_SQLSTATE:
            raise AppendOnlyViolation(str(exc).splitlines()[0]) from exc
        if isinstance(exc, psycopg.OperationalError):
            raise TransientError(f"postgres: {exc}") from exc
        if isinstance(exc, psycopg.DataError):  # a value no column can hold (a NUL in text): the caller's input
            raise InvalidInput(f"postgres refused a value: {str(exc).splitlines()[0]}") from exc
        raise


def migrations() -> list[tuple[str, str]]:
    files = resources.files("fp_adapters.postgres").joinpath("migrations")
    return sorted((f.name, f.read_text()) for f in files.iterdir() if f.name.endswith(".sql"))


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply pending migrations in order, once, under an advisory lock; returns what was applied."""
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATIONS_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                     "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
        for name, sql in migrations():
            if name in done:
                continue
            conn.execute(sql.encode())
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (name,))
            applied.append(name)
    return applied
