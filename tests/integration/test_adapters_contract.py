"""Postgres-specific guarantees beyond the port contracts (those are in ``fp_conformance.contracts`` and
run against every adapter set): append-only enforced by the database itself, its translation into
AppendOnlyViolation, and idempotent migrations."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from fp_adapters.postgres.connection import connect, migrate, migrations
from fp_adapters.postgres.receipts import PgReceiptLog
from fp_adapters.settings import Settings
from fp_core.errors import AppendOnlyViolation, InvalidInput

pytestmark = pytest.mark.substrate

APPEND_ONLY = ["admission_index", "receipts", "publish_log", "quarantine_index", "audit_log", "action_intents",
               "action_outcomes", "case_timeline", "label_assertions", "consumer_checkpoints", "bundle_registry"]


@pytest.fixture
def conn(fresh_settings: Settings) -> Iterator[psycopg.Connection]:
    c = connect(fresh_settings.postgres.dsn)
    yield c
    c.close()



SEED_ROW = {
    "admission_index": "INSERT INTO admission_index VALUES ('r', 'c', 'e', 'h')",
    "receipts": "INSERT INTO receipts (receipt_id, platform_run_id, scenario_run_id, event_class, event_id, "
                "event_type, outcome, detail, payload_hash) VALUES ('x', 'r', 's', 'c', 'e', 't', 'ADMIT', '', 'h')",
    "publish_log": "INSERT INTO publish_log (platform_run_id, event_class, event_id, state, error) "
                   "VALUES ('r', 'c', 'e', 'PUBLISHED', '')",
    "quarantine_index": "INSERT INTO quarantine_index VALUES ('r', 'c', 'e', 'R', 'x', 'q', '', 'h', 'k', 0)",
    "audit_log": "INSERT INTO audit_log (audit_id, platform_run_id, event_id, record) VALUES ('a', 'r', 'e', '{}')",
    "action_intents": "INSERT INTO action_intents (idempotency_key, decision_id, platform_run_id, action) "
                      "VALUES ('k', 'd', 'r', 'APPROVE')",
    "action_outcomes": "INSERT INTO action_intents (idempotency_key, decision_id, platform_run_id, action) "
                       "VALUES ('k2', 'd', 'r', 'APPROVE'); INSERT INTO action_outcomes (outcome_id, "
                       "idempotency_key, platform_run_id, action, status) VALUES ('o', 'k2', 'r', 'APPROVE', 'E')",
    "case_timeline": "INSERT INTO case_timeline (event_id, case_id, platform_run_id, record) "
                     "VALUES ('e', 'c', 'r', '{}')",
    "label_assertions": "INSERT INTO label_assertions (assertion_id, platform_run_id, event_id, record) "
                        "VALUES ('a', 'r', 'e', '{}')",
    "consumer_checkpoints": "INSERT INTO consumer_checkpoints (platform_run_id, consumer_group, topic, partition, "
                            "start_offset, end_offset) VALUES ('r', 'g', 't', 0, 0, 0)",
    "bundle_registry": "INSERT INTO bundle_registry (record_id, bundle_id, event, record) "
                       "VALUES ('x', 'b', 'REGISTERED', '{}')",
}


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_append_only_tables_reject_update_delete_truncate(conn: psycopg.Connection, table: str) -> None:
    with conn.transaction():
        conn.execute(SEED_ROW[table])
    column = {"action_outcomes": "status", "bundle_registry": "bundle_id"}.get(table, "platform_run_id")
    for sql in (f"UPDATE {table} SET {column} = 'x'", f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE"):
        with pytest.raises(psycopg.Error, match="append-only"), conn.transaction():
            conn.execute(sql)
    assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)
    conn.rollback()


def test_adapter_translates_append_only_violation(fresh_settings: Settings) -> None:
    from fp_adapters.postgres.base import PgStore
    from fp_adapters.postgres.connection import open_pool

    pool = open_pool(fresh_settings.require_postgres().dsn, 1, 5.0)
    try:
        store = PgStore(pool)
        with store.tx() as c:
            c.execute("INSERT INTO admission_index VALUES ('r', 'c', 'e', 'h')")
        with pytest.raises(AppendOnlyViolation, match="append-only"), store.tx() as c:
            c.execute("UPDATE admission_index SET payload_hash = 'other'")
        with pytest.raises(InvalidInput, match="NUL"):  # the caller's bad value, not a driver traceback
            PgReceiptLog(pool).for_events("r", ["a\x00b"])
    finally:
        pool.close()


def test_migrations_are_idempotent(conn: psycopg.Connection) -> None:
    assert migrate(conn) == []
    assert migrate(conn) == []
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    conn.rollback()
    assert versions == [name for name, _ in migrations()]


def test_a_receipt_that_tells_its_publish_is_its_record_and_every_other_attempt_is_logged(
        fresh_settings: Settings) -> None:
    import uuid

    from fp_adapters.postgres.admission_index import PgAdmissionIndex
    from fp_adapters.postgres.connection import open_pool
    from fp_core.admission import Sighting
    from fp_core.identity import DedupeKey
    from fp_core.offsets import OriginOffset
    from fp_core.receipts import AdmissionOutcome, PublishRecord, PublishState, ReceiptRow

    run = f"pr-plog-{uuid.uuid4().hex[:8]}"
    at, later = OriginOffset("fp.bus.traffic.fraud.v1", 0, 7), OriginOffset("fp.bus.traffic.fraud.v1", 1, 9)

    def receipt(rid: str, eid: str, state: PublishState, where: OriginOffset | None) -> ReceiptRow:
        return ReceiptRow(receipt_id=rid, platform_run_id=run, scenario_run_id="sr", event_class="traffic",
                          event_id=eid, event_type="t", outcome=AdmissionOutcome.ADMIT, payload_hash="h",
                          publish_state=state, published_at=where)

    def publish(eid: str, state: PublishState, where: OriginOffset | None, error: str = "") -> PublishRecord:
        return PublishRecord(platform_run_id=run, event_class="traffic", event_id=eid, state=state,
                             published_at=where, error=error)

    pool = open_pool(fresh_settings.require_postgres().dsn, 1, 5.0)
    try:
        receipts, index = PgReceiptLog(pool), PgAdmissionIndex(pool)
        events = ("e1", "e2", "e3", "e4")
        index.claim({DedupeKey(run, "traffic", e): Sighting("h", e.replace("e", "r")) for e in events})
        published, ambiguous = PublishState.PUBLISHED, PublishState.AMBIGUOUS
        receipts.append([receipt("r1", "e1", published, at), receipt("r2", "e2", ambiguous, None),
                         receipt("r4", "e4", published, later)],
                        [publish("e1", published, at), publish("e2", ambiguous, None, "timed out"),
                         publish("e4", published, later)], {"r1", "r2", "r4"})
        # A re-submitted batch: r1's receipt is kept as first written; its new publish has no receipt to tell it.
        receipts.append([receipt("r1", "e1", published, later), receipt("r3", "e3", published, later)],
                        [publish("e1", published, later), publish("e3", published, later)])
        with pool.connection() as c:
            logged = c.execute("SELECT event_id, state, pub_offset FROM publish_log WHERE platform_run_id = %s "
                               "ORDER BY id", (run,)).fetchall()
        assert logged == [("e2", "AMBIGUOUS", None), ("e1", "PUBLISHED", 9), ("e3", "PUBLISHED", 9)], logged
        claims = index.claim({DedupeKey(run, "traffic", e): Sighting("h", f"x{e}") for e in events})
        # e4's publish is told by its receipt alone
        assert {k.event_id: c.published for k, c in claims.items()} == {"e1": True, "e2": False, "e3": True,
                                                                         "e4": True}
        assert receipts.unresolved_publishes(run) == 1  # e2
    finally:
        pool.close()


def _plan(conn: psycopg.Connection, sql: str, params: tuple[object, ...] | dict[str, object]) -> str:
    return "\n".join(r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params).fetchall())


def test_the_answered_submission_check_reads_one_receipt_in_a_run_newer_than_the_statistics(
        conn: psycopg.Connection) -> None:
    """IG's check before every batch must be an index lookup, not a pass over the run's receipts: the
    planner, estimating a run it has no statistics for, may filter `= ANY(...)` on the key's second
    column (D58). ``stored`` looks each id up by equality."""
    from fp_adapters.postgres.receipts import RECEIPT_COLS, STORED_SQL

    insert = ("INSERT INTO receipts (receipt_id, platform_run_id, scenario_run_id, event_class, event_id, "
              "event_type, outcome, detail, payload_hash) SELECT md5(%s || g), %s, 's', 'c', md5(%s || g), 't', "
              "'ADMIT', '', 'h' FROM generate_series(1, %s) g")
    with conn.transaction():
        for old in range(20):  # earlier runs, in the statistics
            conn.execute(insert, (f"old{old}", f"run-old-{old}", f"old{old}", 2_000))
    conn.execute("ANALYZE receipts")
    with conn.transaction():
        conn.execute(insert, ("new", "run-new", "new", 20_000))  # the run being admitted: not analysed yet
    probe = ("run-new", "0123456789abcdef0123456789abcdef")
    one = _plan(conn, STORED_SQL, probe)
    assert "receipt_id = " in one and "Rows Removed by Filter" not in one, one
    # What the check was before: on the Postgres this substrate runs (15), the same lookup as
    # `= ANY(...)` reads the whole run.
    if conn.info.server_version < 170000:
        many = _plan(conn, f"SELECT {RECEIPT_COLS} FROM receipts WHERE platform_run_id = %s "
                           "AND receipt_id = ANY(%s)", (probe[0], [probe[1]]))
        assert "Rows Removed by Filter: 20000" in many, many


def test_a_runs_unresolved_publishes_are_counted_in_linear_passes_before_the_statistics_know_the_run(
        conn: psycopg.Connection, fresh_settings: Settings) -> None:
    """Run closure counts the tuples claimed but not published through the ``published`` view, which joins
    claims to the receipts they name (D65). Planned for a run the statistics do not know, that join was a
    nested loop over the run twice (10 s for 8,000 tuples): the count is planned without nested loops."""
    import uuid

    from fp_adapters.postgres.connection import open_pool
    from fp_adapters.postgres.receipts import NO_NESTED_LOOP, UNRESOLVED_SQL

    claims = ("INSERT INTO admission_index (platform_run_id, event_class, event_id, payload_hash, receipt_id) "
              "SELECT %s, 'c', md5(%s || g), 'h', md5(%s || 'r' || g) FROM generate_series(1, %s) g")
    receipts = ("INSERT INTO receipts (receipt_id, platform_run_id, scenario_run_id, event_class, event_id, "
                "event_type, outcome, detail, payload_hash, publish_state, claimant) SELECT md5(%s || 'r' || g), "
                "%s, 's', 'c', md5(%s || g), 't', 'ADMIT', '', 'h', 'PUBLISHED', true FROM generate_series(1, %s) g")
    conn.autocommit = True  # each block below commits: the adapter's own connection reads the rows
    with conn.transaction():
        for _ in range(10):  # earlier runs, in the statistics
            run = f"run-old-{uuid.uuid4().hex[:8]}"
            conn.execute(claims, (run, run, run, 1_000))
            conn.execute(receipts, (run, run, run, 1_000))
    conn.execute("ANALYZE admission_index")
    conn.execute("ANALYZE receipts")
    run = f"run-new-{uuid.uuid4().hex[:8]}"
    with conn.transaction():  # the run being closed: not analysed yet; one claim's receipt never written
        conn.execute(claims, (run, run, run, 8_000))
        conn.execute(receipts, (run, run, run, 7_999))
    pool = open_pool(fresh_settings.require_postgres().dsn, 1, 5.0)
    try:
        assert PgReceiptLog(pool).unresolved_publishes(run) == 1
    finally:
        pool.close()
    with conn.transaction():
        conn.execute(NO_NESTED_LOOP)
        planned = _plan(conn, UNRESOLVED_SQL, {"r": run})
    assert "Nested Loop" not in planned, planned
    if conn.info.server_version < 160000:  # what it was on the Postgres this substrate runs (15)
        assert "Rows Removed by Join Filter" in _plan(conn, UNRESOLVED_SQL, {"r": run})


def test_stored_receipts_are_found_by_id_however_many_are_asked_for(fresh_settings: Settings) -> None:
    from fp_adapters.postgres.connection import open_pool
    from fp_core.receipts import AdmissionOutcome, Receipt, ReceiptRow

    pool = open_pool(fresh_settings.require_postgres().dsn, 2, 10.0)
    try:
        log = PgReceiptLog(pool)
        receipts = [Receipt(receipt_id=f"{i:032x}", platform_run_id="run-s", scenario_run_id="s",
                            event_class="c", event_id=f"e{i}", event_type="t", outcome=AdmissionOutcome.ADMIT,
                            payload_hash="h") for i in range(300)]
        log.append([ReceiptRow.of(r) for r in receipts], [])
        assert log.stored("run-s", []) == {}
        assert log.stored("run-s", [receipts[7].receipt_id]) == {receipts[7].receipt_id: receipts[7]}
        asked = [r.receipt_id for r in receipts[::3]] + ["f" * 32]  # one not stored
        assert log.stored("run-s", asked) == {r.receipt_id: r for r in receipts[::3]}
        assert log.stored("run-other", asked) == {}
    finally:
        pool.close()
