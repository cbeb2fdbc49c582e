"""RTDL's Prometheus endpoint serves the running loop's figures, equal to what the stage reports."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from fp_adapters.containers import Platform
from fp_adapters.metrics import serve_metrics
from fp_core.run_config import RunConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_port_serves_the_decision_loops_figures(memory: Platform) -> None:
    result = memory.workflow().run(RunConfig(env="memory", seed=2, events=1200), "pr-metrics")
    assert result.status == "COMPLETED"
    stage = memory.rtdl()
    assert stage.current is not None
    port = free_port()
    serve_metrics(port, stage, "pr-metrics")
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    decisions = result.summary["counts"]["decisions"]
    assert f'fp_rtdl_decisions_total{{platform_run_id="pr-metrics"}} {float(decisions)}' in text
    assert 'fp_rtdl_decision_latency_ms{path="ready_to_durable",platform_run_id="pr-metrics",quantile="p99"}' in text
    assert 'fp_rtdl_consumed_total{platform_run_id="pr-metrics"}' in text


def test_fp_rtdl_offers_the_metrics_port() -> None:
    exe = str(Path(sys.executable).with_name("fp-rtdl"))
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "--metrics-port" in out and "Prometheus" in out
