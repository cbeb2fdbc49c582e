"""The in-memory substrate: one process-wide state per namespace, shared by every container built for
it (as a real substrate is shared by every process that connects to it), guarded by one lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import ClassVar

from fp_core.cases import CaseTimelineEvent
from fp_core.context import ContextItem, ContextKind
from fp_core.decisions import ActionIntent, ActionOutcome, AuditRecord
from fp_core.identity import DedupeKey
from fp_core.labels import LabelAssertion
from fp_core.learning import RegistryRecord
from fp_core.offsets import OffsetRange
from fp_core.ports import TopicPartition
from fp_core.receipts import PublishRecord, QuarantineRecord, Receipt
from fp_core.topics import TOPIC_MAP

QuarantineKey = tuple[str, str, str, str, str]


@dataclass
class MemorySubstrate:
    """Everything the memory adapters store. ``named`` returns the shared instance of a namespace."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    objects: dict[str, bytes] = field(default_factory=dict)
    log: dict[TopicPartition, list[tuple[bytes | None, bytes]]] = field(
        default_factory=lambda: {(s.name, p): [] for s in TOPIC_MAP for p in range(s.partitions)})
    partitions: dict[str, int] = field(default_factory=lambda: {s.name: s.partitions for s in TOPIC_MAP})
    committed: dict[tuple[str, TopicPartition], int] = field(default_factory=dict)
    hashes: dict[DedupeKey, str] = field(default_factory=dict)
    receipts: list[Receipt] = field(default_factory=list)
    receipt_ids: set[str] = field(default_factory=set)
    admitted: set[DedupeKey] = field(default_factory=set)
    publishes: list[PublishRecord] = field(default_factory=list)
    quarantine: dict[QuarantineKey, QuarantineRecord] = field(default_factory=dict)
    context: dict[tuple[str, ContextKind, str], ContextItem] = field(default_factory=dict)
    cards: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    join_positions: dict[str, dict[TopicPartition, int]] = field(default_factory=dict)
    audit: dict[str, AuditRecord] = field(default_factory=dict)
    intents: dict[str, ActionIntent] = field(default_factory=dict)
    outcomes: list[ActionOutcome] = field(default_factory=list)
    case_events: dict[str, CaseTimelineEvent] = field(default_factory=dict)
    labels: dict[str, LabelAssertion] = field(default_factory=dict)
    checkpoints: list[tuple[str, str, OffsetRange]] = field(default_factory=list)
    registry: dict[str, RegistryRecord] = field(default_factory=dict)

    _named: ClassVar[dict[str, MemorySubstrate]] = {}
    _named_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def named(cls, namespace: str) -> MemorySubstrate:
        """The process-wide substrate of ``namespace`` (created empty on first use)."""
        with cls._named_lock:
            if namespace not in cls._named:
                cls._named[namespace] = cls()
            return cls._named[namespace]
