"""The learning loop's services: the as-of dataset builder (OFS), the trainer (MF) and the bundle
registry (MPR). Datasets and models are evidence: write-once objects under ``evidence/datasets/`` and
``evidence/models/``, named by their content."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fp_core.canonical import short_digest
from fp_core.envelope import iso_utc
from fp_core.errors import InvalidInput, NotFound
from fp_core.evidence import OffsetRangesDoc, bundle_prefix, render
from fp_core.labels import LabelAssertion
from fp_core.learning import (
    DATASET_TYPES,
    DECLINE_PRECISION_TARGET,
    STEP_UP_RECALL_TARGET,
    BundleEvent,
    BundleMetrics,
    BundleStatus,
    DatasetManifest,
    DatasetRow,
    ModelEvaluation,
    RegistryRecord,
    ThresholdMetrics,
    activation,
    active_bundle,
    choose_thresholds,
    dataset_columns,
    dataset_manifest,
    dataset_prefix,
    dataset_rows,
    evaluation_key,
    model_prefix,
    not_registered,
    precision_recall_at,
    registry_view,
    rescore,
    rows_from_columns,
    split_of,
)
from fp_core.ports import AuditLog, Clock, LabelStore, Log, ModelFitter, ObjectStore, RegistryLog, TableCodec
from fp_core.scoring import DEFAULT_BUNDLE, FEATURES, ScoringBundle


def _put_once(objects: ObjectStore, key: str, data: bytes) -> None:
    """Content-named evidence: written once; a rebuild of the same content finds it already there."""
    if not objects.exists(key):
        objects.put(key, data)


@dataclass
class DatasetBuilder:
    """``fp dataset build``: closed runs' audited decisions joined with their labels as of a time."""

    objects: ObjectStore
    audit_log: AuditLog
    labels: LabelStore
    codec: TableCodec
    log: Log

    def build(self, runs: Sequence[str], as_of_ms: int) -> DatasetManifest:
        if not runs:
            raise InvalidInput("name at least one run (--runs)")
        anchors = {}
        for run in sorted(set(runs)):
            try:
                doc = self.objects.get(f"{bundle_prefix(run)}/replay/offset_ranges.json")
            except NotFound:
                raise NotFound(f"run {run!r} has no closed evidence bundle (unknown run, or not closed yet)") from None
            anchors[run] = OffsetRangesDoc.model_validate_json(doc).ranges
        assertions: list[LabelAssertion] = []
        audits = []
        for run in sorted(anchors):
            assertions += self.labels.for_run(run)
            audits += list(self.audit_log.scan(run))
        rows = dataset_rows(audits, assertions, as_of_ms)
        manifest = dataset_manifest(sorted(anchors), anchors, iso_utc(as_of_ms), as_of_ms, rows, assertions,
                                    self.codec.suffix)
        _put_once(self.objects, manifest.rows_key, self.codec.encode(dataset_columns(rows), DATASET_TYPES))
        _put_once(self.objects, f"{dataset_prefix(manifest.dataset_id)}/manifest.json", render(manifest))
        self.log.info("dataset.built", dataset_id=manifest.dataset_id, runs=list(manifest.runs), rows=manifest.rows,
                      fraud=manifest.label_counts["FRAUD"])
        return manifest

    def load(self, dataset_id: str) -> tuple[DatasetManifest, list[DatasetRow]]:
        try:
            manifest = DatasetManifest.model_validate_json(
                self.objects.get(f"{dataset_prefix(dataset_id)}/manifest.json"))
        except NotFound:
            raise NotFound(f"dataset {dataset_id!r} does not exist (build it with `fp dataset build`)") from None
        return manifest, rows_from_columns(self.codec.decode(self.objects.get(manifest.rows_key)))


@dataclass
class BundleRegistry:
    """``fp bundle list|show|activate``: the registry's view over its append-only records. Activation
    changes what the *next* run pins at READY; a running run keeps the bundle it pinned."""

    records: RegistryLog
    clock: Clock
    log: Log

    def statuses(self) -> list[BundleStatus]:
        return [status for _b, status in registry_view(self.records.records()).values()]

    def show(self, bundle_id: str) -> tuple[ScoringBundle, BundleStatus]:
        view = registry_view(self.records.records())
        if bundle_id not in view:
            raise not_registered(bundle_id, view)
        return view[bundle_id]

    def bundle(self, bundle_id: str) -> ScoringBundle:
        return self.show(bundle_id)[0]

    def active(self) -> ScoringBundle:
        return active_bundle(self.records.records())

    def register(self, bundle: ScoringBundle, evaluation_key: str, dataset_id: str) -> None:
        self.records.append([RegistryRecord(
            record_id=f"registered:{bundle.bundle_id}", bundle_id=bundle.bundle_id, event=BundleEvent.REGISTERED,
            recorded_at_ms=self.clock.now_ms(), bundle=bundle, evaluation_key=evaluation_key,
            dataset_id=dataset_id)])

    def activate(self, bundle_id: str) -> bool:
        """True when this changed the active bundle; False when it already was the active one."""
        new = activation(self.records.records(), bundle_id, self.clock.now_ms())
        self.records.append(new)
        if new:
            self.log.info("bundle.activated", bundle_id=bundle_id)
        return bool(new)


