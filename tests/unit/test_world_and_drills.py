"""The world is deterministic and time-sorted; drills shape it without breaking time order."""

from __future__ import annotations

import tracemalloc
from collections import Counter

from fp_core.drills import DrillLedger, drill_spacing, shape, verdict
from fp_core.world import StreamRow, TruthLabel, generate_world, scenario_run_id_for


def rows(seed: int, events: int) -> list[StreamRow]:
    return [r for r in generate_world(seed, events) if isinstance(r, StreamRow)]


def test_world_is_deterministic_sorted_and_complete() -> None:
    a, b = rows(5, 4000), rows(5, 4000)
    assert a == b
    assert [r.sort_key() for r in a] == sorted(r.sort_key() for r in a)
    assert Counter(r.event_type for r in a) == {"arrival_event": 1000, "arrival_entities": 1000,
                                                "flow_anchor": 1000, "transaction": 1000}
    assert rows(6, 4000) != a
    assert scenario_run_id_for(5, 4000) == scenario_run_id_for(5, 4000) != scenario_run_id_for(6, 4000)


def test_fraud_is_planted_with_truth_labels_recorded_later() -> None:
    items = list(generate_world(5, 40_000))
    labels = [i for i in items if isinstance(i, TruthLabel)]
    txns = {r.natural_key: r for r in items if isinstance(r, StreamRow) and r.event_type == "transaction"}
    assert 0.01 < len(labels) / len(txns) < 0.06
    assert all(lab.recorded_ts_ms > txns[lab.txn_natural_key].ts_ms for lab in labels)


def test_world_generation_memory_is_flat_in_size() -> None:
    def peak(events: int) -> int:
        tracemalloc.start()
        for _ in generate_world(1, events):
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top
    small, large = peak(10_000), peak(100_000)
    assert large < small * 3


def test_drill_shaping_keeps_time_order_and_records_expectations() -> None:
    drills = ("duplicates", "payload_mismatch", "missing_context", "late_context", "quarantine")
    ledger = DrillLedger(drills=drills, every=drill_spacing(2000))
    out = list(shape(generate_world(9, 8000), ledger))
    variants = Counter(e.variant for e in out)
    n_dup = ledger.injected["duplicates"]["duplicates_sent"]
    assert variants["duplicate"] == n_dup > 0
    assert variants["mismatch"] == ledger.injected["payload_mismatch"]["mismatches_sent"] > 0
    assert variants["late"] == ledger.injected["late_context"]["late_flow_anchors"] > 0
    assert sum(variants[v] for v in ("unknown_type", "invalid_payload", "foreign_run", "garbage")) == \
        ledger.injected["quarantine"]["sent"]
    emitted_ts = [e.row.ts_ms for e in out if e.variant in ("normal", "late")]
    assert emitted_ts == sorted(emitted_ts)
    anchors = sum(1 for e in out if e.row.event_type == "flow_anchor")
    assert anchors == 2000 - ledger.injected["missing_context"]["dropped_flow_anchors"]


def test_no_drills_means_the_stream_view_unchanged() -> None:
    ledger = DrillLedger(drills=(), every=drill_spacing(500))
    assert [e.row for e in shape(generate_world(2, 2000), ledger)] == rows(2, 2000)


def test_verdict_passes_only_when_every_expectation_is_observed() -> None:
    assert verdict("duplicates", {"a": 1}, {"a": 1, "extra": 2}).passed
    assert not verdict("duplicates", {"a": 1}, {"a": 2}).passed
    assert not verdict("lag", {"a": 1}, {}).passed
