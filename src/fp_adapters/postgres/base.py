"""A store over a connection pool; each call is one transaction on a checked-out connection, with
driver errors translated (a connection broken by a server restart is discarded by the pool)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from fp_adapters.postgres.connection import translated


class PgStore:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    @contextmanager
    def tx(self) -> Iterator[psycopg.Connection]:
        with translated(), self.pool.connection() as conn, conn.transaction():
            yield conn


class JsonRecordLog(PgStore):
    """An append-only table of JSON documents keyed by a derived id: inserting a known id is a no-op."""

    table: str
    columns: tuple[str, ...]

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """One pipelined round trip; each JSON document is bound as one parameter (no array escaping)."""
        if not rows:
            return 0
        placeholders = ", ".join(["%s"] * len(self.columns))
        with self.tx() as conn, conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({placeholders}) "
                            "ON CONFLICT DO NOTHING", rows)
            return max(cur.rowcount, 0)

    def documents(self, where: str, params: Sequence[Any], order: str) -> list[str]:
        with self.tx() as conn:
            rows = conn.execute(f"SELECT record FROM {self.table} WHERE {where} ORDER BY {order}", params).fetchall()
        return [r[0] for r in rows]
