"""The world is deterministic and time-sorted; drills shape it without breaking time order."""

from __future__ import annotations

import json
import tracemalloc
from collections import Counter
from typing import Any

from fp_core.drills import ALL_DRILLS, DrillName
from fp_core.drills.catalog import catalog
from fp_core.drills.facts import DrillLedger
from fp_core.drills.hooks import drill_spacing, shape
from fp_core.drills.record import verdict
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.pins import ContextPins
from fp_core.receipts import UNCLASSIFIED
from fp_core.services.wsp import Encoder, Outgoing
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


PINS = ContextPins(platform_run_id="pr-d", scenario_run_id="sr-d", manifest_fingerprint="d" * 64, seed=9,
                   schema_version="fp.event.v1", policy_id="p", bundle_id="b:1")


def shaped(drills: tuple[str, ...], seed: int, events: int) -> tuple[list[Outgoing], DrillLedger]:
    ledger = DrillLedger(drills=drills, every=drill_spacing(events // 4))
    return list(shape(iter(rows(seed, events)), ledger, Encoder(PINS, FRAUD_CLASS_MAP))), ledger


def test_drill_shaping_keeps_time_order_and_records_expectations() -> None:
    drills = ("duplicates", "payload_mismatch", "missing_context", "late_context", "quarantine")
    out, ledger = shaped(drills, 9, 8000)
    docs = [json.loads(o.raw) for o in out if o.raw.startswith(b'{"event_id":"')]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        by_id.setdefault(d["event_id"], []).append(d)
    repeated = [v for v in by_id.values() if len(v) == 2]
    n_dup = ledger.injected["duplicates"]["duplicates_sent"]
    assert sum(1 for a, b in repeated if a["payload"] == b["payload"]) == n_dup > 0
    assert sum(1 for a, b in repeated if a["payload"] != b["payload"]) == \
        ledger.injected["payload_mismatch"]["mismatches_sent"] > 0
    quarantine = ledger.injected["quarantine"]
    assert sum(1 for o in out if o.event_class == UNCLASSIFIED) == quarantine["unknown_type"] + quarantine["garbage"]
    assert sum(d["pins"]["platform_run_id"] != PINS.platform_run_id for d in docs) == quarantine["foreign_run"]
    firsts = [v[0]["ts_utc"] for v in by_id.values()]
    assert firsts == sorted(firsts)  # each event first emitted at its own (possibly late) event time
    anchors = sum(1 for d in docs if d["event_type"] == "flow_anchor")
    assert anchors == 2000 - ledger.injected["missing_context"]["dropped_flow_anchors"]
    assert ledger.injected["late_context"]["late_flow_anchors"] > 0


def test_no_drills_means_the_stream_view_unchanged() -> None:
    out, _ = shaped((), 2, 2000)
    encode = Encoder(PINS, FRAUD_CLASS_MAP)
    assert out == [encode(r) for r in rows(2, 2000)]


def test_verdict_passes_only_when_every_expectation_is_observed() -> None:
    assert verdict("duplicates", "d", {"a": 1}, {"a": 1, "extra": 2}).passed
    assert not verdict("duplicates", "d", {"a": 1}, {"a": 2}).passed
    assert not verdict("lag", "d", {"a": 1}, {}).passed


def test_drill_names_are_one_enum_and_every_drill_has_one_class() -> None:
    assert set(catalog()) == set(DrillName) and tuple(d.value for d in DrillName) == ALL_DRILLS
