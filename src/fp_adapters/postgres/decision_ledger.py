"""DecisionLedger on Postgres: a decision batch's audit records and action intents in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.action_log import PgActionLog
from fp_adapters.postgres.audit_log import PgAuditLog
from fp_core.decisions import ActionOutcome, AuditRecord


class PgDecisionLedger:
    def __init__(self, audit_log: PgAuditLog, action_log: PgActionLog) -> None:
        self._audit, self._actions = audit_log, action_log

    def record(self, records: Sequence[AuditRecord]) -> list[ActionOutcome]:
        """One commit per batch: the audit records and the intents they carry are durable together."""
        if not records:
            return []
        with self._audit.tx() as conn:
            self._audit.append_on(conn, records)
            return self._actions.execute_on(conn, [r.intent for r in records])
