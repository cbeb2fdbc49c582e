"""What every local service shares: the start/healthy/stop protocol, pid files, spawning on loopback,
and waiting for real health."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


class SubstrateError(RuntimeError):
    """A service could not be started; the message names the service and its log file."""


class LocalService(Protocol):
    """One service of the local substrate. ``start`` is idempotent; ``healthy`` is a real round trip."""

    name: str
    port: int
    address: str
    start_timeout_s: float

    @property
    def dir(self) -> Path: ...

    @property
    def log(self) -> Path: ...

    def start(self) -> None: ...

    def healthy(self) -> bool: ...

    def running(self) -> bool: ...

    def pid(self) -> int | None:
        """The service's main process (its pid file), or None when it has none."""
        ...

    def stop(self) -> bool:
        """Stop it if running; True when something was stopped."""
        ...


def say(msg: str) -> None:
    print(f"[substrate] {msg}", file=sys.stderr, flush=True)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return True


class SpawnedService:
    """A service we run as a child process group, tracked by a pid file in its directory."""

    start_timeout_s = 30.0

    def __init__(self, name: str, port: int, address: str, home: Callable[[], Path]) -> None:
        self.name, self.port, self.address, self._home = name, port, address, home

    @property
    def dir(self) -> Path:
        return self._home()

    @property
    def log(self) -> Path:
        return self.dir / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.dir / "pid"

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def running(self) -> bool:
        return alive(self.pid())

    def spawn(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        if port_open(self.port):
            raise SubstrateError(f"{self.name}: port {self.port} is in use by another process; see {self.log}")
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, env={**os.environ, **(env or {})}, cwd=self.dir)
        self.pid_file.write_text(str(proc.pid))

    def stop(self) -> bool:
        pid = self.pid()
        stopped = False
        if alive(pid):
            assert pid is not None
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)
            stopped = True
        self.pid_file.unlink(missing_ok=True)
        return stopped


def wait_healthy(svc: LocalService) -> None:
    deadline = time.monotonic() + svc.start_timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            if svc.healthy():
                return
        except Exception as exc:  # health probes fail in many driver-specific ways while starting
            last = f"{type(exc).__name__}: {exc}"
        if not svc.running():
            raise SubstrateError(f"{svc.name} exited during start-up; see {svc.log}")
        time.sleep(0.5)
    raise SubstrateError(f"{svc.name} not healthy after {svc.start_timeout_s:.0f}s ({last}); see {svc.log}")
