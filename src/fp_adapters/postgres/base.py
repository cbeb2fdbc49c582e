"""A store bound to one connection; each call is one transaction with driver errors translated."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from fp_adapters.postgres.connection import translated


class PgStore:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    @contextmanager
    def tx(self) -> Iterator[psycopg.Connection]:
        with translated(), self.conn.transaction():
            yield self.conn
