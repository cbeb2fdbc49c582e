"""The evidence bundle (seed 11.4): its documents, its file list, and the check of its consistency."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from fp_core.canonical import digest
from fp_core.model import FrozenModel
from fp_core.offsets import OffsetRange, OriginOffset
from fp_core.reconciliation import Reconciliation

EVIDENCE_PREFIX = "evidence/runs"

CORE_FILES: tuple[str, ...] = (
    "run_started.json",
    "run.json",
    "ingress/receipt_summary.json",
    "decisions/dla_summary.json",
    "replay/offset_ranges.json",
    "obs/metrics.json",
    "obs/anomalies.json",
    "obs/reconciliation.json",
)
COMPLETION_FILE = "run_completed.json"
CONFORMANCE_FILE = "conformance/report.json"
FAILURE_FILE = "run_failed.json"
STARTED_FILE = "run_started.json"
PROOFS_DIR = "replay/proofs/"
REPORT_FILE = "report.html"
"""A page derived from the bundle (``fp evidence report``): rewritten on demand, so not listed or verified."""
"""Replay proofs are added after the run closed; they are not part of the closed file list."""
WALL_CLOCK_FIELDS = frozenset({"started_at", "ended_at", "durations_s", "rates_per_s", "git_sha",
                               "wall_clock", "duration_s", "trace_id"})


def bundle_prefix(platform_run_id: str) -> str:
    """Where a run's evidence bundle lives in the object store."""
    return f"{EVIDENCE_PREFIX}/{platform_run_id}"


def drill_file(drill_id: str) -> str:
    return f"drills/{drill_id}.json"


class RunHeader(FrozenModel):
    """``run.json``: the run's ids, environment, config and digest, pins, code version."""

    platform_run_id: str
    scenario_run_id: str
    env: str
    started_at: str
    ended_at: str | None
    config: dict[str, Any]
    config_digest: str
    pins: dict[str, Any]
    git_sha: str
    component_versions: dict[str, str]
    substrate: dict[str, Any] = {}
    """What the run ran on (seed 10.3): Kafka bootstrap and cluster id, topic map, bucket map, tables,
    region, SSM parameter names (never values). Not behaviour: it is kept out of ``config_digest``."""
    substrate_digest: str = ""
    """SHA-256 over ``substrate``, ``component_versions`` and ``git_sha``: two runs on different clusters,
    buckets or code differ here while their ``config_digest`` (what decides behaviour) may be equal."""
    bundle_evaluation: str | None = None
    """Where the pinned bundle's evaluation lives (``evidence/models/<bundle_id>/evaluation.json``);
    None for the built-in bundle, which was never trained."""
    trace_id: str = ""
    """The OpenTelemetry trace of the run (wall-clock: differs between otherwise equal runs)."""


def substrate_digest(substrate: Mapping[str, Any], component_versions: Mapping[str, str], git_sha: str) -> str:
    return digest({"substrate": dict(substrate), "component_versions": dict(component_versions),
                   "git_sha": git_sha})


class ReceiptSummary(FrozenModel):
    platform_run_id: str
    counts: dict[str, int]
    by_event_class: dict[str, dict[str, int]]
    top_reasons: list[dict[str, Any]]
    sample: list[dict[str, Any]]


class DlaSummary(FrozenModel):
    platform_run_id: str
    decisions: int
    action_intents: int
    action_outcomes: int
    actions: dict[str, int]
    degrade_by_reason: dict[str, int]
    degraded_decisions: int
    decision_digest: str
    cases: int
    case_timeline_events: int
    label_assertions: int
    sample: list[dict[str, Any]]


class OffsetRangesDoc(FrozenModel):
    """``replay/offset_ranges.json``: the replay anchors. ``ranges`` are RTDL's (``consumer_group``);
    ``groups`` holds every consumer group that wrote truth for the run (RTDL, CM, archive)."""

    platform_run_id: str
    consumer_group: str
    ranges: tuple[OffsetRange, ...]
    archive_objects: list[str]
    groups: dict[str, tuple[OffsetRange, ...]] = {}


class ReplayProof(FrozenModel):
    """``replay/proofs/<replay_id>.json``: a replay of the run's anchors and how its decisions compared
    with the audited ones (write-once; written after the bundle was closed)."""

    platform_run_id: str
    replay_id: str
    source: str
    consumer_group: str
    anchors: tuple[OffsetRange, ...]
    records_replayed: int
    bundle_id: str
    bundle_pinned: bool
    audited: int
    compared: int
    matched: int
    mismatched: int
    missing_in_replay: int
    differences: list[dict[str, Any]]
    decisions_digest: str
    started_at: str
    duration_s: float
    rates_per_s: dict[str, float]

    @property
    def proved(self) -> bool:
        return self.mismatched == 0 and self.missing_in_replay == 0 and self.compared == self.audited


class AnomalySummary(FrozenModel):
    platform_run_id: str
    duplicates: int
    payload_hash_mismatches: int
    quarantined: int
    quarantine_reasons: dict[str, int]
    join_miss_degrades: int
    late_context_arrivals: int
    ambiguous_publishes: int


class ReconciliationDoc(FrozenModel):
    platform_run_id: str
    ingress: Reconciliation
    traffic_admitted: int
    decisions: int
    every_admitted_txn_decided: bool
    duplicate_action_outcomes: int


class RunStarted(FrozenModel):
    """``run_started.json``, written once by SR: the run exists, and where its facts begin."""

    platform_run_id: str
    scenario_run_id: str
    started_at: str
    ready_at: OriginOffset


