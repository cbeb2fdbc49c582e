"""ActionLog (AL) on Postgres: each idempotency key executes at most once."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.base import PgStore
from fp_core.decisions import ActionIntent, ActionOutcome, outcome_for


class PgActionLog(PgStore):
    def execute(self, intents: Sequence[ActionIntent]) -> list[ActionOutcome]:
        if not intents:
            return []
        with self.tx() as conn:
            rows = conn.execute(
                "INSERT INTO action_intents (idempotency_key, decision_id, platform_run_id, action) "
                "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING "
                "RETURNING idempotency_key",
                ([i.idempotency_key for i in intents], [i.decision_id for i in intents],
                 [i.platform_run_id for i in intents], [i.action.value for i in intents])).fetchall()
            fresh = {r[0] for r in rows}
            outcomes = [outcome_for(i) for i in intents if i.idempotency_key in fresh]
            if outcomes:
                conn.execute(
                    "INSERT INTO action_outcomes (outcome_id, idempotency_key, platform_run_id, action, status) "
                    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])",
                    ([o.outcome_id for o in outcomes], [o.idempotency_key for o in outcomes],
                     [o.platform_run_id for o in outcomes], [o.action.value for o in outcomes],
                     [o.status for o in outcomes]))
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
