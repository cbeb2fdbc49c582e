"""LabelStore on Postgres: append-only label assertions."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.base import PgStore
from fp_core.labels import LabelAssertion


class PgLabelStore(PgStore):
    def append(self, assertions: Sequence[LabelAssertion]) -> int:
        if not assertions:
            return 0
        with self.tx() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO label_assertions (assertion_id, platform_run_id, event_id, record) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(a.assertion_id, a.subject.platform_run_id, a.subject.event_id, a.model_dump_json())
                 for a in assertions])
            return max(cur.rowcount, 0)

    def for_run(self, platform_run_id: str) -> list[LabelAssertion]:
        with self.tx() as conn:
            rows = conn.execute("SELECT record FROM label_assertions WHERE platform_run_id = %s "
                                "ORDER BY assertion_id", (platform_run_id,)).fetchall()
        return [LabelAssertion.model_validate_json(r[0]) for r in rows]
