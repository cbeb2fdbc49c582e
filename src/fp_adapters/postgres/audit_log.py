"""AuditLog (DLA) on Postgres: append-only decision records, idempotent on ``audit_id``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fp_adapters.postgres.base import JsonRecordLog
from fp_core.decisions import AuditRecord


class PgAuditLog(JsonRecordLog):
    table = "audit_log"
    columns = ("audit_id", "platform_run_id", "event_id", "record")

    def append(self, records: Sequence[AuditRecord]) -> int:
        return self.insert(self._rows(records))

    def rows_params(self, records: Sequence[AuditRecord]) -> list[str]:
        """``insert_sql``'s parameters for these records."""
        return self.insert_params(self._rows(records))

    @staticmethod
    def _rows(records: Sequence[AuditRecord]) -> list[tuple[str, ...]]:
        return [(r.audit_id, r.platform_run_id, r.decision.event_id, r.document) for r in records]

    def scan(self, platform_run_id: str) -> Iterator[AuditRecord]:
        for record in self.documents(platform_run_id):
            yield AuditRecord.model_validate_json(record)

    def documents(self, platform_run_id: str) -> Iterator[str]:
        with self.tx() as conn, conn.cursor(name="audit_scan") as cur:
            cur.itersize = 2_000
            cur.execute("SELECT record FROM audit_log WHERE platform_run_id = %s ORDER BY audit_id",
                        (platform_run_id,))
            for (record,) in cur:
                yield record

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[AuditRecord]:
        docs = self.select_documents("platform_run_id = %s AND event_id = ANY(%s)", (platform_run_id, list(event_ids)),
                              "audit_id")
        return [AuditRecord.model_validate_json(d) for d in docs]
