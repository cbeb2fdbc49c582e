"""IG over lanes: one submission's events admitted by several gates at once, with the verdicts, receipts
and per-partition order one gate gives (``fp_core.lanes`` says why they cannot differ; D64).

Lane 0 is this process's own gate; every other lane is a gate in a process of its own (a ``Lane``). A
submission is routed, each remote lane is sent its share, this gate admits lane 0's share meanwhile, and
the submission returns when every lane has answered: the next one starts only then. A lane whose process
is gone is admitted here from then on (its share of this submission included): crash-only, its partitions
keep one writer. A transient failure in any lane fails the submission after every lane has answered; WSP
re-submits it, and each lane's gate answers a share it made durable with its receipts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fp_core.errors import LaneLost, TransientError
from fp_core.lanes import LaneRouter
from fp_core.ports import Log
from fp_core.receipts import Told
from fp_core.services.ig import IngestionGate, Share


class Lane(Protocol):
    """A gate in another process: ``send`` a share, later ``receive`` what it told (``LaneLost`` from either
    when the process is gone; ``TransientError`` from ``receive`` when its gate raised one)."""

    def send(self, submission_id: str, share: Share, raws: Sequence[bytes]) -> None: ...

    def receive(self) -> Sequence[Told]: ...


@dataclass
class LanedGate:
    """The ``Ingress`` WSP submits to when IG has more than one lane. ``remotes[i]`` runs lane ``i + 1``
    (None: admitted here)."""

    local: IngestionGate
    remotes: list[Lane | None]
    router: LaneRouter
    log: Log

    def __post_init__(self) -> None:
        if len(self.remotes) != self.router.lanes - 1:
            raise ValueError(f"remotes: {len(self.remotes)} for {self.router.lanes} lanes (one fewer expected)")

    def submit(self, submission_id: str, raws: Sequence[bytes]) -> list[Told]:
        """One answer per event, in order: lane 0's (and any lane admitted here) are its receipt rows, another
        lane's are its ``Outcome`` s (its receipts are in the receipt log)."""
        shares: list[list[int]] = [[] for _ in range(self.router.lanes)]
        for position, lane in enumerate(self.router.route(raws)):
            shares[lane].append(position)
        out: list[Told | None] = [None] * len(raws)

        def admit_here(lane: int) -> None:
            # One lane: the submission whole, as the gate alone admits it (its quarantine object unsuffixed).
            self._place(out, shares[lane], self.local.admit(
                submission_id, [raws[p] for p in shares[lane]],
                Share(lane, shares[lane]) if self.router.lanes > 1 else None))

        sent = [lane for lane in range(1, self.router.lanes) if shares[lane] and self._send(
            lane, submission_id, shares[lane], raws)]
        failure: TransientError | None = None
        try:
            if shares[0]:
                admit_here(0)
        except TransientError as exc:
            failure = exc
        finally:  # every answer is read, whatever happened here: a lane's next answer is its next share's
            for lane in sent:
                try:
                    self._place(out, shares[lane], self._remote(lane).receive())
                except TransientError as exc:
                    failure = failure or exc
                except LaneLost as exc:
                    self._lose(lane, exc)
        if failure is not None:
            raise failure
        for lane in range(1, self.router.lanes):
            if shares[lane] and out[shares[lane][0]] is None:  # admitted here: no process, or it was lost
                admit_here(lane)
        told = [r for r in out if r is not None]
        if len(told) != len(raws):
            raise RuntimeError(f"submission {submission_id}: {len(raws) - len(told)} events without an answer")
        return told

    def _send(self, lane: int, submission_id: str, positions: list[int], raws: Sequence[bytes]) -> bool:
        remote = self.remotes[lane - 1]
        if remote is None:
            return False
        try:
            remote.send(submission_id, Share(lane, positions), [raws[p] for p in positions])
        except LaneLost as exc:
            self._lose(lane, exc)
            return False
        return True

    def _remote(self, lane: int) -> Lane:
        remote = self.remotes[lane - 1]
        if remote is None:
            raise LaneLost(f"lane {lane} has no process")
        return remote

    def _lose(self, lane: int, exc: LaneLost) -> None:
        self.remotes[lane - 1] = None
        self.log.warning("ig.lane_lost", platform_run_id=self.local.pins.platform_run_id, lane=lane,
                         error=str(exc)[:300])

    @staticmethod
    def _place(out: list[Told | None], positions: Sequence[int], told: Sequence[Told]) -> None:
        for position, answer in zip(positions, told, strict=True):
            out[position] = answer
