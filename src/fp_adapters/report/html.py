"""ReportRenderer: an evidence bundle as one self-contained HTML file (no external scripts, fonts or
images). Jinja2 renders the page; ``charts`` draws the plots as inline SVG, so the same bundle renders
to the same bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jinja2

from fp_adapters.report.charts import bars, line

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("fp_adapters.report", "templates"),
                          autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.ChainableUndefined,
                          trim_blocks=True, lstrip_blocks=True)


def _series(title: str, series: Mapping[str, Any]) -> str:
    counts = list(series.get("counts", []))
    width = float(series.get("bucket_s", 1.0)) or 1.0
    return line(title, [i * width for i in range(len(counts))], [c / width for c in counts],
                "seconds since the first decision", "decisions/s", "#2a6f97")


def _by_bound(histogram: Mapping[str, int]) -> dict[str, int]:
    """Latency buckets (``<=10`` ... ``>2000``, stored with sorted keys) in the order of their bounds."""
    def bound(label: str) -> tuple[int, float]:
        for prefix, rank in (("<=", 0), (">", 1)):
            if label.startswith(prefix) and label[len(prefix):].isdigit():
                return rank, float(label[len(prefix):])
        return 2, 0.0
    return dict(sorted(histogram.items(), key=lambda kv: bound(kv[0])))


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
            "receipts": bars("receipts by outcome", receipts.get("counts", {}), "#468faf"),
            "actions": bars("decisions by action", dla.get("actions", {}), "#a44a3f"),
            "latency": bars("ready->durable latency (ms)", _by_bound(histogram), "#588157") if histogram else "",
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
