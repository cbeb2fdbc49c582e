"""The learning loop through the operator CLI on a real substrate: run -> `fp dataset build` -> `fp model
train` -> `fp bundle activate` -> the next `fp run` pins the new bundle, and `fp replay` of the run before
activation still reproduces its decisions with the bundle it pinned. dev_min runs the same loop inside
the emulated demo's lifetime (tests/integration/test_dev_min_ops.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.substrate, pytest.mark.slow]
FP = str(Path(sys.executable).with_name("fp"))
AS_OF = "2026-04-01T00:00:00Z"  # every chargeback of the synthetic world is recorded by then


def fp(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([FP, *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "FP_DEBUG": "0"})
    assert done.returncode == expect, (args, done.stderr[-3000:])
    return done


def last_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def learning_loop(env: str) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    run_a, run_b = f"pr-learn-a-{tag}", f"pr-learn-b-{tag}"
    fp("bundle", "activate", "fraud-logit", "--env", env)
    try:
        a = last_json(fp("run", "--env", env, "--events", "16000", "--seed", "3", "--run-id", run_a, "--json"))
        assert a["status"] == "COMPLETED" and a["bundle_id"] == "fraud-logit:1.0.0"
        ds = last_json(fp("dataset", "build", "--runs", run_a, "--as-of", AS_OF, "--env", env, "--json"))
        assert ds["rows"] == 4000 and ds["label_counts"]["FRAUD"] > 60
        ev = last_json(fp("model", "train", "--dataset", ds["dataset_id"], "--env", env, "--json"))
        assert ev["metrics"]["roc_auc"] > ev["baseline"]["roc_auc"] and ev["dataset_id"] == ds["dataset_id"]
        listed = last_json(fp("bundle", "list", "--env", env, "--json"))["bundles"]
        assert {b["bundle_id"]: b["status"] for b in listed}[ev["bundle_id"]] == "registered"
        assert last_json(fp("bundle", "activate", ev["bundle_id"], "--env", env, "--json"))["changed"]
        b = last_json(fp("run", "--env", env, "--events", "2000", "--seed", "4", "--run-id", run_b, "--json"))
        assert b["status"] == "COMPLETED" and b["bundle_id"] == f"{ev['bundle_id']}:{ev['version']}"
        proof = last_json(fp("replay", run_a, "--env", env, "--source", "archive", "--json"))
        assert proof["mismatched"] == 0 and proof["matched"] == proof["compared"] == 4000
        assert proof["bundle_id"] == "fraud-logit:1.0.0"
        shown = last_json(fp("bundle", "show", ev["bundle_id"], "--env", env, "--json"))
        assert shown["status"]["status"] == "active" and shown["status"]["evaluation_key"].endswith("evaluation.json")
        return {"dataset": ds, "evaluation": ev, "run_b": b}
    finally:
        fp("bundle", "activate", "fraud-logit", "--env", env)


def test_learning_loop_on_local_parity(substrate: None) -> None:
    learning_loop("local_parity")


def test_learning_loop_bad_input_ends_in_one_line(substrate: None) -> None:
    for args, words in ((("dataset", "build", "--runs", "pr-never-ran", "--as-of", AS_OF), "pr-never-ran"),
                        (("model", "train", "--dataset", "ds-none"), "ds-none"),
                        (("bundle", "activate", "fraud-logit-none"), "not registered")):
        done = subprocess.run([FP, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode != 0 and "Traceback" not in done.stderr and words in " ".join(done.stderr.split())
        assert len(done.stderr.strip().splitlines()) <= 3
