"""The examples run as a user would run them, and the example third-party adapter set (installed by the
test command from ``examples/fs_adapter_set``) is certified by the conformance suite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(list(argv), capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, **(env or {})})


def test_quickstart_admits_and_decides_over_the_memory_set() -> None:
    proc = run(sys.executable, "examples/quickstart.py")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "decisions 10, bad input -> INVALID_ENVELOPE" in proc.stdout


def test_reading_an_evidence_bundle_and_its_replay_anchors() -> None:
    proc = run(sys.executable, "examples/read_evidence.py")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "every admitted transaction decided: True" in proc.stdout
    assert "all" in proc.stdout.splitlines()[-1] and "decision origins inside" in proc.stdout


def test_a_third_party_adapter_set_registers_itself_and_passes_the_conformance_suite(tmp_path: Path) -> None:
    from fp_adapters.environments import registered

    if "fs_memory" not in registered():
        pytest.fail("examples/fs_adapter_set is not installed: scripts/test-all.sh installs it")
    proc = run(str(BIN / "fp"), "conformance", "--env", "fs_memory", "--json",
               env={"FP_PLUGIN__ROOT": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    from fp_conformance.checks import CHECKS

    assert [c["name"] for c in report["checks"]] == [c.name for c in CHECKS]
    assert all(c["passed"] for c in report["checks"])
    assert any(tmp_path.rglob("run_completed.json"))  # the bundle really went to the file-system store
