"""Ports: every capability the services need from a substrate, with the contract each must keep.

Adapters implement these; the conformance suite checks exactly these contracts on every environment.
All batch methods make one round trip per call where the substrate allows it.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence, Set
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol, TypeVar

import msgspec

from fp_core.admission import Claim, Sighting
from fp_core.cases import CaseTimelineEvent
from fp_core.context import ContextItem, ContextKind
from fp_core.decisions import ActionIntent, ActionOutcome, AuditRecord
from fp_core.identity import DedupeKey
from fp_core.labels import LabelAssertion
from fp_core.learning import RegistryRecord
from fp_core.offsets import OffsetRange, OriginOffset
from fp_core.receipts import PublishRecord, QuarantineRecord, Receipt, ReceiptRow

TopicPartition = tuple[str, int]
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Clock(Protocol):
    """Time, injected: wall clock for evidence stamps and durations only, never for decisions."""

    def now_ms(self) -> int:
        """Wall-clock epoch milliseconds (evidence timestamps only, never decisions)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, for durations."""
        ...

    def sleep(self, seconds: float) -> None: ...


RARE_EVENT_LINES = 20
"""Per-event log lines are DEBUG, except rare events (quarantines, anomalies, degraded decisions): those get
a line each, at most this many per batch, carrying ``event_class`` and ``event_id``."""


class Log(Protocol):
    """Structured log sink; fields carry run ids, never secrets."""

    def info(self, event: str, **fields: Any) -> Any: ...

    def warning(self, event: str, **fields: Any) -> Any: ...


class ObjectStore(Protocol):
    """Keys are paths under the environment's bucket map (``oracle/``, ``archive/``, ``quarantine/``,
    ``evidence/``). ``put`` with ``overwrite=False`` is write-once: an existing key raises ObjectExists
    and is left untouched (checked by the store, not by a prior read)."""

    def put(self, key: str, data: bytes, *, overwrite: bool = False) -> None: ...

    def get(self, key: str) -> bytes:
        """Raises NotFound for a missing key."""
        ...

    def exists(self, key: str) -> bool: ...

    def uri(self, key: str) -> str:
        """Where ``key`` lives, for people and evidence (``s3://bucket/key``, ``memory://ns/key``)."""
        ...

    def list(self, prefix: str) -> builtins.list[str]:
        """All keys under ``prefix``, sorted."""
        ...


class Tracer(Protocol):
    """Spans around stages and batches (OpenTelemetry in the real sets); ``NO_TRACE`` where none is wanted."""

    def span(self, name: str, **attributes: str | int | float | bool) -> AbstractContextManager[None]: ...

    def trace_id(self) -> str:
        """The current trace's id (hex), or "" outside any span."""
        ...


class _NoTrace:
    def span(self, name: str, **attributes: str | int | float | bool) -> AbstractContextManager[None]:
        return nullcontext()

    def trace_id(self) -> str:
        return ""


NO_TRACE: Tracer = _NoTrace()


class ReportRenderer(Protocol):
    """An evidence bundle (its files by path) as one self-contained human-readable page."""

    def render(self, files: Mapping[str, bytes]) -> bytes: ...


class TableCodec(Protocol):
    """Columnar tables as bytes (Parquet in every adapter set): archive objects and datasets.

    ``encode`` is deterministic (the same columns give the same bytes); ``decode`` returns what
    ``encode`` was given, column by column."""

    suffix: str

    def encode(self, columns: Mapping[str, Sequence[Any]], types: Mapping[str, str]) -> bytes:
        """``types`` names each column's type: ``int64``, ``float64``, ``string`` or ``binary``."""
        ...

    def decode(self, data: bytes) -> dict[str, builtins.list[Any]]: ...


class OutboundMessage(msgspec.Struct, frozen=True, gc=False):
    """One message to produce: its logical topic, key and value."""

    topic: str
    key: bytes
    value: bytes


class Delivery(msgspec.Struct, frozen=True, gc=False):
    """The settled fate of one produced message: ``origin`` when the broker acknowledged it,
    otherwise ``error`` (the publish is then ambiguous, never assumed failed)."""

    origin: OriginOffset | None
    error: str | None


class BusRecord(msgspec.Struct, frozen=True, gc=False):
    """One consumed record: where it sits on the bus, its key and value."""

    origin: OriginOffset
    key: bytes | None
    value: bytes


class BusProducer(Protocol):
    """Idempotent producer with acks=all; delivery reports are surfaced, never swallowed."""

    def publish(self, messages: Sequence[OutboundMessage]) -> list[Delivery]:
        """Produce all asynchronously, wait for every delivery report (bounded), return them in order."""
        ...

    def close(self) -> None: ...


class BusConsumer(Protocol):
    """Auto-commit is off: offsets advance only through ``commit``, which the caller invokes after the
    writes that depend on the records are durable."""

    def assign(self, positions: Mapping[TopicPartition, int]) -> None:
        """Read exactly these partitions starting at these offsets."""
        ...

    def poll_batch(self, max_records: int, timeout_s: float) -> list[BusRecord]: ...

    def commit(self, next_offsets: Mapping[TopicPartition, int]) -> None:
        """Synchronously commit ``next_offsets`` (last consumed + 1) for the consumer group."""
        ...

    def committed(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int | None]: ...

    def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        """High watermark (next offset to be written) of every partition of ``topics``."""
        ...

    def pause(self, partitions: Sequence[TopicPartition]) -> None: ...

    def resume(self, partitions: Sequence[TopicPartition]) -> None: ...

    def close(self) -> None: ...


class AdmissionIndex(Protocol):
    """First writer wins on the dedupe tuple, atomically, even across concurrent IG instances.
    A claimed tuple's hash is never overwritten."""

    def claim(self, firsts: Mapping[DedupeKey, Sighting]) -> dict[DedupeKey, Claim]:
        """Claims each tuple not claimed yet for its sighting (its hash, and the receipt a claim names);
        answers for every tuple."""
        ...

    def first_hashes(self, keys: Sequence[DedupeKey]) -> dict[DedupeKey, str]: ...


class ReceiptLog(Protocol):
    """Append-only: receipts and publish records are inserted, never updated or deleted (the store
    rejects it with AppendOnlyViolation)."""

    def append(self, receipts: Sequence[ReceiptRow], publishes: Sequence[PublishRecord],
               claimants: Set[str] = frozenset()) -> None:
        """One transaction; receipts come as plain data (IG's, D66) and are read back as ``Receipt`` s.
        Receipt ids already stored are kept as first written (never a second one).
        A PUBLISHED receipt is its publish's record; ``publishes`` are the attempts the receipts do not
        tell (ambiguous ones, with their error). A re-submitted batch's PUBLISHED receipts are logged as
        publish records even where an earlier receipt is kept (``receipts.publish_records``).
        ``claimants``: ids of the receipts whose event claimed its tuple in this batch (the claim names
        them): a store may find those through the admission index rather than index them by event (D65).
        ``for_events`` finds every receipt either way."""
        ...

    def stored(self, platform_run_id: str, receipt_ids: Sequence[str]) -> dict[str, Receipt]:
        """The run's receipts among ``receipt_ids`` that are durable, by id (how IG recognises a batch it
        already made durable)."""
        ...

    def counts(self, platform_run_id: str) -> dict[str, dict[str, int]]:
        """``{event_class: {outcome: n}}``."""
        ...

    def reason_counts(self, platform_run_id: str) -> dict[str, int]: ...

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[Receipt]: ...

    def sample(self, platform_run_id: str, limit: int) -> list[Receipt]: ...

    def unresolved_publishes(self, platform_run_id: str) -> int:
        """Admitted tuples whose latest publish record is not PUBLISHED."""
        ...


class QuarantineIndex(Protocol):
    """Keyed by dedupe tuple + reason; a recorded entry is never overwritten."""

    def record(self, entries: Sequence[QuarantineRecord]) -> None: ...

    def for_run(self, platform_run_id: str) -> list[QuarantineRecord]: ...


class JoinStore(Protocol):
    """CSFB + OFP: context items per run, and event-time counters over card sightings. The bus positions
    the state reflects are stored with it, atomically, so a restart can tell what a crash lost."""

    def put(self, platform_run_id: str, items: Sequence[ContextItem],
            positions: Mapping[TopicPartition, int] | None = None) -> None:
        """Store items (last write per ``(kind, key)`` wins), count entity sightings, and record
        ``positions`` (next offset per context partition) in the same atomic write."""
        ...

    def positions(self, platform_run_id: str) -> dict[TopicPartition, int]:
        """The positions recorded with the state that survived: re-read from there what was lost."""
        ...

    def get(self, platform_run_id: str, wanted: Sequence[tuple[ContextKind, str]]
            ) -> dict[tuple[ContextKind, str], ContextItem]: ...

    def card_velocity(self, platform_run_id: str, probes: Sequence[tuple[str, int]], window_ms: int) -> list[int]:
        """For each ``(card_id, ts_ms)``: sightings with ``ts_ms - window_ms <= t < ts_ms``."""
        ...


class AuditLog(Protocol):
    """DLA: append-only; appending an ``audit_id`` already present is a no-op (idempotent replay)."""

    def append(self, records: Sequence[AuditRecord]) -> int: ...

    def scan(self, platform_run_id: str) -> Iterator[AuditRecord]:
        """Every record of the run ordered by ``audit_id``, streamed (memory flat in run size)."""
        ...

    def documents(self, platform_run_id: str) -> Iterator[str]:
        """``scan`` as the records' stored JSON (``AuditRecord.document``), for passes that only read
        them (digests, counts) and need not validate each record again."""
        ...

    def for_events(self, platform_run_id: str, event_ids: Sequence[str]) -> list[AuditRecord]: ...


class ActionLog(Protocol):
    """AL: executes each idempotency key at most once; returns outcomes only for newly executed ones."""

    def execute(self, intents: Sequence[ActionIntent]) -> list[ActionOutcome]: ...

    def outcome_counts(self, platform_run_id: str) -> dict[str, int]:
        """``{"intents": n, "outcomes": n, "duplicate_outcomes": n}``."""
        ...


class DecisionLedger(Protocol):
    """DLA then AL for one decision batch: the audit records appended and their intents executed, in one
    transaction where the store allows it (Postgres). Returns the outcomes executed now, like
    ``ActionLog.execute``; recording a batch again appends and executes nothing."""

    def record(self, records: Sequence[AuditRecord]) -> list[ActionOutcome]: ...


class CaseStore(Protocol):
    """Append-only case timelines; an event id already present is a no-op."""

    def append(self, events: Sequence[CaseTimelineEvent]) -> int: ...

    def timeline(self, case_id: str) -> list[CaseTimelineEvent]: ...

    def counts(self, platform_run_id: str) -> tuple[int, int]:
        """``(cases, timeline events)`` of the run."""
        ...


class LabelStore(Protocol):
    """Append-only label assertions; an assertion id already present is a no-op."""

    def append(self, assertions: Sequence[LabelAssertion]) -> int: ...

    def for_run(self, platform_run_id: str) -> list[LabelAssertion]: ...


class RegistryLog(Protocol):
    """The bundle registry: append-only lifecycle records (registered, activated, retired)."""

    def append(self, records: Sequence[RegistryRecord]) -> int:
        """Append all in one transaction, in order; a known ``record_id`` is a no-op. Returns how many were new."""
        ...

    def records(self) -> builtins.list[RegistryRecord]:
        """Every record in the order it was appended."""
        ...


class ModelFitter(Protocol):
    """Fits the logistic model family DF scores, and ranks scores against labels."""

    family: str

    def fit(self, features: Sequence[Sequence[float]], labels: Sequence[int], seed: int) -> tuple[float, list[float]]:
        """(bias, one weight per feature column); the same inputs and seed give the same numbers."""
        ...

    def ranking(self, labels: Sequence[int], scores: Sequence[float]) -> tuple[float, float]:
        """(ROC AUC, PR AUC as average precision)."""
        ...


class CheckpointLog(Protocol):
    """Consumed offset ranges per run and consumer group, appended after the dependent writes."""

    def record(self, platform_run_id: str, consumer_group: str, ranges: Sequence[OffsetRange]) -> None: ...

    def ranges(self, platform_run_id: str, consumer_group: str) -> list[OffsetRange]: ...


class TaskHandle(Protocol[T_co]):
    def result(self) -> T_co:
        """Wait for the task; raises if it failed."""
        ...

    def cancel(self) -> None:
        """Stop the task (the caller's own stage failed)."""
        ...


class StageLauncher(Protocol):
    """Starts a run's stages beside the caller (separate processes where the adapter set has them);
    ``result`` waits for one (its STAGE_COMPLETE is on the fact log)."""

    def follow_rtdl(self, platform_run_id: str) -> TaskHandle[None]:
        """RTDL, following the run's stream until its STREAM_COMPLETE fact."""
        ...

    def run_archive(self, platform_run_id: str) -> TaskHandle[None]:
        """The archive writer, for a run whose STREAM_COMPLETE fact is published."""
        ...


class SecretStore(Protocol):
    """Secrets by name (SSM SecureString in dev_min); values never reach logs or evidence."""

    def get(self, name: str) -> str:
        """The secret's value; raises NotFound. Callers must never log it."""
        ...
