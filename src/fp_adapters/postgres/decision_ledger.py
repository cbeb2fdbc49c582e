"""DecisionLedger on Postgres: a decision batch's audit records, action intents and outcomes in ONE
statement (one round trip, one transaction)."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from fp_adapters.postgres.action_log import acted, acting_params, acting_sql
from fp_adapters.postgres.audit_log import PgAuditLog
from fp_core.decisions import ActionOutcome, AuditRecord

LEDGER_SQL = acting_sql(f"audit AS ({PgAuditLog.insert_sql()}), ")
NEW_LEDGER_SQL = acting_sql(f"audit AS ({PgAuditLog.insert_sql(on_conflict=False)}), ", on_conflict=False)


class PgDecisionLedger:
    """Records a batch with plain inserts while batches are new (ON CONFLICT's speculative insertion costs
    Postgres more per row); a batch redone after a crash fails that statement whole, writing nothing, and
    is recorded record by record with ON CONFLICT, as are the batches after it until one is new (D58)."""

    def __init__(self, audit_log: PgAuditLog) -> None:
        self._audit = audit_log
        self._all_new = True

    def record(self, records: Sequence[AuditRecord]) -> list[ActionOutcome]:
        """The audit records and the intents they carry are durable together; an intent already recorded
        (a batch redone after a crash) gets no second outcome."""
        if not records:
            return []
        outcomes, acting = acting_params([r.intent for r in records])
        params = [*self._audit.rows_params(records), *acting]
        with self._audit.statement() as conn:
            if self._all_new:
                try:
                    return acted(conn, NEW_LEDGER_SQL, params, outcomes)
                except psycopg.errors.UniqueViolation:
                    pass  # recorded before, in part or whole: nothing was written by this statement
            done = acted(conn, LEDGER_SQL, params, outcomes)
            self._all_new = len(done) == len(outcomes)
            return done
