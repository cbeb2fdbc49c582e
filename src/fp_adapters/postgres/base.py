"""A store over a connection pool; each call is one transaction on a checked-out connection, with
driver errors translated (a connection broken by a server restart is discarded by the pool)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool

from fp_adapters.postgres.connection import translated
from fp_core.identity import ID_SEPARATOR, unit_separated

T = TypeVar("T")


class NewFirst:
    """Writes a batch with a statement that fails whole on a key already stored (a plain INSERT or COPY,
    no per-row conflict handling: ON CONFLICT's speculative insertion costs Postgres more per row) while
    batches are new. A batch that fails it, and each batch after it until one is all new again, is
    written by the statement that skips stored keys (D58)."""

    def __init__(self) -> None:
        self._all_new = True

    def write(self, plain: Callable[[], T], skipping: Callable[[], tuple[T, bool]]) -> T:
        """``plain()``, or ``skipping()`` (which returns its result and whether the batch was all new)."""
        if self._all_new:
            try:
                return plain()
            except psycopg.errors.UniqueViolation:
                pass  # the statement failed whole: nothing was written
        out, self._all_new = skipping()
        return out


def column(values: Sequence[str]) -> str:
    """A text column as one parameter, split back by ``split(...)`` in SQL: psycopg's array dumper costs a
    Python call per element, a join costs nothing per element. The ASCII unit separator is in no
    identifier, hex hash or JSON document (which escapes control characters); each value is led by it,
    so an empty value survives the split."""
    return ID_SEPARATOR + unit_separated(values, "a column's values")


def split(param: str) -> str:
    """SQL for the array a ``column(...)`` parameter holds."""
    return f"(string_to_array({param}, E'\\x1f'))[2:]"


def unnested(n: int) -> str:
    """SQL for ``n`` consecutive ``column(...)`` parameters as arrays, for ``unnest``."""
    return ", ".join([split("%s")] * n)


class PgStore:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    @contextmanager
    def tx(self) -> Iterator[psycopg.Connection]:
        """A transaction for work of several statements."""
        with translated(), self.pool.connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def statement(self) -> Iterator[psycopg.Connection]:
        """A connection for ONE statement, which is its own transaction (the pool's connections are in
        autocommit): a round trip instead of three."""
        with translated(), self.pool.connection() as conn:
            yield conn


class JsonRecordLog(PgStore):
    """An append-only table of JSON documents keyed by a derived id: inserting a known id is a no-op."""

    table: str
    columns: tuple[str, ...]

    def insert(self, rows: Sequence[tuple[str, ...]]) -> int:
        """One statement per batch, each column one text parameter (rows keep their order)."""
        if not rows:
            return 0
        with self.statement() as conn:
            return self.insert_on(conn, rows)

    def insert_on(self, conn: psycopg.Connection, rows: Sequence[tuple[str, ...]]) -> int:
        """``insert`` on the caller's connection."""
        with conn.cursor() as cur:
            cur.execute(self.insert_sql(), self.insert_params(rows))
            return max(cur.rowcount, 0)

    @classmethod
    def insert_sql(cls, on_conflict: bool = True) -> str:
        """The batch insert: one ``column(...)`` parameter per column, in ``columns`` order; a known id is
        skipped (``on_conflict``) or fails the statement."""
        return (f"INSERT INTO {cls.table} ({', '.join(cls.columns)}) "
                f"SELECT * FROM unnest({unnested(len(cls.columns))})" + (" ON CONFLICT DO NOTHING" if on_conflict
                                                                          else ""))

    @staticmethod
    def insert_params(rows: Sequence[tuple[str, ...]]) -> list[str]:
        return [column(values) for values in zip(*rows, strict=True)]

    def select_documents(self, where: str, params: Sequence[Any], order: str) -> list[str]:
        with self.statement() as conn:
            rows = conn.execute(f"SELECT record FROM {self.table} WHERE {where} ORDER BY {order}", params).fetchall()
        return [r[0] for r in rows]
