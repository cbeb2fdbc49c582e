"""The set of ports one environment provides; built by that environment's DI container."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fp_core.ports import (
    ActionLog,
    AdmissionIndex,
    AuditLog,
    BusConsumer,
    BusProducer,
    CaseStore,
    CheckpointLog,
    Clock,
    JoinStore,
    LabelStore,
    Log,
    ObjectStore,
    QuarantineIndex,
    ReceiptLog,
    StageLauncher,
)


@dataclass
class PortSet:
    env: str
    objects: ObjectStore
    producer: BusProducer
    consumer: Callable[[str], BusConsumer]
    admission_index: AdmissionIndex
    receipts: ReceiptLog
    quarantine_index: QuarantineIndex
    join_store: JoinStore
    audit_log: AuditLog
    action_log: ActionLog
    cases: CaseStore
    labels: LabelStore
    checkpoints: CheckpointLog
    clock: Clock
    log: Log
    launcher: StageLauncher
