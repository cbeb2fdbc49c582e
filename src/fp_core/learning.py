"""The learning plane's laws (seed 6.5): the as-of dataset, the deterministic split, thresholds chosen to
stated targets, the evaluation of a bundle on held-out truth, and the bundle registry's lifecycle.

Rows are the decisions DLA audited, with the features DF used at decision time (never re-derived, so
training sees exactly what serving saw) and the label as it was known at ``as_of``: an assertion
recorded after ``as_of`` cannot reach a row, and neither can a decision whose event time is later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from fp_core.canonical import digest
from fp_core.decisions import AuditRecord
from fp_core.degrade import DegradeMode
from fp_core.envelope import iso_utc
from fp_core.errors import InvalidInput, NotFound
from fp_core.labels import LabelAssertion, LabelValue, labels_as_of
from fp_core.model import FrozenModel
from fp_core.offsets import OffsetRange
from fp_core.scoring import DEFAULT_BUNDLE, FEATURES, ScoringBundle, score

DATASET_FORMAT = "fp.dataset.v1"
DATASET_TYPES: dict[str, str] = {
    "platform_run_id": "string", "decision_id": "string", "event_id": "string", "event_ts_ms": "int64",
    "bundle": "string", "score": "float64", "action": "string", "degraded": "int64",
    **dict.fromkeys(FEATURES, "float64"), "label": "int64", "label_recorded_ts_ms": "int64",
}
"""The dataset's columns: identity, what the original decision did, the features it used, the label."""

Split = Literal["train", "validation", "test"]
DECLINE_PRECISION_TARGET = 0.9
"""The decline threshold is the lowest score at which validation precision reaches this."""
STEP_UP_RECALL_TARGET = 0.9
"""The step-up threshold is the highest score at which validation recall reaches this."""


@dataclass(frozen=True, slots=True)
class DatasetRow:
    platform_run_id: str
    decision_id: str
    event_id: str
    event_ts_ms: int
    bundle: str
    score: float
    action: str
    degraded: int
    features: tuple[float, ...]
    label: int
    label_recorded_ts_ms: int


def dataset_rows(audits: Iterable[AuditRecord], assertions: Iterable[LabelAssertion],
                 as_of_ms: int) -> list[DatasetRow]:
    """One row per audited decision with event time at or before ``as_of_ms``, labelled with the latest
    assertion recorded at or before it (FRAUD = 1; LEGIT or no assertion yet = 0), sorted by run,
    event time and decision id."""
    view = labels_as_of(assertions, as_of_ms)
    by_event = {(k.platform_run_id, k.event_id): a for k, a in view.items()}
    rows = []
    for audit in audits:
        d = audit.decision
        if d.event_ts_ms > as_of_ms:
            continue
        known = by_event.get((d.pins.platform_run_id, d.event_id))
        rows.append(DatasetRow(
            platform_run_id=d.pins.platform_run_id, decision_id=d.decision_id, event_id=d.event_id,
            event_ts_ms=d.event_ts_ms, bundle=f"{d.bundle.bundle_id}:{d.bundle.version}", score=d.score,
            action=d.action.value, degraded=int(d.degrade.mode is not DegradeMode.NONE),
            features=tuple(float(d.features.get(f, 0.0)) for f in FEATURES),
            label=int(known is not None and known.label is LabelValue.FRAUD),
            label_recorded_ts_ms=known.recorded_ts_ms if known is not None else -1))
    rows.sort(key=lambda r: (r.platform_run_id, r.event_ts_ms, r.decision_id))
    return rows