class RunMetrics(FrozenModel):
    """``obs/metrics.json``: one shape whoever closes the run (the orchestrator or ``fp-reporter``).
    ``durations_s``, ``rates_per_s`` and ``wall_clock`` are wall-clock figures (empty when the closer
    did not time the stages)."""

    platform_run_id: str
    counts: dict[str, Any]
    durations_s: dict[str, float] = {}
    rates_per_s: dict[str, float] = {}
    wall_clock: dict[str, Any] = {}


class RunCompleted(FrozenModel):
    platform_run_id: str
    status: str
    files: list[str]
    drills_passed: bool
    conformance_attached: bool = False


class RunFailed(FrozenModel):
    """``run_failed.json`` (write-once; a later failure of the same run is ``run_failed.<n>.json``): the
    stage, the reason, what was counted and consumed so far, and the run header as known then. A run that
    is later completed keeps its failure records; ``run_completed.json`` supersedes them."""

    platform_run_id: str
    status: str
    failure_stage: str
    reason: str
    partial_counts: dict[str, Any]
    anomalies: dict[str, int] = {}
    offsets_consumed: list[dict[str, Any]]
    offsets_consumed_by_group: dict[str, list[dict[str, Any]]] = {}
    header: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    """What could not be read for this record (the store that failed), by field: the record is still
    written, to the object store, so a failure never depends on the store that caused it."""


def render(doc: BaseModel | Mapping[str, Any]) -> bytes:
    data = doc.model_dump(mode="json") if isinstance(doc, BaseModel) else dict(doc)
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


SUBSTRATE_FIELDS = frozenset({"substrate", "substrate_digest"})


def strip_substrate(doc: Any) -> Any:
    """``doc`` without what names the substrate a run used (two namespaces of one machine differ there)."""
    if isinstance(doc, dict):
        return {k: strip_substrate(v) for k, v in doc.items() if k not in SUBSTRATE_FIELDS}
    return doc


def strip_wall_clock(doc: Any) -> Any:
    """The document without wall-clock fields: what must be byte-identical across equal runs."""
    if isinstance(doc, dict):
        return {k: strip_wall_clock(v) for k, v in doc.items() if k not in WALL_CLOCK_FIELDS}
    if isinstance(doc, list):
        return [strip_wall_clock(v) for v in doc]
    return doc


def verify_bundle(files: Mapping[str, bytes]) -> list[str]:
    """Problems with a bundle (empty list = complete and consistent). Keys are paths in the bundle."""
    problems = [f"missing {name}" for name in CORE_FILES if name not in files]
    if COMPLETION_FILE not in files:
        problems.append(f"missing {COMPLETION_FILE}" + (" (run failed)" if FAILURE_FILE in files else ""))
    if "run.json" in files:
        requested = json.loads(files["run.json"]).get("config", {}).get("drills", [])
        problems += [f"drill {d} was requested but {drill_file(d)} is missing" for d in requested
                     if drill_file(d) not in files]
    if problems:
        return problems
    docs = {name: json.loads(files[name]) for name in files if name.endswith(".json")}
    run = docs["run.json"]
    for name, doc in docs.items():
        if isinstance(doc, dict) and doc.get("platform_run_id", run["platform_run_id"]) != run["platform_run_id"]:
            problems.append(f"{name}: platform_run_id differs from run.json")
    completed = RunCompleted.model_validate(docs[COMPLETION_FILE], strict=False)
    listed = set(completed.files)
    present = {f for f in files if not f.startswith(PROOFS_DIR)} - {COMPLETION_FILE, REPORT_FILE}
    if listed != present:
        problems.append(f"run_completed.json lists {sorted(listed ^ present)} differently from the bundle")
    recon = ReconciliationDoc.model_validate(docs["obs/reconciliation.json"], strict=False)
    receipts = ReceiptSummary.model_validate(docs["ingress/receipt_summary.json"], strict=False)
    if recon.ingress.emitted_total != sum(receipts.counts.values()):
        problems.append("reconciliation emitted_total != receipt counts")
    if not recon.ingress.balanced:
        problems.append("ingress reconciliation is not balanced")
    dla = DlaSummary.model_validate(docs["decisions/dla_summary.json"], strict=False)
    if dla.decisions != recon.decisions or receipts.counts.get("ADMIT", 0) < dla.decisions:
        problems.append("decision counts disagree between dla_summary and reconciliation")
    if not recon.every_admitted_txn_decided:
        problems.append("not every admitted transaction has exactly one decision")
    if recon.duplicate_action_outcomes:
        problems.append(f"{recon.duplicate_action_outcomes} duplicate action outcomes")
    if completed.conformance_attached:
        report = docs.get(CONFORMANCE_FILE, {})
        if not report.get("checks") or not all(c.get("passed") for c in report["checks"]):
            problems.append("attached conformance report is missing or has failed checks")
    drills = [n for n in docs if n.startswith("drills/")]
    failed = [n for n in drills if not docs[n].get("passed")]
    if failed:
        problems.append(f"drills failed: {failed}")
    if completed.drills_passed != (not failed):
        problems.append("run_completed.drills_passed disagrees with drill records")
    ranges = OffsetRangesDoc.model_validate(docs["replay/offset_ranges.json"], strict=False)
    if dla.decisions and not ranges.ranges:
        problems.append("decisions exist but no replay offset ranges were recorded")
    return problems
