"""AdmissionIndex: first writer wins on the dedupe tuple; one round trip per batch when all are new."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import psycopg
from psycopg_pool import ConnectionPool

from fp_adapters.postgres.base import NewFirst, PgStore, column, split
from fp_core.admission import Claim, Sighting
from fp_core.identity import DedupeKey

INSERT_SQL = f"""
INSERT INTO admission_index (platform_run_id, event_class, event_id, payload_hash, receipt_id)
SELECT %(run)s, c, e, h, r FROM unnest({split("%(classes)s")}, {split("%(ids)s")}, {split("%(hashes)s")},
                                       {split("%(receipts)s")}) AS u(c, e, h, r)
"""
CLAIM_SQL = INSERT_SQL + """ON CONFLICT DO NOTHING
RETURNING event_class, event_id
"""

PRIOR_SQL = """
SELECT a.platform_run_id, a.event_class, a.event_id, a.payload_hash, EXISTS (
  SELECT 1 FROM published p WHERE p.platform_run_id = a.platform_run_id AND p.event_class = a.event_class
    AND p.event_id = a.event_id), EXISTS (
  SELECT 1 FROM tuple_receipts r WHERE r.platform_run_id = a.platform_run_id AND r.event_id = a.event_id
    AND r.event_class = a.event_class AND r.outcome = 'ADMIT')
FROM admission_index a
WHERE (a.platform_run_id, a.event_class, a.event_id) IN (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))
"""


def _columns(keys: Sequence[DedupeKey]) -> tuple[list[str], list[str], list[str]]:
    return [k.platform_run_id for k in keys], [k.event_class for k in keys], [k.event_id for k in keys]


def _insert_all(conn: psycopg.Connection, params: Mapping[str, str], keys: list[DedupeKey]) -> set[DedupeKey]:
    conn.execute(INSERT_SQL, params)
    return set(keys)


def _insert_new(conn: psycopg.Connection, params: Mapping[str, str], run: str,
                batch: int) -> tuple[set[DedupeKey], bool]:
    fresh = {DedupeKey(run, c, e) for c, e in conn.execute(CLAIM_SQL, params)}
    return fresh, len(fresh) == batch


class PgAdmissionIndex(PgStore):
    """Claims a batch with a plain INSERT while batches bring only new tuples (``NewFirst``; 57 vs 98 ms
    for 5,000 with ON CONFLICT ... RETURNING); a batch holding a claimed tuple is claimed with ON CONFLICT."""

    def __init__(self, pool: ConnectionPool) -> None:
        super().__init__(pool)
        self._writes = NewFirst()

    def claim(self, firsts: Mapping[DedupeKey, Sighting]) -> dict[DedupeKey, Claim]:
        keys = list(firsts)
        by_run: dict[str, list[DedupeKey]] = {}
        for k in keys:
            by_run.setdefault(k.platform_run_id, []).append(k)
        inserted: set[DedupeKey] = set()
        with self.statement() as conn:  # each statement its own transaction; a claim is idempotent
            for run, mine in by_run.items():
                params = {"run": run, "classes": column([k.event_class for k in mine]),
                          "ids": column([k.event_id for k in mine]),
                          "hashes": column([firsts[k].payload_hash for k in mine]),
                          "receipts": column([firsts[k].receipt_id for k in mine])}
                inserted |= self._writes.write(partial(_insert_all, conn, params, mine),
                                               partial(_insert_new, conn, params, run, len(mine)))
            # Conflicts: the insert waited for any concurrent winner to commit, so a new statement sees it.
            prior = [k for k in keys if k not in inserted]
            rows = conn.execute(PRIOR_SQL, _columns(prior)).fetchall() if prior else []
        out = {k: Claim(firsts[k].payload_hash, True, False, False) for k in inserted}
        out.update({DedupeKey(r[0], r[1], r[2]): Claim(r[3], False, bool(r[4]), bool(r[5])) for r in rows})
        return out

    def first_hashes(self, keys: Sequence[DedupeKey]) -> dict[DedupeKey, str]:
        with self.statement() as conn:
            rows = conn.execute(PRIOR_SQL, _columns(keys)).fetchall()
        return {DedupeKey(r[0], r[1], r[2]): r[3] for r in rows}
