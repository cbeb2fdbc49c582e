"""Bundle verification catches incomplete and inconsistent bundles."""

from __future__ import annotations

import json

from fp_core.evidence import strip_wall_clock, verify_bundle
from tests.unit.test_workflow_in_memory import run_once


def test_complete_bundle_verifies_and_tampering_is_caught() -> None:
    _, files = run_once(events=800, drills=("duplicates",))
    assert verify_bundle(files) == []
    missing = {k: v for k, v in files.items() if k != "obs/metrics.json"}
    assert "missing obs/metrics.json" in verify_bundle(missing)
    recon = json.loads(files["obs/reconciliation.json"])
    recon["duplicate_action_outcomes"] = 2
    recon["every_admitted_txn_decided"] = False
    bad = dict(files, **{"obs/reconciliation.json": json.dumps(recon).encode()})
    problems = verify_bundle(bad)
    assert any("duplicate action" in p for p in problems)
    assert any("exactly one decision" in p for p in problems)
    drill = json.loads(files["drills/duplicates.json"])
    drill["passed"] = False
    assert any("drills failed" in p for p in verify_bundle(dict(files, **{
        "drills/duplicates.json": json.dumps(drill).encode()})))
    foreign = json.loads(files["obs/anomalies.json"])
    foreign["platform_run_id"] = "someone-else"
    assert any("differs" in p for p in verify_bundle(dict(files, **{
        "obs/anomalies.json": json.dumps(foreign).encode()})))


def test_failed_run_bundle_is_reported_as_failed() -> None:
    assert verify_bundle({"run_failed.json": b"{}"})[-1] == "missing run_completed.json (run failed)"


def test_strip_wall_clock_removes_only_wall_clock_fields() -> None:
    doc = {"started_at": "x", "a": [{"durations_s": 1, "b": 2}], "git_sha": "y"}
    assert strip_wall_clock(doc) == {"a": [{"b": 2}]}
