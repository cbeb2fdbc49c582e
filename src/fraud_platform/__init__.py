"""fraud-platform: a real-time fraud-decisioning platform as a library.

**Same laws, different wiring.** The pure core holds the platform's laws; an *adapter set* plugs the
core into a substrate; one conformance suite proves the laws hold on each set.

This module is the public, stable API (semantic versioning; every change is in ``CHANGELOG.md``).
Everything not re-exported here is internal and may change without notice.

Quick start, over the in-memory adapter set::

    import fraud_platform as fp

    platform = fp.build_container("memory")
    platform.init_resources()
    result = platform.workflow().run(fp.RunConfig(env="memory", seed=7, events=400), "pr-quickstart")
    assert result.status == "COMPLETED"

Groups of names:

- **Composition**: ``build_container``, ``Platform``, ``Settings``, ``load_settings``, ``environments``,
  ``ENVIRONMENTS_GROUP`` (the entry-point group an installed package registers an adapter set under).
- **Ports** (``typing.Protocol``): what an adapter set must provide, each with its contract.
- **Models and laws**: envelopes, pins, receipts, decisions, labels, offsets, the run config, the
  evidence documents, and the pure functions that hold the laws (hashing, ids, as-of label views,
  bundle verification).
- **Services**: each component written against ports only (IG, WSP, RTDL, CM, LS, archive, reporter,
  the run workflow, the replayer); obtain them from ``build_container(env)`` rather than constructing them.
- **Conformance**: ``run_conformance(env)`` runs the one suite (laws + port contracts) against any
  registered environment, e.g. one your package adds.
"""

from __future__ import annotations

from fp_adapters.containers import Platform, build_container
from fp_adapters.environments import GROUP as ENVIRONMENTS_GROUP
from fp_adapters.settings import Settings, known_envs, load_settings
from fp_conformance.runner import run_all as run_conformance
from fp_core.canonical import canonical_json
from fp_core.cases import CaseSubjectKey, CaseTimelineEvent, CaseTrigger
from fp_core.context import ContextItem, ContextKind
from fp_core.decisions import ActionIntent, ActionOutcome, AuditRecord, DecisionRecord
from fp_core.degrade import DegradeMode, DegradeReason
from fp_core.drills import ALL_DRILLS, DrillName, DrillRecord
from fp_core.envelope import EventEnvelope
from fp_core.errors import (
    AppendOnlyViolation,
    ConfigError,
    GateRefused,
    InvalidInput,
    NotFound,
    ObjectExists,
    PlatformError,
    PublishAmbiguous,
    TransientError,
)
from fp_core.evidence import (
    ReplayProof,
    RunFailed,
    RunHeader,
    RunMetrics,
    RunStarted,
    bundle_prefix,
    strip_wall_clock,
    verify_bundle,
)
from fp_core.identity import DedupeKey, derive_event_id, payload_hash
from fp_core.labels import LabelAssertion, LabelSubjectKey, LabelValue, labels_as_of
from fp_core.learning import BundleMetrics, BundleStatus, DatasetManifest, ModelEvaluation, RegistryRecord
from fp_core.offsets import OffsetRange, OriginOffset, merge_ranges
from fp_core.pins import ContextPins
from fp_core.ports import (
    ActionLog,
    AdmissionIndex,
    AuditLog,
    BusConsumer,
    BusProducer,
    BusRecord,
    CaseStore,
    CheckpointLog,
    Clock,
    DecisionLedger,
    Delivery,
    JoinStore,
    LabelStore,
    Log,
    ModelFitter,
    ObjectStore,
    OutboundMessage,
    QuarantineIndex,
    ReceiptLog,
    RegistryLog,
    ReportRenderer,
    SecretStore,
    StageLauncher,
    TableCodec,
    Tracer,
)
from fp_core.receipts import (
    AdmissionOutcome,
    PublishState,
    QuarantineReason,
    QuarantineRecord,
    Receipt,
    ReceiptRow,
)
from fp_core.run_config import RunConfig, config_digest
from fp_core.scoring import ActionType, DecisionPolicy, ScoringBundle
from fp_core.services.archive import ArchiveStage
from fp_core.services.cm import CmStage
from fp_core.services.control import ReadySignal, RunFacts, StageComplete, StreamComplete
from fp_core.services.facts import FactLog
from fp_core.services.ig import IngestionGate
from fp_core.services.learning import BundleRegistry, DatasetBuilder, ModelTrainer
from fp_core.services.ls import LabelService
from fp_core.services.replay import Replayer
from fp_core.services.reporter import Reporter
from fp_core.services.rtdl import DecisionLoop, RtdlStage, SeparateLedger
from fp_core.services.run import RunResult, RunWorkflow
from fp_core.services.sr import ScenarioRunner
from fp_core.services.wsp import WorldStreamer

