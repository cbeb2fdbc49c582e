"""CaseStore on Postgres: append-only case timelines."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.base import PgStore
from fp_core.cases import CaseTimelineEvent


class PgCaseStore(PgStore):
    def append(self, events: Sequence[CaseTimelineEvent]) -> int:
        if not events:
            return 0
        with self.tx() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO case_timeline (event_id, case_id, platform_run_id, record) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [(e.event_id, e.case_id, e.subject.platform_run_id, e.model_dump_json()) for e in events])
            return max(cur.rowcount, 0)

    def timeline(self, case_id: str) -> list[CaseTimelineEvent]:
        with self.tx() as conn:
            rows = conn.execute("SELECT record FROM case_timeline WHERE case_id = %s "
                                "ORDER BY recorded_at, event_id", (case_id,)).fetchall()
        return [CaseTimelineEvent.model_validate_json(r[0]) for r in rows]

    def counts(self, platform_run_id: str) -> tuple[int, int]:
        with self.tx() as conn:
            row = conn.execute("SELECT count(DISTINCT case_id), count(*) FROM case_timeline "
                               "WHERE platform_run_id = %s", (platform_run_id,)).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
