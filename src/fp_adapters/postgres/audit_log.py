"""AuditLog (DLA) on Postgres: append-only decision records, idempotent on ``audit_id``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from fp_adapters.postgres.base import PgStore
from fp_core.decisions import AuditRecord


class PgAuditLog(PgStore):
    def append(self, records: Sequence[AuditRecord]) -> int:
        if not records:
            return 0
        # executemany runs pipelined (one round trip) and binds each JSON document as one parameter,
        # which avoids escaping large strings inside a text[] literal.
        with self.tx() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit_log (audit_id, platform_run_id, event_id, record) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [(r.audit_id, r.platform_run_id, r.decision.event_id, r.model_dump_json()) for r in records],
                returning=False)
            return max(cur.rowcount, 0)

    def scan(self, platform_run_id: str) -> Iterator[AuditRecord]:
        with self.tx() as conn, conn.cursor(name="audit_scan") as cur:
            cur.itersize = 2_000
            cur.execute("SELECT record FROM audit_log WHERE platform_run_id = %s ORDER BY audit_id",
                        (platform_run_id,))
            for (record,) in cur:
                yield AuditRecord.model_validate_json(record)

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[AuditRecord]:
        with self.tx() as conn:
            rows = conn.execute("SELECT record FROM audit_log WHERE platform_run_id = %s AND event_id = ANY(%s) "
                                "ORDER BY audit_id", (platform_run_id, list(event_ids))).fetchall()
        return [AuditRecord.model_validate_json(r[0]) for r in rows]
