"""ReceiptLog: receipts and publish records appended with COPY, one transaction per batch.

A receipt carries its own publish state and offset. A PUBLISHED publish record whose receipt, written in
the same batch, says the same (IG's every success) is therefore not copied again into ``publish_log``:
the receipt is its record. ``publish_log`` holds every other attempt — ambiguous ones with their error,
and publishes whose receipt was already stored by an earlier attempt (D7, D52)."""

from __future__ import annotations

from collections.abc import Sequence, Set

from psycopg_pool import ConnectionPool

from fp_adapters.postgres.base import NewFirst, PgStore
from fp_core.offsets import OriginOffset
from fp_core.receipts import PublishRecord, Receipt, ReceiptRow, publish_records, untold

RECEIPT_COLS = ("receipt_id, platform_run_id, scenario_run_id, event_class, event_id, event_type, outcome, "
                "reason, detail, payload_hash, publish_state, pub_topic, pub_partition, pub_offset")


NO_NESTED_LOOP = "SET LOCAL enable_nestloop = off"
UNRESOLVED_SQL = """
SELECT (SELECT count(*) FROM admission_index WHERE platform_run_id = %(r)s)
     - (SELECT count(*) FROM (SELECT DISTINCT event_class, event_id FROM published WHERE platform_run_id = %(r)s) t)
"""


STORED_SQL = f"SELECT {RECEIPT_COLS} FROM receipts WHERE platform_run_id = %s AND receipt_id = %s"


def _receipt(row: tuple[object, ...]) -> Receipt:
    topic, partition, offset = row[11], row[12], row[13]
    published = (OriginOffset(topic=str(topic), partition=int(str(partition)), offset=int(str(offset)))
                 if topic is not None else None)
    return Receipt.model_validate({
        "receipt_id": row[0], "platform_run_id": row[1], "scenario_run_id": row[2], "event_class": row[3],
        "event_id": row[4], "event_type": row[5], "outcome": row[6], "reason": row[7], "detail": row[8],
        "payload_hash": row[9], "publish_state": row[10], "published_at": published}, strict=False)


WRITE_COLS = f"{RECEIPT_COLS}, claimant"


def _row(r: ReceiptRow, claimants: Set[str]) -> tuple[object, ...]:
    at = r.published_at
    return (r.receipt_id, r.platform_run_id, r.scenario_run_id, r.event_class, r.event_id, r.event_type,
            r.outcome.value, r.reason.value if r.reason else None, r.detail, r.payload_hash,
            r.publish_state.value if r.publish_state else None, at.topic if at else None,
            at.partition if at else None, at.offset if at else None, r.receipt_id in claimants)


class PgReceiptLog(PgStore):
    def __init__(self, pool: ConnectionPool) -> None:
        super().__init__(pool)
        self._writes = NewFirst()

    def append(self, receipts: Sequence[ReceiptRow], publishes: Sequence[PublishRecord],
               claimants: Set[str] = frozenset()) -> None:
        """COPY while batches are new (``NewFirst``); a batch whose receipt ids are already there (IG
        re-submitted after a crash) keeps the receipts written first and adds only the missing ones —
        never a second one — and logs every publish it tells of (the stored receipts may tell of an
        earlier attempt). A claimant is marked so: the partial index by event holds only the others (D65)."""
        def skipping() -> tuple[int, bool]:
            added = self._append(receipts, claimants, publish_records(receipts, publishes), fast=False)
            return added, added == len(receipts)
        self._writes.write(lambda: self._append(receipts, claimants, untold(receipts, publishes), fast=True),
                           skipping)

    def _append(self, receipts: Sequence[ReceiptRow], claimants: Set[str], publishes: Sequence[PublishRecord],
                fast: bool) -> int:
        """The receipts written (every one on the fast path, which fails whole on a known id)."""
        with self.tx() as conn, conn.cursor() as cur:
            if fast:
                with cur.copy(f"COPY receipts ({WRITE_COLS}) FROM STDIN") as cp:
                    for r in receipts:
                        cp.write_row(_row(r, claimants))
                added = len(receipts)
            else:
                cur.executemany(f"INSERT INTO receipts ({WRITE_COLS}) VALUES ({', '.join(['%s'] * 15)}) "
                                "ON CONFLICT (platform_run_id, receipt_id) DO NOTHING",
                                [_row(r, claimants) for r in receipts])
                added = max(cur.rowcount, 0)
            if publishes:
                with cur.copy("COPY publish_log (platform_run_id, event_class, event_id, state, pub_topic, "
                              "pub_partition, pub_offset, error) FROM STDIN") as cp:
                    for p in publishes:
                        at = p.published_at
                        cp.write_row((p.platform_run_id, p.event_class, p.event_id, p.state.value,
                                      at.topic if at else None, at.partition if at else None,
                                      at.offset if at else None, p.error))
        return added

    def stored(self, platform_run_id: str, receipt_ids: Sequence[str]) -> dict[str, Receipt]:
        """One key lookup per id, pipelined in one round trip. `receipt_id = ANY(...)` on the key's second
        column was planned, for a run newer than the table's statistics, as a filter over the run's every
        receipt (20,000 rows read for one id: IG's check before every batch grew with the run; D58)."""
        if not receipt_ids:
            return {}
        rows: list[tuple[object, ...]] = []
        with self.statement() as conn, conn.cursor() as cur:
            cur.executemany(STORED_SQL, [(platform_run_id, rid) for rid in receipt_ids], returning=True)
            while True:
                rows.extend(cur.fetchall())
                if not cur.nextset():
                    break
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
            # By tuple (D65): a claimant through the admission index's key, every other through the partial index.
            rows = conn.execute(f"SELECT {RECEIPT_COLS} FROM tuple_receipts WHERE platform_run_id = %s "
                                "AND event_id = ANY(%s) ORDER BY receipt_id",
                                (platform_run_id, list(event_ids))).fetchall()
        return [_receipt(r) for r in rows]

    def sample(self, platform_run_id: str, limit: int) -> list[Receipt]:
        with self.statement() as conn:
            rows = conn.execute(f"SELECT {RECEIPT_COLS} FROM receipts WHERE platform_run_id = %s "
                                "ORDER BY receipt_id LIMIT %s", (platform_run_id, limit)).fetchall()
        return [_receipt(r) for r in rows]

    def unresolved_publishes(self, platform_run_id: str) -> int:
        # Two linear counts instead of a correlated anti-join, and no nested loop for the view's join of
        # claims and their receipts: a fresh, not yet analysed table must not turn run closure quadratic
        # (seen: 400 s for 100k events before autovacuum analysed it; 10 s for 8,000 through the join, D65).
        with self.tx() as conn:
            conn.execute(NO_NESTED_LOOP)
            row = conn.execute(UNRESOLVED_SQL, {"r": platform_run_id}).fetchone()
        return int(row[0]) if row else 0
