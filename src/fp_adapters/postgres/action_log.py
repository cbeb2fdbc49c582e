"""ActionLog (AL) on Postgres: each idempotency key executes at most once."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from fp_adapters.postgres.base import PgStore, column, unnested
from fp_core.decisions import ActionIntent, ActionOutcome, outcome_for

INTENT_COLUMNS = "idempotency_key, decision_id, platform_run_id, action"
OUTCOME_COLUMNS = "outcome_id, idempotency_key, platform_run_id, action, status"


def acting_sql(before: str = "", on_conflict: bool = True) -> str:
    """ONE statement that records the intents (each key once) and an outcome for each intent it inserted,
    returning their keys; ``before`` holds further data-modifying CTEs (``name AS (...), ``) whose
    parameters precede the intents'. One statement is one transaction: intents and outcomes commit together.
    Without ``on_conflict`` a known key fails the statement, which then writes nothing."""
    conflict = "ON CONFLICT DO NOTHING " if on_conflict else ""
    return (f"WITH {before}fresh AS (INSERT INTO action_intents ({INTENT_COLUMNS}) "
            f"SELECT * FROM unnest({unnested(4)}) {conflict}RETURNING platform_run_id, idempotency_key) "
            f"INSERT INTO action_outcomes ({OUTCOME_COLUMNS}) "
            f"SELECT o.* FROM unnest({unnested(5)}) AS o({OUTCOME_COLUMNS}) "
            f"WHERE (o.platform_run_id, o.idempotency_key) IN (SELECT * FROM fresh) RETURNING idempotency_key")


def acting_params(intents: Sequence[ActionIntent]) -> tuple[list[ActionOutcome], list[str]]:
    """The outcome each intent would have, and ``acting_sql``'s intent and outcome parameters."""
    outcomes = [outcome_for(i) for i in intents]
    return outcomes, [
        column([i.idempotency_key for i in intents]), column([i.decision_id for i in intents]),
        column([i.platform_run_id for i in intents]), column([i.action.value for i in intents]),
        column([o.outcome_id for o in outcomes]), column([o.idempotency_key for o in outcomes]),
        column([o.platform_run_id for o in outcomes]), column([o.action.value for o in outcomes]),
        column([o.status for o in outcomes])]


def acted(conn: psycopg.Connection, sql: str, params: Sequence[str],
          outcomes: list[ActionOutcome]) -> list[ActionOutcome]:
    """Run an ``acting_sql`` statement; the outcomes it inserted, in intent order."""
    fresh = {r[0] for r in conn.execute(sql, params).fetchall()}
    return [o for o in outcomes if o.idempotency_key in fresh]


ACTING_SQL = acting_sql()


class PgActionLog(PgStore):
    def execute(self, intents: Sequence[ActionIntent]) -> list[ActionOutcome]:
        if not intents:
            return []
        outcomes, params = acting_params(intents)
        with self.statement() as conn:
            return acted(conn, ACTING_SQL, params, outcomes)

    def outcome_counts(self, platform_run_id: str) -> dict[str, int]:
        sql = """
        SELECT (SELECT count(*) FROM action_intents WHERE platform_run_id = %(r)s),
               (SELECT count(*) FROM action_outcomes WHERE platform_run_id = %(r)s),
               (SELECT count(*) - count(DISTINCT i.decision_id) FROM action_outcomes o
                  JOIN action_intents i USING (platform_run_id, idempotency_key) WHERE o.platform_run_id = %(r)s)
        """
        with self.tx() as conn:
            # A run newer than the tables' statistics is estimated at one row, and the planner then joins
            # outcomes to intents by nested loop over a sequential scan: quadratic (148 s for 25k decisions
            # seen right after a fresh start). Counting a run's rows never wants a nested loop.
            conn.execute("SET LOCAL enable_nestloop = off")
            row = conn.execute(sql, {"r": platform_run_id}).fetchone()
        assert row is not None
        return {"intents": int(row[0]), "outcomes": int(row[1]), "duplicate_outcomes": int(row[2])}
