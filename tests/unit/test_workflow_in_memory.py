"""The whole run over the memory adapter set: the services' logic end to end, fast and deterministic."""

from __future__ import annotations

import json

from fp_adapters.containers import Platform
from fp_core.evidence import strip_substrate, strip_wall_clock, verify_bundle
from fp_core.run_config import DRILLS, RunConfig
from tests.unit.conftest import memory_container


def run_once(events: int = 1200, seed: int = 3, drills: tuple[str, ...] = DRILLS) -> tuple[str, dict[str, bytes]]:
    container = memory_container()
    wf = container.workflow()
    result = wf.run(RunConfig(env="memory", seed=seed, events=events, drills=drills), "pr-unit")
    assert result.evidence_uri.startswith("memory://")
    return result.status, result.files


def test_run_completes_with_every_drill_passing_and_a_consistent_bundle() -> None:
    status, files = run_once()
    assert status == "COMPLETED"
    assert verify_bundle(files) == []
    drills = {k for k in files if k.startswith("drills/")}
    assert drills == {f"drills/{d}.json" for d in DRILLS}
    assert "run_started.json" in files


def test_same_seed_and_ids_give_identical_evidence_apart_from_wall_clock() -> None:
    _, a = run_once()
    _, b = run_once()
    assert a.keys() == b.keys()
    for name in a:
        assert (strip_substrate(strip_wall_clock(json.loads(a[name])))
                == strip_substrate(strip_wall_clock(json.loads(b[name])))), name
    run_a, run_b = json.loads(a["run.json"]), json.loads(b["run.json"])
    assert run_a["config_digest"] == run_b["config_digest"]  # the same behaviour ...
    assert run_a["substrate_digest"] != run_b["substrate_digest"]  # ... on two different substrates
    assert run_a["substrate"]["memory"]["namespace"] != run_b["substrate"]["memory"]["namespace"]
    assert json.loads(a["decisions/dla_summary.json"])["decision_digest"] == json.loads(
        b["decisions/dla_summary.json"])["decision_digest"]


def test_different_seed_changes_decisions() -> None:
    _, a = run_once(seed=3)
    _, b = run_once(seed=4)
    assert json.loads(a["decisions/dla_summary.json"])["decision_digest"] != json.loads(
        b["decisions/dla_summary.json"])["decision_digest"]


def test_every_traffic_event_has_exactly_one_decision() -> None:
    _, files = run_once(drills=("duplicates", "payload_mismatch"))
    recon = json.loads(files["obs/reconciliation.json"])
    assert recon["every_admitted_txn_decided"] is True
    assert recon["duplicate_action_outcomes"] == 0
    assert recon["ingress"]["balanced"] is True


def test_a_standalone_reporter_writes_the_same_metrics_shape_as_the_orchestrator() -> None:
    container = memory_container()
    wf = container.workflow()
    ran = wf.run(RunConfig(env="memory", seed=5, events=600), "pr-orchestrated")
    other = memory_container()
    stages = other.workflow()
    ready = other.sr().ready(RunConfig(env="memory", seed=5, events=600), "pr-standalone")
    stream = other.wsp().stream(ready)
    other.rtdl().decide(ready, stream)
    other.cm().run(ready, stream)
    other.ls().run(ready)
    other.archive().run(ready, stream)
    files = stages.close("pr-standalone").files
    a = json.loads(ran.files["obs/metrics.json"])
    b = json.loads(files["obs/metrics.json"])
    assert a.keys() == b.keys() and a["counts"].keys() == b["counts"].keys()
    assert strip_wall_clock(a)["counts"] == strip_wall_clock(b)["counts"]
    assert verify_bundle(files) == []


def test_appendix_c_facts_carry_both_run_ids_and_anomalies_reach_the_control_topic(memory: Platform) -> None:
    config = RunConfig(env="memory", seed=3, events=1200, drills=("payload_mismatch", "quarantine"))
    assert memory.workflow().run(config, "pr-facts").status == "COMPLETED"
    facts = memory.facts().read("pr-facts")
    scenario = facts.ready.pins.scenario_run_id
    assert facts.require_stream().scenario_run_id == scenario
    assert {s.scenario_run_id for s in facts.stages.values()} == {scenario}
    ig = json.loads(facts.extra["ANOMALIES:wsp_ig"])
    assert ig["scenario_run_id"] == scenario and ig["counts"]["payload_hash_anomalies"] > 0
    assert ig["counts"]["quarantined"] > 0
    assert json.loads(facts.extra["ANOMALIES:rtdl"])["counts"].keys() >= {"degraded", "dead_letters"}
    labels = memory.adapters.labels().for_run("pr-facts")
    assert labels and {a.scenario_run_id for a in labels} == {scenario}
