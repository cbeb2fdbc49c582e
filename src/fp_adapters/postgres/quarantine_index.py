"""QuarantineIndex on Postgres: keyed by dedupe tuple + reason (+ receipt); never overwritten."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.base import PgStore
from fp_core.receipts import QuarantineRecord

COLS = ("platform_run_id, event_class, event_id, reason, receipt_id, quarantine_id, detail, payload_hash, "
        "object_key, line")


class PgQuarantineIndex(PgStore):
    def record(self, entries: Sequence[QuarantineRecord]) -> None:
        if not entries:
            return
        with self.tx() as conn, conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO quarantine_index ({COLS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [(e.platform_run_id, e.event_class, e.event_id, e.reason.value, e.receipt_id, e.quarantine_id,
                  e.detail, e.payload_hash, e.object_key, e.line) for e in entries])

    def for_run(self, platform_run_id: str) -> list[QuarantineRecord]:
        with self.statement() as conn:
            rows = conn.execute(f"SELECT {COLS} FROM quarantine_index WHERE platform_run_id = %s "
                                "ORDER BY receipt_id", (platform_run_id,)).fetchall()
        return [QuarantineRecord.model_validate(dict(zip(COLS.split(", "), r, strict=True)), strict=False)
                for r in rows]
