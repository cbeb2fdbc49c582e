"""Replay over the memory set: both sources re-derive every decision and agree; the check can fail."""

from __future__ import annotations

import json

from fp_adapters.containers import Platform
from fp_core.evidence import ReplayProof, verify_bundle
from fp_core.run_config import DRILLS, RunConfig


def run(memory: Platform, run_id: str = "pr-replay") -> str:
    result = memory.workflow().run(RunConfig(env="memory", seed=5, events=1200, drills=DRILLS), run_id)
    assert result.status == "COMPLETED"
    return run_id


def test_replay_from_bus_and_archive_matches_every_audited_decision(memory: Platform) -> None:
    run_id = run(memory)
    objects = memory.adapters.objects()
    key_bus, bus = memory.replayer().replay(run_id, "kafka")
    key_archive, archive = memory.replayer().replay(run_id, "archive")
    for proof in (bus, archive):
        assert proof.proved and proof.compared == proof.audited == 300 and proof.differences == []
    assert bus.decisions_digest == archive.decisions_digest
    assert ReplayProof.model_validate_json(objects.get(key_bus)) == bus and key_archive != key_bus
    prefix = f"evidence/runs/{run_id}/"
    bundle = {k.removeprefix(prefix): objects.get(k) for k in objects.list(prefix)}
    assert verify_bundle(bundle) == []  # proofs are added after closure without breaking the bundle
    assert memory.adapters.audit_log().for_events(run_id, []) == []
    anchors = json.loads(bundle["replay/offset_ranges.json"])
    assert set(anchors["groups"]) == {"fp-rtdl", "fp-cm", "fp-archive"} and all(anchors["groups"].values())


def test_replay_with_another_bundle_reports_the_mismatches_field_by_field(memory: Platform) -> None:
    run_id = run(memory, "pr-replay-tampered")
    config = RunConfig(env="memory", seed=5, events=1200)
    tampered = config.bundle.model_copy(update={"bias": config.bundle.bias + 3.0})
    _key, proof = memory.replayer().replay(run_id, "kafka", bundle=tampered)
    assert not proof.proved and proof.mismatched > 0 and not proof.bundle_pinned
    assert 0 < len(proof.differences) <= 20
    fields = {f["field"] for d in proof.differences for f in d["fields"]}
    assert "score" in fields and "bundle.parameters_digest" in fields
