"""End to end on the real substrate: the operator command, the bundle, determinism, exact-once decisions."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from fp_adapters.containers import build_container
from fp_adapters.settings import REPO_ROOT, DrillSettings, Settings, load_settings
from fp_core.evidence import strip_substrate, strip_wall_clock, verify_bundle
from fp_core.run_config import DRILLS, RunConfig
from fp_core.services.run import RunResult
from tests.conftest import isolated_settings

pytestmark = [pytest.mark.substrate, pytest.mark.slow]
FP = str(Path(sys.executable).with_name("fp"))


def fp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FP, *args], capture_output=True, text=True, timeout=600)


def test_operator_run_with_all_drills_leaves_a_complete_verified_bundle(substrate: None, tmp_path: Path) -> None:
    run_id = f"pr-e2e-{uuid.uuid4().hex[:8]}"
    proc = fp("run", "--env", "local_parity", "--events", "3000", "--drill", "all", "--run-id", run_id, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["platform_run_id"] == run_id and summary["status"] == "COMPLETED"
    assert summary["evidence_uri"].endswith(f"evidence/runs/{run_id}")
    verify = fp("evidence", "verify", run_id, "--json")
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout.strip().splitlines()[-1]) == {"ok": True, "platform_run_id": run_id,
                                                                  "problems": []}
    assert fp("evidence", "pull", run_id, "--to", str(tmp_path)).returncode == 0
    bundle = tmp_path / run_id
    names = {str(p.relative_to(bundle)) for p in bundle.rglob("*.json")}
    assert names == {"run.json", "ingress/receipt_summary.json", "decisions/dla_summary.json",
                     "replay/offset_ranges.json", "obs/metrics.json", "obs/anomalies.json",
                     "obs/reconciliation.json", "run_completed.json", "run_started.json",
                     *(f"drills/{d}.json" for d in DRILLS)}
    for drill in DRILLS:
        assert json.loads((bundle / f"drills/{drill}.json").read_text())["passed"], drill
    recon = json.loads((bundle / "obs/reconciliation.json").read_text())
    assert recon["every_admitted_txn_decided"] and recon["duplicate_action_outcomes"] == 0
    assert recon["ingress"]["balanced"]
    run = json.loads((bundle / "run.json").read_text())
    assert run["env"] == "local_parity" and len(run["config_digest"]) == 64
    assert run["pins"]["platform_run_id"] == run_id
    ranges = json.loads((bundle / "replay/offset_ranges.json").read_text())["ranges"]
    assert {r["topic"] for r in ranges} == {"fp.bus.traffic.fraud.v1", "fp.bus.context.arrival_events.v1",
                                            "fp.bus.context.arrival_entities.v1",
                                            "fp.bus.context.flow_anchor.fraud.v1"}
    assert (bundle / "report.html").is_file() and Path(summary["report_file"]).is_file()
    logs_and_traces_correlate(run_id, run, proc.stderr)


def logs_and_traces_correlate(run_id: str, run: dict[str, object], stderr: str) -> None:
    """Every line of the run's logs (this process's, RTDL's and the archive's child processes') and every span carries
    the run's ids; the spans form one trace, whose id run.json names; no JSON log line reached the
    operator's terminal."""
    folder = REPO_ROOT / "logs" / run_id
    assert f"logs and traces: {folder}/" in " ".join(stderr.split())
    assert not any(line.lstrip().startswith("{") for line in stderr.splitlines())
    scenario = run["scenario_run_id"]
    components = set()
    events: dict[str, list[dict[str, str]]] = {}
    for name in ("run.jsonl", "rtdl.jsonl", "archive.jsonl"):
        lines = [json.loads(x) for x in (folder / name).read_text().splitlines()]
        assert lines, name
        for line in lines:
            assert line["platform_run_id"] == run_id and line["scenario_run_id"] == scenario, line
            assert line["component"] and line["level"] in ("info", "warning", "error"), line
            components.add(line["component"])
            events.setdefault(line["event"], []).append(line)
    # rare events (the quarantine and missing-context drills cause some) get a line each, naming the event
    for rare in ("ig.quarantined", "rtdl.degraded"):
        assert events.get(rare) and all(e["event_class"] and len(e["event_id"]) == 32 for e in events[rare]), rare
    assert {"sr", "wsp", "rtdl", "cm", "ls", "archive", "run"} <= components
    spans = [json.loads(x) for x in (folder / "traces.jsonl").read_text().splitlines()]
    assert {s["attributes"]["platform_run_id"] for s in spans} == {run_id}
    assert {s["context"]["trace_id"] for s in spans} == {"0x" + str(run["trace_id"])}
    names = {s["name"] for s in spans}
    assert {"run", "stage.sr_ready", "stage.wsp_ig", "stage.reporter", "ig.batch", "fp-rtdl.batch",
            "fp-archive.batch"} <= names
    services = {s["resource"]["attributes"]["service.name"] for s in spans}
    # RTDL's and the archive's processes joined the trace
    assert services == {"fraud-platform.run", "fraud-platform.rtdl", "fraud-platform.archive"}


def run_isolated(settings: Settings, run_id: str, events: int = 2000) -> RunResult:
    container = build_container("local_parity", settings.model_copy(update={
        "drills": DrillSettings(lag_pause_s=0.3)}))
    container.init_resources()
    try:
        config = RunConfig(env="local_parity", seed=11, events=events, drills=DRILLS)
        return container.workflow().run(config, run_id)
    finally:
        container.shutdown_resources()


def test_same_seed_and_ids_give_identical_decisions_and_evidence(substrate: None) -> None:
    base = load_settings("local_parity")
    a = run_isolated(isolated_settings(base, f"det_a_{uuid.uuid4().hex[:6]}", 4), "pr-determinism")
    b = run_isolated(isolated_settings(base, f"det_b_{uuid.uuid4().hex[:6]}", 5), "pr-determinism")
    assert a.status == b.status == "COMPLETED"
    assert verify_bundle(a.files) == [] and verify_bundle(b.files) == []
    assert a.files.keys() == b.files.keys()
    for name in a.files:
        assert (strip_substrate(strip_wall_clock(json.loads(a.files[name])))
                == strip_substrate(strip_wall_clock(json.loads(b.files[name])))), name
    digest = json.loads(a.files["decisions/dla_summary.json"])["decision_digest"]
    assert digest == json.loads(b.files["decisions/dla_summary.json"])["decision_digest"]
