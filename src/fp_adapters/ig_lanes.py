"""IG's lanes in processes of their own (``fp_core.services.ig_lanes``, D64): children forked before this
process starts any thread, each opening its own connections, each talking to this process over one Unix
socket. A message is a pickled tuple: the socket's two ends are this process and its own fork, so nothing
else writes to it. A share's answer is each event's ``Outcome`` (msgpack): its receipts are in the receipt
log, and a pickled receipt costs ~10 us to send and rebuild. A lane's child ends when its socket closes:
this process closed it, or died.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import socket
import subprocess
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path

import msgspec

from fp_adapters.stage_process import ForkedChild, can_fork, fork_child, parent_only_fds
from fp_core.errors import LaneLost, PlatformError, TransientError
from fp_core.pins import ContextPins
from fp_core.receipts import Outcome
from fp_core.services.ig import IngestionGate, Share
from fp_core.services.ig_lanes import Lane

_PICKLE = pickle.HIGHEST_PROTOCOL
_encode_told = msgspec.msgpack.Encoder().encode
_decode_told = msgspec.msgpack.Decoder(list[Outcome]).decode


class ForkedLane:
    """Lane ``lane``'s child, as the ``Lane`` port."""

    def __init__(self, lane: int, child: ForkedChild, conn: Connection) -> None:
        self.lane, self._child, self._conn = lane, child, conn

    @property
    def pid(self) -> int:
        return self._child.pid

    def bind(self, pins: ContextPins, log_file: Path | None) -> None:
        """The run the next shares belong to (and where the child logs)."""
        self._put(("run", pins.model_dump_json(), str(log_file) if log_file else None))

    def send(self, submission_id: str, share: Share, raws: Sequence[bytes]) -> None:
        self._put(("share", submission_id, share.lane, share.positions, raws))

    def receive(self) -> list[Outcome]:
        try:
            kind, body = pickle.loads(self._conn.recv_bytes())
        except (EOFError, OSError) as exc:
            raise LaneLost(f"lane {self.lane} (pid {self._child.pid}) is gone: {exc!r}") from exc
        if kind == "told":
            return _decode_told(body)
        if kind == "transient":
            raise TransientError(f"lane {self.lane}: {body}")
        raise RuntimeError(f"lane {self.lane} failed: {body}")

    def close(self) -> None:
        parent_only_fds.discard(self._conn.fileno())
        self._conn.close()
        try:
            self._child.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a child that will not end is killed
            self._child.kill()
            self._child.wait()

    def _put(self, message: tuple[object, ...]) -> None:
        try:
            self._conn.send_bytes(pickle.dumps(message, _PICKLE))
        except OSError as exc:
            raise LaneLost(f"lane {self.lane} (pid {self._child.pid}) is gone: {exc!r}") from exc


class LanePool:
    """Lanes 1..count-1 of IG, one forked child each."""

    def __init__(self, lanes: list[ForkedLane]) -> None:
        self.lanes = lanes

    @classmethod
    def fork(cls, count: int, serve: Callable[[Connection], None]) -> LanePool | None:
        """``count - 1`` children, each running ``serve`` on its end of its socket; None where forking is
        not safe (a thread runs) — then every lane is admitted in this process."""
        if count < 2 or not can_fork():
            return None
        lanes: list[ForkedLane] = []
        parent = os.getpid()
        for lane in range(1, count):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

            def run(theirs: socket.socket = theirs) -> None:
                _die_with(parent)
                serve(Connection(theirs.detach()))

            # A substrate down or a bad setting (PlatformError): WSP's own gate meets it too, and says so once.
            child = fork_child(run, close=(ours.fileno(),), quiet=(PlatformError,))
            theirs.close()
            conn = Connection(ours.detach())
            parent_only_fds.add(conn.fileno())
            lanes.append(ForkedLane(lane, child, conn))
        return cls(lanes)

    def bind(self, pins: ContextPins, log_file: Path | None) -> list[Lane | None]:
        """The lanes for a run (None for a lane whose child is gone). The children log beside ``log_file``
        (``ig-lane<N>.jsonl``), else to this process's stderr."""
        out: list[Lane | None] = []
        for lane in self.lanes:
            try:
                lane.bind(pins, log_file.with_name(f"ig-lane{lane.lane}.jsonl") if log_file else None)
                out.append(lane)
            except LaneLost:
                out.append(None)
        return out

    def close(self) -> None:
        for lane in self.lanes:
            lane.close()
        self.lanes = []


def _die_with(parent: int) -> None:
    """Linux: the kernel kills this child when the process that forked it dies (SIGKILL included), so a
    lane never outlives its WSP: its share ends where a crash of one process would end it, and the WSP that
    restarts re-submits it. Elsewhere the lane ends at its next read of the closed socket."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def serve(conn: Connection, gate_for: Callable[[ContextPins], IngestionGate],
          on_run: Callable[[ContextPins, Path | None], None]) -> None:
    """A lane's loop: ``run`` messages bind a run (``on_run`` first), ``share`` messages are admitted by
    that run's gate and answered with the receipts (or the failure); it returns when the socket closes."""
    gate: IngestionGate | None = None
    while True:
        try:
            message = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if message[0] == "run":
            pins = ContextPins.model_validate_json(message[1])
            on_run(pins, Path(message[2]) if message[2] else None)
            gate = gate_for(pins)
            continue
        _kind, submission_id, lane, positions, raws = message
        reply: tuple[str, object]
        try:
            if gate is None:
                raise RuntimeError("a share before its run")
            receipts = gate.admit(submission_id, raws, Share(lane, positions))
            reply = ("told", _encode_told([Outcome(r.outcome, r.publish_state) for r in receipts]))
        except TransientError as exc:
            reply = ("transient", str(exc)[:1000])
        except Exception as exc:  # (told to the caller, whose submit raises it)
            reply = ("error", f"{type(exc).__name__}: {exc}"[:2000])
        try:
            conn.send_bytes(pickle.dumps(reply, _PICKLE))
        except OSError:
            return
