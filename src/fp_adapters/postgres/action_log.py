"""ActionLog (AL) on Postgres: each idempotency key executes at most once."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from fp_adapters.postgres.base import PgStore, column, split
from fp_core.decisions import ActionIntent, ActionOutcome, outcome_for

INTENTS_SQL = (f"INSERT INTO action_intents (idempotency_key, decision_id, platform_run_id, action) "
               f"SELECT * FROM unnest({', '.join([split('%s')] * 4)}) ON CONFLICT DO NOTHING RETURNING idempotency_key")
OUTCOMES_SQL = (f"INSERT INTO action_outcomes (outcome_id, idempotency_key, platform_run_id, action, status) "
                f"SELECT * FROM unnest({', '.join([split('%s')] * 5)})")


class PgActionLog(PgStore):
    def execute(self, intents: Sequence[ActionIntent]) -> list[ActionOutcome]:
        if not intents:
            return []
        with self.tx() as conn:
            return self.execute_on(conn, intents)

    @staticmethod
    def execute_on(conn: psycopg.Connection, intents: Sequence[ActionIntent]) -> list[ActionOutcome]:
        """``execute`` inside the caller's transaction."""
        if not intents:
            return []
        rows = conn.execute(INTENTS_SQL, (
            column([i.idempotency_key for i in intents]), column([i.decision_id for i in intents]),
            column([i.platform_run_id for i in intents]), column([i.action.value for i in intents]))).fetchall()
        fresh = {r[0] for r in rows}
        outcomes = [outcome_for(i) for i in intents if i.idempotency_key in fresh]
        if outcomes:
            conn.execute(OUTCOMES_SQL, (
                column([o.outcome_id for o in outcomes]), column([o.idempotency_key for o in outcomes]),
                column([o.platform_run_id for o in outcomes]), column([o.action.value for o in outcomes]),
                column([o.status for o in outcomes])))
        return outcomes

    def outcome_counts(self, platform_run_id: str) -> dict[str, int]:
        sql = """
        SELECT (SELECT count(*) FROM action_intents WHERE platform_run_id = %(r)s),
               (SELECT count(*) FROM action_outcomes WHERE platform_run_id = %(r)s),
               (SELECT count(*) - count(DISTINCT i.decision_id) FROM action_outcomes o
                  JOIN action_intents i USING (platform_run_id, idempotency_key) WHERE o.platform_run_id = %(r)s)
        """
        with self.tx() as conn:
            row = conn.execute(sql, {"r": platform_run_id}).fetchone()
        assert row is not None
        return {"intents": int(row[0]), "outcomes": int(row[1]), "duplicate_outcomes": int(row[2])}