__version__ = "0.11.0"


def environments() -> list[str]:
    """Every environment that can be built: registered adapter sets and settings files."""
    return known_envs()


__all__ = [
    "ALL_DRILLS",
    "ENVIRONMENTS_GROUP",
    "ActionIntent",
    "ActionLog",
    "ActionOutcome",
    "ActionType",
    "AdmissionIndex",
    "AdmissionOutcome",
    "AppendOnlyViolation",
    "ArchiveStage",
    "AuditLog",
    "AuditRecord",
    "BundleMetrics",
    "BundleRegistry",
    "BundleStatus",
    "BusConsumer",
    "BusProducer",
    "BusRecord",
    "CaseStore",
    "CaseSubjectKey",
    "CaseTimelineEvent",
    "CaseTrigger",
    "CheckpointLog",
    "Clock",
    "CmStage",
    "ConfigError",
    "ContextItem",
    "ContextKind",
    "ContextPins",
    "DatasetBuilder",
    "DatasetManifest",
    "DecisionLedger",
    "DecisionLoop",
    "DecisionPolicy",
    "DecisionRecord",
    "DedupeKey",
    "DegradeMode",
    "DegradeReason",
    "Delivery",
    "DrillName",
    "DrillRecord",
    "EventEnvelope",
    "FactLog",
    "GateRefused",
    "IngestionGate",
    "InvalidInput",
    "JoinStore",
    "LabelAssertion",
    "LabelService",
    "LabelStore",
    "LabelSubjectKey",
    "LabelValue",
    "Log",
    "ModelEvaluation",
    "ModelFitter",
    "ModelTrainer",
    "NotFound",
    "ObjectExists",
    "ObjectStore",
    "OffsetRange",
    "OriginOffset",
    "OutboundMessage",
    "Platform",
    "PlatformError",
    "PublishAmbiguous",
    "PublishState",
    "QuarantineIndex",
    "QuarantineReason",
    "QuarantineRecord",
    "ReadySignal",
    "Receipt",
    "ReceiptLog",
    "ReceiptRow",
    "RegistryLog",
    "RegistryRecord",
    "ReplayProof",
    "Replayer",
    "ReportRenderer",
    "Reporter",
    "RtdlStage",
    "RunConfig",
    "RunFacts",
    "RunFailed",
    "RunHeader",
    "RunMetrics",
    "RunResult",
    "RunStarted",
    "RunWorkflow",
    "ScenarioRunner",
    "ScoringBundle",
    "SecretStore",
    "SeparateLedger",
    "Settings",
    "StageComplete",
    "StageLauncher",
    "StreamComplete",
    "TableCodec",
    "Tracer",
    "TransientError",
    "WorldStreamer",
    "__version__",
    "build_container",
    "bundle_prefix",
    "canonical_json",
    "config_digest",
    "derive_event_id",
    "environments",
    "labels_as_of",
    "load_settings",
    "merge_ranges",
    "payload_hash",
    "run_conformance",
    "strip_wall_clock",
    "verify_bundle",
]
