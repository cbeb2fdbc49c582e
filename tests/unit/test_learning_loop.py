"""The learning loop over the memory set: as-of dataset -> trained bundle -> registry -> activation at a
run boundary; and the as-of law (no label recorded after as-of reaches a row) as a property."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fp_adapters.containers import Platform
from fp_apps.wiring import pinned_config
from fp_core.decisions import AuditRecord, DecisionRecord, audit_record, bundle_ref
from fp_core.degrade import READY
from fp_core.envelope import iso_utc
from fp_core.errors import InvalidInput, NotFound
from fp_core.labels import LabelSubjectKey, LabelValue, make_assertion
from fp_core.learning import DatasetManifest, choose_thresholds, dataset_rows, registry_view, split_of
from fp_core.pins import ContextPins
from fp_core.run_config import RunConfig
from fp_core.scoring import DEFAULT_BUNDLE, FEATURES, ActionType
from fp_core.world import DAY_MS, EPOCH_MS

LATE = EPOCH_MS + 90 * DAY_MS  # every chargeback of the synthetic world is recorded by then


def closed_run(memory: Platform, run_id: str, seed: int, events: int) -> None:
    config = pinned_config(memory, "memory", seed, events, ())
    assert memory.workflow().run(config, run_id).status == "COMPLETED"


def test_train_activate_and_the_next_run_pins_the_new_bundle(memory: Platform) -> None:
    closed_run(memory, "pr-learn-a", seed=3, events=16_000)
    ds = memory.datasets().build(["pr-learn-a"], LATE)
    assert ds.rows == 4_000 and ds.label_counts["FRAUD"] > 60 and ds.label_assertions_after_as_of == 0
    again = memory.datasets().build(["pr-learn-a"], LATE)
    assert again.fingerprint == ds.fingerprint  # same inputs, same fingerprint (and the same objects)
    objects = memory.adapters.objects()
    stored = DatasetManifest.model_validate_json(objects.get(f"evidence/datasets/{ds.dataset_id}/manifest.json"))
    assert stored == ds and objects.exists(ds.rows_key) and ds.offset_ranges["pr-learn-a"]

    ev = memory.trainer().train(ds.dataset_id, seed=0)
    assert ev.metrics.roc_auc > ev.baseline.roc_auc  # learnt from its own labelled decisions
    assert ev.metrics.rows == ev.baseline.rows == ev.splits["test"] > 0
    assert memory.trainer().train(ds.dataset_id, seed=0) == ev  # deterministic
    assert objects.exists(f"evidence/models/{ev.bundle_id}/evaluation.json")
    assert memory.bundles().active().bundle_id == "fraud-logit"  # registered, not active

    assert memory.bundles().activate(ev.bundle_id) and not memory.bundles().activate(ev.bundle_id)
    statuses = {s.bundle_id: s.status for s in memory.bundles().statuses()}
    assert statuses == {"fraud-logit": "retired", ev.bundle_id: "active"}
    closed_run(memory, "pr-learn-b", seed=4, events=2_000)
    decided = list(memory.adapters.audit_log().scan("pr-learn-b"))
    assert decided and {a.decision.bundle.bundle_id for a in decided} == {ev.bundle_id}
    header = json.loads(objects.get("evidence/runs/pr-learn-b/run.json"))
    assert header["config"]["bundle"]["bundle_id"] == ev.bundle_id  # the run's evidence names the bundle
    assert header["bundle_evaluation"] == f"evidence/models/{ev.bundle_id}/evaluation.json"
    assert objects.exists(header["bundle_evaluation"])
    assert json.loads(objects.get("evidence/runs/pr-learn-a/run.json"))["bundle_evaluation"] is None
    # the pre-activation run still replays with the bundle it pinned
    _key, proof = memory.replayer().replay("pr-learn-a", "archive")
    assert proof.proved and proof.bundle_id == "fraud-logit:1.0.0"
    on_b = memory.trainer().evaluate(memory.datasets().build(["pr-learn-b"], LATE).dataset_id, ev.bundle_id)
    assert on_b.rows == 500


def test_bad_requests_end_in_one_clear_error(memory: Platform) -> None:
    closed_run(memory, "pr-learn-bad", seed=5, events=800)
    with pytest.raises(NotFound, match="pr-nope"):
        memory.datasets().build(["pr-nope"], LATE)
    with pytest.raises(InvalidInput, match="no decision"):
        memory.datasets().build(["pr-learn-bad"], EPOCH_MS - 1)
    with pytest.raises(InvalidInput, match="no label assertion"):
        memory.datasets().build(["pr-learn-bad"], EPOCH_MS + DAY_MS)  # chargebacks arrive 20-40 days later
    with pytest.raises(NotFound, match="not registered"):
        memory.bundles().activate("fraud-logit-nope")
    with pytest.raises(NotFound, match="ds-nope"):
        memory.trainer().train("ds-nope")
    assert iso_utc(LATE).startswith("2026-04-01")


PINS = ContextPins(platform_run_id="pr-p", scenario_run_id="sr-p", manifest_fingerprint="0" * 64, seed=1,
                   schema_version="v1", policy_id="p", bundle_id="fraud-logit:1.0.0")


def audit_for(event_id: str, ts: int) -> AuditRecord:
    decision = DecisionRecord(
        decision_id=f"d-{event_id}", pins=PINS, event_id=event_id, txn_id="t", flow_id="f", merchant_id="m",
        event_ts_ms=ts, bundle=bundle_ref(DEFAULT_BUNDLE), policy_id="p", degrade=READY,
        features=dict.fromkeys(FEATURES, 0.0), score=0.1, action=ActionType.APPROVE, card_id=None, origin_offsets=())
    return audit_record(decision)


@settings(max_examples=60, deadline=None)
@given(as_of=st.integers(0, 100), recorded=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 100),
                                                               st.sampled_from(list(LabelValue))), max_size=40))
def test_no_label_recorded_after_as_of_reaches_a_row(as_of: int, recorded: list[tuple[int, int, LabelValue]]) -> None:
    audits = [audit_for(f"e{i}", ts) for i, ts in enumerate(range(0, 100, 10))]
    assertions = [make_assertion(LabelSubjectKey(platform_run_id="pr-p", event_id=f"e{e}"), value, 0, ts, "x")
                  for e, ts, value in recorded]
    rows = dataset_rows(audits, assertions, as_of)
    assert all(r.event_ts_ms <= as_of for r in rows)
    assert all(r.label_recorded_ts_ms <= as_of for r in rows)
    for r in rows:
        visible = [a for a in assertions if a.subject.event_id == r.event_id and a.recorded_ts_ms <= as_of]
        latest = max(visible, key=lambda a: (a.recorded_ts_ms, a.assertion_id), default=None)
        assert r.label == int(latest is not None and latest.label is LabelValue.FRAUD)


def test_split_and_thresholds_are_deterministic_and_ordered() -> None:
    assert {split_of(f"d{i}") for i in range(200)} == {"train", "validation", "test"}
    labels = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    scores = [0.95, 0.9, 0.85, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    step_up, decline = choose_thresholds(labels, scores)
    assert 0 < step_up < decline < 1 and decline == 0.9 and step_up == 0.6
    with pytest.raises(InvalidInput):
        choose_thresholds([0, 0], [0.1, 0.2])
    assert registry_view([])["fraud-logit"][1].status == "active"
    assert RunConfig(env="memory", seed=1, events=8).bundle.bundle_id == "fraud-logit"
