"""Each component as its own process on the real substrate, chained only through the bus and stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.unit.test_admission import envelope

pytestmark = [pytest.mark.substrate, pytest.mark.slow]
BIN = Path(sys.executable).parent


def component(name: str, *args: str, stdin: bytes | None = None) -> dict[str, object]:
    exe, *command = name.split()  # "fp-ig admit": the command comes before its options
    proc = subprocess.run([str(BIN / exe), *command, "--env", "local_parity", *args], capture_output=True, timeout=300,
                          input=stdin, env={**os.environ, "FP_DRILLS__LAG_PAUSE_S": "0.3"})
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    out: dict[str, object] = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    return out


def test_components_run_alone_and_chain_through_the_control_topic(substrate: None) -> None:
    run = f"pr-proc-{uuid.uuid4().hex[:8]}"
    ready = component("fp-sr", "--run-id", run, "--events", "1600", "--drill", "all")
    assert ready["kind"] == "READY" and ready["pins"]["platform_run_id"] == run  # type: ignore[index]
    stream = component("fp-wsp", "--run-id", run)
    assert stream["kind"] == "STREAM_COMPLETE"
    rtdl = component("fp-rtdl", "--run-id", run)
    assert rtdl["stats"]["decisions"] == 400  # type: ignore[index]
    for name in ("fp-cm", "fp-ls", "fp-archive"):
        assert component(name, "--run-id", run)["kind"] == "STAGE_COMPLETE"
    report = component("fp-reporter", "--run-id", run)
    assert all(report["drills"].values())  # type: ignore[union-attr]
    verify = subprocess.run([str(BIN / "fp"), "evidence", "verify", run], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr


def test_ig_admits_an_ndjson_file_into_a_ready_run(substrate: None, tmp_path: Path) -> None:
    run = f"pr-ig-{uuid.uuid4().hex[:8]}"
    ready = component("fp-sr", "--run-id", run, "--events", "400")
    from fp_core.pins import ContextPins

    pins = ContextPins.model_validate(ready["pins"], strict=False)
    lines = [envelope(event_id="1" * 32, pins=pins), envelope(event_id="1" * 32, pins=pins),
             envelope(event_id="1" * 32, amount=9, pins=pins), b"not json", envelope(event_type="nope", pins=pins)]
    (tmp_path / "events.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    out = component("fp-ig admit", "--run-id", run, "--input", str(tmp_path / "events.ndjson"))
    assert out["receipts"] == {"ADMIT": 1, "DUPLICATE": 1, "ANOMALY": 1, "QUARANTINE": 2}
