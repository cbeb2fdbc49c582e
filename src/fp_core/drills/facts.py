"""What drills record on the run's fact log: the stream shaping's ledger (what was injected, for which
transactions) and the lag drill's observation of the paused consumer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from fp_core.identity import derive_id
from fp_core.model import FrozenModel


@dataclass
class DrillLedger:
    """Mutable while the stream is shaped; published once as a ``DrillLedgerFact``."""

    drills: tuple[str, ...]
    every: int
    txn_keys: dict[str, list[str]] = field(default_factory=dict)
    injected: dict[str, dict[str, int]] = field(default_factory=dict)

    def note(self, drill: str, what: str, txn_key: str | None = None) -> None:
        counts = self.injected.setdefault(drill, {})
        counts[what] = counts.get(what, 0) + 1
        if txn_key is not None:
            self.txn_keys.setdefault(drill, []).append(txn_key)

    def fact(self, platform_run_id: str) -> DrillLedgerFact:
        return DrillLedgerFact(message_id=derive_id("drill-ledger", platform_run_id),
                               platform_run_id=platform_run_id, drills=self.drills, every=self.every,
                               txn_keys=self.txn_keys, injected=self.injected)


class DrillLedgerFact(FrozenModel):
    message_id: str
    kind: Literal["DRILL_LEDGER"] = "DRILL_LEDGER"
    platform_run_id: str
    drills: tuple[str, ...]
    every: int
    txn_keys: dict[str, list[str]]
    injected: dict[str, dict[str, int]]

    def ledger(self) -> DrillLedger:
        return DrillLedger(drills=self.drills, every=self.every,
                           txn_keys={k: list(v) for k, v in self.txn_keys.items()},
                           injected={k: dict(v) for k, v in self.injected.items()})


class LagObserved(FrozenModel):
    message_id: str
    kind: Literal["DRILL_LAG"] = "DRILL_LAG"
    platform_run_id: str
    lag_at_pause: int
    records_while_paused: int
    paused_s: float

    def observation(self) -> dict[str, Any]:
        return {"lag_at_pause": self.lag_at_pause, "records_while_paused": self.records_while_paused,
                "paused_s": self.paused_s}