def dataset_columns(rows: Sequence[DatasetRow]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {name: [] for name in DATASET_TYPES}
    for r in rows:
        for name in ("platform_run_id", "decision_id", "event_id", "event_ts_ms", "bundle", "score", "action",
                     "degraded", "label", "label_recorded_ts_ms"):
            cols[name].append(getattr(r, name))
        for name, value in zip(FEATURES, r.features, strict=True):
            cols[name].append(value)
    return cols


def rows_from_columns(cols: Mapping[str, Sequence[Any]]) -> list[DatasetRow]:
    n = len(cols["decision_id"])
    return [DatasetRow(
        platform_run_id=cols["platform_run_id"][i], decision_id=cols["decision_id"][i], event_id=cols["event_id"][i],
        event_ts_ms=cols["event_ts_ms"][i], bundle=cols["bundle"][i], score=cols["score"][i], action=cols["action"][i],
        degraded=cols["degraded"][i], features=tuple(cols[f][i] for f in FEATURES), label=cols["label"][i],
        label_recorded_ts_ms=cols["label_recorded_ts_ms"][i]) for i in range(n)]


def rows_digest(rows: Sequence[DatasetRow]) -> str:
    """SHA-256 over every row's values in order (the content part of the dataset's fingerprint)."""
    h = hashlib.sha256()
    for r in rows:
        h.update(repr((r.platform_run_id, r.decision_id, r.event_id, r.event_ts_ms, r.bundle, r.score, r.action,
                       r.degraded, r.features, r.label, r.label_recorded_ts_ms)).encode())
    return h.hexdigest()


class DatasetManifest(FrozenModel):
    """``evidence/datasets/<dataset_id>/manifest.json``. ``fingerprint`` covers the inputs (runs and their
    replay anchors, as-of, features) and the rows; the same inputs always give the same fingerprint."""

    dataset_id: str
    format: str
    runs: tuple[str, ...]
    offset_ranges: dict[str, tuple[OffsetRange, ...]]
    as_of: str
    as_of_ms: int
    rows: int
    label_counts: dict[str, int]
    label_assertions_visible: int
    label_assertions_after_as_of: int
    bundles: tuple[str, ...]
    features: tuple[str, ...]
    columns: dict[str, str]
    rows_key: str
    fingerprint: str


def dataset_manifest(runs: Sequence[str], anchors: Mapping[str, Sequence[OffsetRange]], as_of: str, as_of_ms: int,
                     rows: Sequence[DatasetRow], assertions: Sequence[LabelAssertion],
                     rows_suffix: str) -> DatasetManifest:
    """The manifest of a dataset; raises ``InvalidInput`` when the rows could not teach anything."""
    if not rows:
        raise InvalidInput(f"no decision of runs {list(runs)} has an event time at or before as-of {as_of}")
    visible = sum(1 for a in assertions if a.recorded_ts_ms <= as_of_ms)
    if visible == 0:
        first = min((a.recorded_ts_ms for a in assertions), default=None)
        hint = f"; the earliest is recorded at {iso_utc(first)}" if first is not None else "; the runs have none"
        raise InvalidInput(f"no label assertion of runs {list(runs)} is recorded at or before as-of {as_of}{hint}")
    fraud = sum(r.label for r in rows)
    inputs = {"format": DATASET_FORMAT, "runs": sorted(runs), "as_of_ms": as_of_ms, "features": list(FEATURES),
              "anchors": {r: [o.model_dump(mode="json") for o in anchors.get(r, ())] for r in sorted(runs)},
              "rows": rows_digest(rows)}
    fingerprint = digest(inputs)
    dataset_id = "ds-" + fingerprint[:16]
    return DatasetManifest(
        dataset_id=dataset_id, format=DATASET_FORMAT, runs=tuple(sorted(runs)),
        offset_ranges={r: tuple(anchors.get(r, ())) for r in sorted(runs)}, as_of=as_of, as_of_ms=as_of_ms,
        rows=len(rows), label_counts={"FRAUD": fraud, "LEGIT": len(rows) - fraud},
        label_assertions_visible=visible, label_assertions_after_as_of=len(assertions) - visible,
        bundles=tuple(sorted({r.bundle for r in rows})), features=FEATURES, columns=DATASET_TYPES,
        rows_key=f"{dataset_prefix(dataset_id)}/rows.{rows_suffix}", fingerprint=fingerprint)


def dataset_prefix(dataset_id: str) -> str:
    return f"evidence/datasets/{dataset_id}"


def model_prefix(bundle_id: str) -> str:
    return f"evidence/models/{bundle_id}"


def evaluation_key(bundle: ScoringBundle) -> str | None:
    """Where a trained bundle's evaluation lives; None for the built-in bundle."""
    return None if bundle == DEFAULT_BUNDLE else f"{model_prefix(bundle.bundle_id)}/evaluation.json"


def split_of(decision_id: str) -> Split:
    """A row's split from its decision id alone: 60 / 20 / 20, independent of order and of other rows."""
    bucket = int(hashlib.sha256(decision_id.encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 6 else "validation" if bucket < 8 else "test"


def precision_recall_at(labels: Sequence[int], scores: Sequence[float], threshold: float) -> tuple[float, float]:
    flagged = [y for y, s in zip(labels, scores, strict=True) if s >= threshold]
    positives = sum(labels)
    tp = sum(flagged)
    precision = tp / len(flagged) if flagged else 0.0
    recall = tp / positives if positives else 0.0
    return round(precision, 6), round(recall, 6)


def choose_thresholds(labels: Sequence[int], scores: Sequence[float]) -> tuple[float, float]:
    """(step_up, decline) from validation rows: decline at the lowest score whose precision reaches
    ``DECLINE_PRECISION_TARGET``; step-up at the highest score below it whose recall reaches
    ``STEP_UP_RECALL_TARGET``. Both kept inside (0, 1) as a bundle requires."""
    positives = sum(labels)
    if positives == 0:
        raise InvalidInput("the validation split holds no FRAUD label: thresholds cannot be chosen")
    ranked = sorted(zip(scores, labels, strict=True), key=lambda p: -p[0])
    tp = flagged = 0
    decline: float | None = None
    step_up: float | None = None
    i = 0
    while i < len(ranked):
        s = ranked[i][0]
        while i < len(ranked) and ranked[i][0] == s:  # a threshold flags every row with that score
            tp += ranked[i][1]
            flagged += 1
            i += 1
        if tp / flagged >= DECLINE_PRECISION_TARGET:
            decline = s
        if step_up is None and tp / positives >= STEP_UP_RECALL_TARGET:
            step_up = s
    decline = min(max(decline if decline is not None else ranked[0][0], 1e-6), 1 - 1e-6)
    step_up = step_up if step_up is not None and step_up < decline else decline / 2
    return round(max(step_up, 1e-6), 6), round(decline, 6)


class ThresholdMetrics(FrozenModel):
    threshold: float
    precision: float
    recall: float


class BundleMetrics(FrozenModel):
    """How one bundle ranks and acts on held-out rows."""

    bundle: str
    rows: int
    positives: int
    roc_auc: float
    pr_auc: float
    step_up: ThresholdMetrics
    decline: ThresholdMetrics


class ModelEvaluation(FrozenModel):
    """``evidence/models/<bundle_id>/evaluation.json``: the trained bundle and the bundle(s) that made
    the original decisions, on the same held-out rows."""

    bundle_id: str
    version: str
    dataset_id: str
    dataset_fingerprint: str
    seed: int
    family: str
    splits: dict[str, int]
    targets: dict[str, float]
    metrics: BundleMetrics
    baseline: BundleMetrics


class BundleEvent(StrEnum):
    REGISTERED = "REGISTERED"
    ACTIVATED = "ACTIVATED"
    RETIRED = "RETIRED"


class RegistryRecord(FrozenModel):
    """One append-only registry record: a bundle registered (with its parameters and evaluation),
    activated, or retired. ``seq`` orders them (assigned by the store)."""

    record_id: str
    bundle_id: str
    event: BundleEvent
    recorded_at_ms: int
    bundle: ScoringBundle | None = None
    evaluation_key: str | None = None
    dataset_id: str | None = None


class BundleStatus(FrozenModel):
    """A bundle's place in the registry: active (pinned by the next run), registered, or retired."""

    bundle_id: str
    version: str
    status: Literal["active", "registered", "retired"]
    builtin: bool
    registered_at_ms: int | None
    evaluation_key: str | None
    dataset_id: str | None


def registry_view(records: Sequence[RegistryRecord]) -> dict[str, tuple[ScoringBundle, BundleStatus]]:
    """Every known bundle (the built-in default first) with its status after ``records`` in order. The
    built-in bundle is active until another is activated."""
    view: dict[str, tuple[ScoringBundle, BundleStatus]] = {
        DEFAULT_BUNDLE.bundle_id: (DEFAULT_BUNDLE, BundleStatus(
            bundle_id=DEFAULT_BUNDLE.bundle_id, version=DEFAULT_BUNDLE.version, status="active", builtin=True,
            registered_at_ms=None, evaluation_key=None, dataset_id=None))}
    for r in records:
        if r.event is BundleEvent.REGISTERED and r.bundle is not None and r.bundle_id not in view:
            view[r.bundle_id] = (r.bundle, BundleStatus(
                bundle_id=r.bundle_id, version=r.bundle.version, status="registered", builtin=False,
                registered_at_ms=r.recorded_at_ms, evaluation_key=r.evaluation_key, dataset_id=r.dataset_id))
        elif r.bundle_id in view:
            bundle, status = view[r.bundle_id]
            new = "active" if r.event is BundleEvent.ACTIVATED else "retired"
            view[r.bundle_id] = (bundle, status.model_copy(update={"status": new}))
    return view


def active_bundle(records: Sequence[RegistryRecord]) -> ScoringBundle:
    for bundle, status in registry_view(records).values():
        if status.status == "active":
            return bundle
    return DEFAULT_BUNDLE


def not_registered(bundle_id: str, known: Iterable[str], shown: int = 5) -> NotFound:
    """The error for an unknown bundle id: one line, naming a few of the registered ones (a registry
    grows without bound; ``fp bundle list`` shows them all)."""
    names = sorted(known)
    more = f" and {len(names) - shown} more (fp bundle list)" if len(names) > shown else ""
    listed = ", ".join(names[:shown]) + more
    return NotFound(f"bundle {bundle_id!r} is not registered (known: {listed or 'none'})")


def activation(records: Sequence[RegistryRecord], bundle_id: str, now_ms: int) -> list[RegistryRecord]:
    """The records that make ``bundle_id`` the active bundle: the current one retired, this one activated
    (nothing when it is already active)."""
    view = registry_view(records)
    if bundle_id not in view:
        raise not_registered(bundle_id, view)
    seq = len(records)
    out = []
    for other, (_b, status) in view.items():
        if status.status == "active":
            if other == bundle_id:
                return []
            out.append(RegistryRecord(record_id=f"{seq}:{other}:RETIRED", bundle_id=other,
                                      event=BundleEvent.RETIRED, recorded_at_ms=now_ms))
    out.append(RegistryRecord(record_id=f"{seq}:{bundle_id}:ACTIVATED", bundle_id=bundle_id,
                              event=BundleEvent.ACTIVATED, recorded_at_ms=now_ms))
    return out


def rescore(rows: Sequence[DatasetRow], bundle: ScoringBundle) -> list[float]:
    """Each row's score under ``bundle``, from the features DF recorded (exactly as DF scores)."""
    return [score(dict(zip(FEATURES, r.features, strict=True)), bundle) for r in rows]
