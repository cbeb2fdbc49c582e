"""DecisionLedger on Postgres: a decision batch's audit records, action intents and outcomes in ONE
statement (one round trip, one transaction)."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.action_log import acted, acting_params, acting_sql
from fp_adapters.postgres.audit_log import PgAuditLog
from fp_adapters.postgres.base import NewFirst
from fp_core.decisions import ActionOutcome, AuditRecord

LEDGER_SQL = acting_sql(f"audit AS ({PgAuditLog.insert_sql()}), ")
NEW_LEDGER_SQL = acting_sql(f"audit AS ({PgAuditLog.insert_sql(on_conflict=False)}), ", on_conflict=False)


class PgDecisionLedger:
    """A batch with plain inserts while batches are new (``NewFirst``); one redone after a crash with
    ON CONFLICT, so a recorded intent gets no second outcome."""

    def __init__(self, audit_log: PgAuditLog) -> None:
        self._audit = audit_log
        self._writes = NewFirst()

    def record(self, records: Sequence[AuditRecord]) -> list[ActionOutcome]:
        """The audit records and the intents they carry are durable together; an intent already recorded
        (a batch redone after a crash) gets no second outcome."""
        if not records:
            return []
        outcomes, acting = acting_params([r.intent for r in records])
        params = [*self._audit.rows_params(records), *acting]
        with self._audit.statement() as conn:
            def skipping() -> tuple[list[ActionOutcome], bool]:
                done = acted(conn, LEDGER_SQL, params, outcomes)
                return done, len(done) == len(outcomes)
            return self._writes.write(lambda: acted(conn, NEW_LEDGER_SQL, params, outcomes), skipping)
