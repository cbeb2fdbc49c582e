"""Service behaviour under failure: ambiguous publishes, gate refusal, stalled consumers, bad configs."""

from __future__ import annotations

import json

import pytest

from fp_core.errors import GateRefused, NotFound, ObjectExists, TransientError
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.oracle import OracleManifest, PassFlag, check_gate
from fp_core.receipts import AdmissionOutcome, PublishState
from fp_core.run_config import RunConfig
from fp_core.services.consuming import RangeConsumer
from fp_core.services.ig import IngestionGate
from fp_core.services.run import RunWorkflow
from fp_core.services.sr import ScenarioRunner, seal_world
from tests.fakes import MemConsumer, mem_ports
from tests.unit.test_admission import PINS, envelope


def gate() -> tuple[IngestionGate, object]:
    ports, bus = mem_ports()
    g = IngestionGate(PINS, FRAUD_CLASS_MAP, ports.admission_index, ports.receipts, ports.quarantine_index,
                      ports.objects, ports.producer, ports.log)
    return g, bus


def test_ambiguous_publish_is_explicit_and_resolved_by_idempotent_republish() -> None:
    g, bus = gate()
    bus.fail_next = 1  # type: ignore[attr-defined]
    [first] = g.submit("s1", [envelope()])
    assert first.outcome is AdmissionOutcome.ADMIT and first.publish_state is PublishState.AMBIGUOUS
    [again] = g.submit("s2", [envelope()])
    assert again.outcome is AdmissionOutcome.DUPLICATE and again.publish_state is PublishState.PUBLISHED
    [third] = g.submit("s3", [envelope()])
    assert third.outcome is AdmissionOutcome.DUPLICATE and third.publish_state is None
    assert len(bus.log[("fp.bus.traffic.fraud.v1", next(  # type: ignore[attr-defined]
        p for p in range(3) if bus.log[("fp.bus.traffic.fraud.v1", p)]))]) == 1  # type: ignore[attr-defined]


def test_quarantine_payload_is_kept_verbatim_and_indexed() -> None:
    g, _ = gate()
    receipts = g.submit("s1", [b"garbage", envelope(amount=1), envelope(amount=2)])
    assert [r.outcome for r in receipts] == [AdmissionOutcome.QUARANTINE, AdmissionOutcome.ADMIT,
                                             AdmissionOutcome.ANOMALY]
    lines = [json.loads(x) for x in g.objects.get("quarantine/pr-1/s1.jsonl").splitlines()]
    assert [ln["reason"] for ln in lines] == ["INVALID_ENVELOPE", "PAYLOAD_HASH_MISMATCH"]
    assert len(g.quarantine_index.for_run("pr-1")) == 2
    with pytest.raises(ObjectExists):
        g.objects.put("quarantine/pr-1/s1.jsonl", b"overwrite")


def test_no_pass_no_read_and_tampering_refused() -> None:
    ports, _ = mem_ports()
    manifest = seal_world(ports.objects, 1, 400)
    sr = ScenarioRunner(ports.objects, ports.producer, ports.log)
    cfg = RunConfig(env="memory", seed=1, events=400)
    ready = sr.ready(manifest.scenario_run_id, "pr-a", cfg, {})
    assert ready.pins.manifest_fingerprint == manifest.fingerprint()
    assert seal_world(ports.objects, 1, 400) == manifest  # sealed outputs are reused, never rewritten
    key = manifest.stream_view_keys()[0]
    digests = {o.key: o.sha256 for o in manifest.objects}
    with pytest.raises(GateRefused, match="no PASS"):
        check_gate(manifest, None, digests)
    with pytest.raises(GateRefused, match="digest"):
        check_gate(manifest, PassFlag(scenario_run_id=manifest.scenario_run_id,
                                      manifest_fingerprint=manifest.fingerprint()), dict(digests, **{key: "0" * 64}))
    with pytest.raises(GateRefused, match="does not seal"):
        check_gate(manifest, PassFlag(scenario_run_id=manifest.scenario_run_id, manifest_fingerprint="b" * 64),
                   digests)
    with pytest.raises(GateRefused, match="missing"):
        check_gate(manifest, PassFlag(scenario_run_id=manifest.scenario_run_id,
                                      manifest_fingerprint=manifest.fingerprint()), {})
    with pytest.raises(GateRefused, match="status"):
        check_gate(manifest, PassFlag(scenario_run_id=manifest.scenario_run_id,
                                      manifest_fingerprint=manifest.fingerprint(), status="FAIL"), digests)
    assert isinstance(OracleManifest.model_validate_json(manifest.model_dump_json()), OracleManifest)


def test_missing_oracle_fails_the_run_with_a_partial_bundle() -> None:
    ports, _ = mem_ports()
    ports.objects.put("oracle/x", b"")

    def broken(*_a: object, **_k: object) -> None:
        raise NotFound("oracle/sr-x/manifest.json")

    import fp_core.services.stages as stages_mod
    original = stages_mod.seal_world
    stages_mod.seal_world = broken  # type: ignore[assignment]
    try:
        result = RunWorkflow(ports, evidence_uri=lambda p: p).run(RunConfig(env="m", seed=1, events=100), "pr-f")
    finally:
        stages_mod.seal_world = original
    assert result.status == "FAILED" and result.summary["failure_stage"] == "sr_ready"
    failed = json.loads(ports.objects.get("evidence/runs/pr-f/run_failed.json"))
    assert failed["failure_stage"] == "sr_ready" and "NotFound" in failed["reason"]
    assert json.loads(ports.objects.get("evidence/runs/pr-f/run.json"))["pins"] == {}


def test_stalled_consumer_raises_instead_of_hanging() -> None:
    ports, bus = mem_ports()
    rc = RangeConsumer(MemConsumer(bus, "g"), ports.checkpoints, ports.clock, ports.log, "pr", "g",
                       stall_timeout_s=1.0)
    with pytest.raises(TransientError, match="no records"):
        rc.drain({("fp.bus.control.v1", 0): 0}, {("fp.bus.control.v1", 0): 5}, lambda recs: {})
