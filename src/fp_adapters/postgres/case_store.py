"""CaseStore on Postgres: append-only case timelines."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.base import JsonRecordLog
from fp_core.cases import CaseTimelineEvent


class PgCaseStore(JsonRecordLog):
    table = "case_timeline"
    columns = ("event_id", "case_id", "platform_run_id", "record")

    def append(self, events: Sequence[CaseTimelineEvent]) -> int:
        return self.insert([(e.event_id, e.case_id, e.subject.platform_run_id, e.model_dump_json()) for e in events])

    def timeline(self, case_id: str) -> list[CaseTimelineEvent]:
        return [CaseTimelineEvent.model_validate_json(d)
                for d in self.select_documents("case_id = %s", (case_id,), "recorded_at, event_id")]

    def counts(self, platform_run_id: str) -> tuple[int, int]:
        with self.statement() as conn:
            row = conn.execute("SELECT count(DISTINCT case_id), count(*) FROM case_timeline "
                               "WHERE platform_run_id = %s", (platform_run_id,)).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])