def _metrics(bundle: str, labels: Sequence[int], scores: Sequence[float], step_up: float, decline: float,
             fitter: ModelFitter) -> BundleMetrics:
    roc, pr = fitter.ranking(labels, scores)
    points = {}
    for name, t in (("step_up", step_up), ("decline", decline)):
        precision, recall = precision_recall_at(labels, scores, t)
        points[name] = ThresholdMetrics(threshold=t, precision=precision, recall=recall)
    return BundleMetrics(bundle=bundle, rows=len(labels), positives=sum(labels), roc_auc=roc, pr_auc=pr,
                         step_up=points["step_up"], decline=points["decline"])


@dataclass
class ModelTrainer:
    """``fp model train``: fit on the train split, choose thresholds on validation, evaluate on test
    against the bundle(s) that made the original decisions, register the new bundle."""

    datasets: DatasetBuilder
    registry: BundleRegistry
    fitter: ModelFitter
    objects: ObjectStore
    log: Log

    def _baseline(self, rows: Sequence[DatasetRow]) -> ScoringBundle:
        """The bundle that made the original decisions (the most frequent one, when there were several)."""
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.bundle] = counts.get(r.bundle, 0) + 1
        name = max(sorted(counts), key=lambda b: counts[b]).split(":", 1)[0]
        try:
            return self.registry.bundle(name)
        except NotFound:
            return DEFAULT_BUNDLE

    def train(self, dataset_id: str, seed: int = 0) -> ModelEvaluation:
        manifest, rows = self.datasets.load(dataset_id)
        split: dict[str, list[DatasetRow]] = {"train": [], "validation": [], "test": []}
        for r in rows:
            split[split_of(r.decision_id)].append(r)
        train, validation, test = split["train"], split["validation"], split["test"]
        bias, weights = self.fitter.fit([r.features for r in train], [r.label for r in train], seed)
        baseline = self._baseline(rows)
        draft = baseline.model_copy(update={"bias": bias, "weights": dict(zip(FEATURES, weights, strict=True)),
                                            "step_up_threshold": 0.5, "decline_threshold": 0.9})
        step_up, decline = choose_thresholds([r.label for r in validation], rescore(validation, draft))
        name = "fraud-logit-" + short_digest([manifest.fingerprint, seed, bias, weights, step_up, decline], 10)
        bundle = draft.model_copy(update={"bundle_id": name, "version": manifest.dataset_id,
                                          "step_up_threshold": step_up, "decline_threshold": decline})
        bundle = ScoringBundle.model_validate(bundle.model_dump())
        labels = [r.label for r in test]
        if not any(labels):
            raise InvalidInput(f"dataset {dataset_id}: the test split holds no FRAUD label; build a larger dataset")
        evaluation = ModelEvaluation(
            bundle_id=bundle.bundle_id, version=bundle.version, dataset_id=manifest.dataset_id,
            dataset_fingerprint=manifest.fingerprint, seed=seed, family=self.fitter.family,
            splits={k: len(v) for k, v in split.items()},
            targets={"decline_precision": DECLINE_PRECISION_TARGET, "step_up_recall": STEP_UP_RECALL_TARGET},
            metrics=_metrics(f"{bundle.bundle_id}:{bundle.version}", labels, rescore(test, bundle), step_up, decline,
                             self.fitter),
            baseline=_metrics(",".join(manifest.bundles), labels, [r.score for r in test], baseline.step_up_threshold,
                              baseline.decline_threshold, self.fitter))
        key = str(evaluation_key(bundle))
        _put_once(self.objects, f"{model_prefix(bundle.bundle_id)}/bundle.json", render(bundle))
        _put_once(self.objects, key, render(evaluation))
        self.registry.register(bundle, key, manifest.dataset_id)
        self.log.info("model.trained", bundle_id=bundle.bundle_id, dataset_id=dataset_id,
                      roc_auc=evaluation.metrics.roc_auc, baseline_roc_auc=evaluation.baseline.roc_auc)
        return evaluation

    def evaluate(self, dataset_id: str, bundle_id: str) -> BundleMetrics:
        """A registered bundle scored on every row of a dataset (e.g. a later run's truth)."""
        _manifest, rows = self.datasets.load(dataset_id)
        bundle = self.registry.bundle(bundle_id)
        return _metrics(f"{bundle.bundle_id}:{bundle.version}", [r.label for r in rows], rescore(rows, bundle),
                        bundle.step_up_threshold, bundle.decline_threshold, self.fitter)
