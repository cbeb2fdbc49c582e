"""The evidence report in a real browser: headless Chromium (Debian's package) loads report.html with no
console message and no external resource, and every number it shows equals the bundle's."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fp_adapters.containers import Platform
from fp_core.run_config import DRILLS, RunConfig
from tests.unit.conftest import memory_container

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is installed by scripts/test-all.sh")


class Shown(HTMLParser):
    """Every element's ``data-k`` with the text it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.append(dict(attrs).get("data-k"))

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] and data.strip():
            self.values[self._open[-1]] = data.strip()


def browse(page: Path) -> tuple[str, list[str]]:
    """The DOM Chromium built from ``page``, and the console messages it logged."""
    assert CHROMIUM is not None
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def expected_numbers(files: dict[str, Any]) -> dict[str, str]:
    docs = {k: json.loads(v) for k, v in files.items() if k.endswith(".json")}
    recon, receipts = docs["obs/reconciliation.json"], docs["ingress/receipt_summary.json"]
    dla, metrics = docs["decisions/dla_summary.json"], docs["obs/metrics.json"]
    out = {"decisions": recon["decisions"], "traffic_admitted": recon["traffic_admitted"],
           "degraded": dla["degraded_decisions"], "final_lag": metrics["wall_clock"]["rtdl_final_lag"]}
    for c in recon["ingress"]["classes"]:
        for f in ("intended", "emitted", "admit", "duplicate", "quarantine", "anomaly"):
            out[f"recon.{c['event_class']}.{f}"] = c[f]
    out |= {f"receipts.{k}": v for k, v in receipts["counts"].items()}
    out |= {f"reason.{r['reason']}": r["count"] for r in receipts["top_reasons"]}
    out |= {f"actions.{k}": v for k, v in dla["actions"].items()}
    out |= {f"degrade.{k}": v for k, v in dla["degrade_by_reason"].items()}
    for name, p in metrics["wall_clock"]["decision_latency_ms"].items():
        out |= {f"latency.{name}.{q}": p[q] for q in ("count", "p50", "p95", "p99")}
    out |= {f"rate.{k}": v for k, v in metrics["rates_per_s"].items()}
    out |= {f"lag.{k}": v for k, v in metrics["wall_clock"]["max_lag_by_topic"].items()}
    out |= {f"drill.{d['drill_id']}": "passed" if d["passed"] else "FAILED"
            for k, d in docs.items() if k.startswith("drills/")}
    out |= {f"proof.{d['replay_id']}.matched": d["matched"] for k, d in docs.items() if k.startswith("replay/proofs/")}
    return {k: str(v) for k, v in out.items()}


@pytest.fixture
def memory() -> Platform:
    container = memory_container()
    container.init_resources()
    return container


def test_report_renders_in_chromium_with_the_bundles_numbers(memory: Platform, tmp_path: Path) -> None:
    run = "pr-report"
    result = memory.workflow().run(RunConfig(env="memory", seed=9, events=4000, drills=DRILLS), run)
    assert result.status == "COMPLETED"
    objects = memory.adapters.objects()
    assert objects.exists(f"evidence/runs/{run}/report.html")  # written at closure
    memory.replayer().replay(run, "kafka")
    _key, page = memory.reporter().write_report(run)  # on demand: now with the replay proof
    prefix = f"evidence/runs/{run}/"
    files = {k.removeprefix(prefix): objects.get(k) for k in objects.list(prefix)}
    assert files["report.html"] == page
    text = page.decode()
    for external in ('src="http', "src='http", 'href="http', "url(http", "<script", "<link"):
        assert external not in text, external
    path = tmp_path / "report.html"
    path.write_bytes(page)
    dom, console = browse(path)
    assert console == []
    shown = Shown()
    shown.feed(dom)
    expected = expected_numbers(files)
    assert len(expected) > 30 and any(k.startswith("proof.") for k in expected)
    assert {k: shown.values.get(k) for k in expected} == expected
    assert dom.count("<svg") >= 4  # receipts, actions, latency histogram, throughput


def test_the_console_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><html><body><script>console.error("report-error")</script></body></html>')
    _dom, console = browse(bad)
    assert any("report-error" in line for line in console)
