"""ReceiptLog: receipts and publish records appended with COPY, one transaction per batch.

A receipt carries its own publish state and offset. A PUBLISHED publish record whose receipt, written in
the same batch, says the same (IG's every success) is therefore not copied again into ``publish_log``:
the receipt is its record. ``publish_log`` holds every other attempt — ambiguous ones with their error,
and publishes whose receipt was already stored by an earlier attempt (D7, D52)."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from fp_adapters.postgres.base import PgStore
from fp_core.offsets import OriginOffset
from fp_core.receipts import PublishRecord, Receipt, publish_records, untold

RECEIPT_COLS = ("receipt_id, platform_run_id, scenario_run_id, event_class, event_id, event_type, outcome, "
                "reason, detail, payload_hash, publish_state, pub_topic, pub_partition, pub_offset")


STORED_ONE_SQL = f"SELECT {RECEIPT_COLS} FROM receipts WHERE platform_run_id = %s AND receipt_id = %s"
STORED_SQL = f"SELECT {RECEIPT_COLS} FROM receipts WHERE platform_run_id = %s AND receipt_id = ANY(%s)"


def _receipt(row: tuple[object, ...]) -> Receipt:
    topic, partition, offset = row[11], row[12], row[13]
    published = (OriginOffset(topic=str(topic), partition=int(str(partition)), offset=int(str(offset)))
                 if topic is not None else None)
    return Receipt.model_validate({
        "receipt_id": row[0], "platform_run_id": row[1], "scenario_run_id": row[2], "event_class": row[3],
        "event_id": row[4], "event_type": row[5], "outcome": row[6], "reason": row[7], "detail": row[8],
        "payload_hash": row[9], "publish_state": row[10], "published_at": published}, strict=False)


def _row(r: Receipt) -> tuple[object, ...]:
    at = r.published_at
    return (r.receipt_id, r.platform_run_id, r.scenario_run_id, r.event_class, r.event_id, r.event_type,
            r.outcome.value, r.reason.value if r.reason else None, r.detail, r.payload_hash,
            r.publish_state.value if r.publish_state else None, at.topic if at else None,
            at.partition if at else None, at.offset if at else None)


class PgReceiptLog(PgStore):
    def append(self, receipts: Sequence[Receipt], publishes: Sequence[PublishRecord]) -> None:
        """COPY (the fast path); a batch whose receipt ids are already there (IG re-submitted after a
        crash) keeps the receipts written first and adds only the missing ones — never a second one —
        and logs every publish it tells of (the stored receipts may tell of an earlier attempt)."""
        try:
            self._append(receipts, untold(receipts, publishes), fast=True)
        except psycopg.errors.UniqueViolation:
            self._append(receipts, publish_records(receipts, publishes), fast=False)

    def _append(self, receipts: Sequence[Receipt], publishes: Sequence[PublishRecord], fast: bool) -> None:
        with self.tx() as conn, conn.cursor() as cur:
            if fast:
                with cur.copy(f"COPY receipts ({RECEIPT_COLS}) FROM STDIN") as cp:
                    for r in receipts:
                        cp.write_row(_row(r))
            else:
                cur.executemany(f"INSERT INTO receipts ({RECEIPT_COLS}) VALUES ({', '.join(['%s'] * 14)}) "
                                "ON CONFLICT (platform_run_id, receipt_id) DO NOTHING", [_row(r) for r in receipts])
            if publishes:
                with cur.copy("COPY publish_log (platform_run_id, event_class, event_id, state, pub_topic, "
                              "pub_partition, pub_offset, error) FROM STDIN") as cp:
                    for p in publishes:
                        at = p.published_at
                        cp.write_row((p.platform_run_id, p.event_class, p.event_id, p.state.value,
                                      at.topic if at else None, at.partition if at else None,
                                      at.offset if at else None, p.error))

    def stored(self, platform_run_id: str, receipt_ids: Sequence[str]) -> dict[str, Receipt]:
        # IG asks for ONE id before every batch (has this submission been answered?): an equality on both
        # key columns is always an index lookup. `receipt_id = ANY(...)` on the key's second column may be
        # planned as a filter over the run's every receipt when the run is newer than the table's
        # statistics (seen: 20,000 rows read for one id, a scan growing with the run: quadratic; D58).
        sql, param = (STORED_ONE_SQL, receipt_ids[0]) if len(receipt_ids) == 1 else (STORED_SQL, list(receipt_ids))
        with self.statement() as conn:
            rows = conn.execute(sql, (platform_run_id, param)).fetchall()
        return {r.receipt_id: r for r in map(_receipt, rows)}

    def counts(self, platform_run_id: str) -> dict[str, dict[str, int]]:
        with self.statement() as conn:
            rows = conn.execute("SELECT event_class, outcome, count(*) FROM receipts WHERE platform_run_id = %s "
                                "GROUP BY 1, 2 ORDER BY 1, 2", (platform_run_id,)).fetchall()
        out: dict[str, dict[str, int]] = {}
        for cls, outcome, n in rows:
            out.setdefault(cls, {})[outcome] = n
        return out

    def reason_counts(self, platform_run_id: str) -> dict[str, int]:
        with self.statement() as conn:
            rows = conn.execute("SELECT reason, count(*) FROM receipts WHERE platform_run_id = %s "
                                "AND reason IS NOT NULL GROUP BY 1 ORDER BY 1", (platform_run_id,)).fetchall()
        return dict(rows)

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[Receipt]:
        with self.statement() as conn:
            rows = conn.execute(f"SELECT {RECEIPT_COLS} FROM receipts WHERE platform_run_id = %s "
                                "AND event_id = ANY(%s) ORDER BY receipt_id",
                                (platform_run_id, list(event_ids))).fetchall()
        return [_receipt(r) for r in rows]

    def sample(self, platform_run_id: str, limit: int) -> list[Receipt]:
        with self.statement() as conn:
            rows = conn.execute(f"SELECT {RECEIPT_COLS} FROM receipts WHERE platform_run_id = %s "
                                "ORDER BY receipt_id LIMIT %s", (platform_run_id, limit)).fetchall()
        return [_receipt(r) for r in rows]

    def unresolved_publishes(self, platform_run_id: str) -> int:
        # Two linear counts instead of a correlated anti-join: a fresh, not yet analysed table must not
        # turn run closure quadratic (seen: 400 s for 100k events before autovacuum analysed it).
        sql = """
        SELECT (SELECT count(*) FROM admission_index WHERE platform_run_id = %(r)s)
             - (SELECT count(*) FROM (SELECT DISTINCT event_class, event_id FROM published
                                      WHERE platform_run_id = %(r)s) tuples)
        """
        with self.statement() as conn:
            row = conn.execute(sql, {"r": platform_run_id}).fetchone()
        return int(row[0]) if row else 0
