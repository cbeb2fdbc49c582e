"""ReportRenderer: an evidence bundle as one self-contained HTML file (no external scripts, fonts or
images). Jinja2 renders the page; matplotlib (its SVG backend) draws the plots, inlined as SVG with a
fixed hash salt and no date, so the same bundle renders to the same bytes."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import jinja2

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("fp_adapters.report", "templates"),
                          autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.ChainableUndefined,
                          trim_blocks=True, lstrip_blocks=True)


def _figure() -> Any:
    """A matplotlib Figure drawn by the SVG backend, imported on first use (it costs every other process
    time). No pyplot: its import and global figure registry cost a third more and nothing here needs them."""
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.rcParams.update({"svg.hashsalt": "fp-report", "svg.fonttype": "path", "font.size": 8})
    return Figure(figsize=(4.2, 2.2))


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _bars(title: str, counts: Mapping[str, int], color: str) -> str:
    fig = _figure()
    ax = fig.subplots()
    ax.bar(list(counts), list(counts.values()), color=color)
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=30)
    return _svg(fig)


def _series(title: str, series: Mapping[str, Any]) -> str:
    counts = list(series.get("counts", []))
    width = float(series.get("bucket_s", 1.0)) or 1.0
    fig = _figure()
    ax = fig.subplots()
    ax.plot([i * width for i in range(len(counts))], [c / width for c in counts], color="#2a6f97")
    ax.set_title(title)
    ax.set_xlabel("seconds since the first decision")
    ax.set_ylabel("decisions/s")
    return _svg(fig)


def _docs(files: Mapping[str, bytes]) -> dict[str, Any]:
    return {name: json.loads(data) for name, data in files.items() if name.endswith(".json")}


class HtmlReport:
    """Renders ``report.html`` from a bundle's files (the files are the only input)."""

    def render(self, files: Mapping[str, bytes]) -> bytes:
        docs = _docs(files)
        metrics = docs.get("obs/metrics.json", {})
        wall = metrics.get("wall_clock", {})
        receipts = docs.get("ingress/receipt_summary.json", {})
        dla = docs.get("decisions/dla_summary.json", {})
        latency = wall.get("decision_latency_ms", {})
        histogram = wall.get("decision_latency_histogram_ms", {}).get("ready_to_durable", {})
        plots = {
            "receipts": _bars("receipts by outcome", receipts.get("counts", {}), "#468faf"),
            "actions": _bars("decisions by action", dla.get("actions", {}), "#a44a3f"),
            "latency": _bars("ready->durable latency (ms)", histogram, "#588157") if histogram else "",
            "throughput": _series("decisions over the run", wall["decided_over_time"])
            if wall.get("decided_over_time", {}).get("counts") else "",
        }
        drills = [docs[n] for n in sorted(docs) if n.startswith("drills/")]
        proofs = [docs[n] for n in sorted(docs) if n.startswith("replay/proofs/")]
        failed = docs.get("run_failed.json")
        page = _ENV.get_template("report.html.j2").render(
            run=docs.get("run.json") or (failed or {}).get("header") or {}, completed=docs.get("run_completed.json"),
            failed=failed,
            recon=docs.get("obs/reconciliation.json", {}), receipts=receipts, dla=dla, metrics=metrics,
            latency=latency, lag=wall.get("max_lag_by_topic", {}), final_lag=wall.get("rtdl_final_lag"),
            anomalies=docs.get("obs/anomalies.json", {}), drills=drills,
            anchors=docs.get("replay/offset_ranges.json", {}), proofs=proofs, plots=plots)
        return page.encode()
