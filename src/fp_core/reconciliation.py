"""Reconciliation (seed 11.1): what was intended vs what was observed, per event class."""

from __future__ import annotations

from collections.abc import Mapping

from fp_core.model import FrozenModel
from fp_core.receipts import AdmissionOutcome


class ClassReconciliation(FrozenModel):
    event_class: str
    intended: int
    admit: int
    duplicate: int
    quarantine: int
    anomaly: int
    emitted: int
    balanced: bool


class Reconciliation(FrozenModel):
    classes: tuple[ClassReconciliation, ...]
    intended_total: int
    emitted_total: int
    balanced: bool


def reconcile(intended: Mapping[str, int], observed: Mapping[str, Mapping[str, int]]) -> Reconciliation:
    """Balanced iff for every class the events sent equal ADMIT + DUPLICATE + QUARANTINE + ANOMALY."""
    rows = []
    for cls in sorted(set(intended) | set(observed)):
        counts = observed.get(cls, {})
        admit, dup, quar, anom = (counts.get(o.value, 0) for o in AdmissionOutcome)
        emitted = admit + dup + quar + anom
        want = intended.get(cls, 0)
        rows.append(ClassReconciliation(event_class=cls, intended=want, admit=admit, duplicate=dup,
                                        quarantine=quar, anomaly=anom, emitted=emitted,
                                        balanced=emitted == want))
    total_in = sum(r.intended for r in rows)
    total_out = sum(r.emitted for r in rows)
    return Reconciliation(classes=tuple(rows), intended_total=total_in, emitted_total=total_out,
                          balanced=all(r.balanced for r in rows) and total_in == total_out)
