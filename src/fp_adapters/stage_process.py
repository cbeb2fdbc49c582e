"""StageLauncher that runs RTDL (``fp-rtdl --follow``) and the archive writer (``fp-archive``) as their
own processes, for real parallelism on two cores. A child gets the parent's exact settings through
FP_SETTINGS_JSON (no secrets are in them).

A process that will launch stages can fork *warm* children first (``WarmChild.fork``), before it starts
any thread: each holds every module the parent imported and waits on a pipe for its job, so a run's
first RTDL and archive start in milliseconds instead of re-importing the platform (~1 s on this
machine, D57). A stage started again after a failure is always a fresh process.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import IO, NoReturn, Protocol

from fp_adapters.logging import LOG_FILE_ENV, log_dir
from fp_adapters.parquet import import_pyarrow
from fp_adapters.settings import SETTINGS_JSON_ENV, Settings
from fp_adapters.tracing import TRACE_FILE_ENV, child_environment
from fp_core.errors import TransientError

RTDL_APP = "fp-rtdl"
ARCHIVE_APP = "fp-archive"
WARM_APPS: dict[str, Callable[[], None] | None] = {RTDL_APP: None, ARCHIVE_APP: import_pyarrow}
"""The stage apps ``fp run`` starts beside itself, each in a warm child forked at start-up, with what
the child loads while it waits for its job."""


class Child(Protocol):
    """What a stage needs of its process: ``subprocess.Popen``'s waiting and stopping."""

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class StageProcess:
    """A stage in its own process: its JSON log goes to ``logs/<run>/<component>.jsonl`` (kept), its spans
    join the parent's trace; stderr is kept only to explain a crash."""

    def __init__(self, child: Child, app: str, log_file: Path, stderr: IO[bytes]) -> None:
        self._child, self.app, self.log_file, self._stderr = child, app, log_file, stderr

    @property
    def usage(self) -> resource.struct_rusage | None:
        """The ended process's own resource use (CPU, peak RSS), where the wait reported it (a forked
        child's does)."""
        return getattr(self._child, "usage", None)

    def result(self) -> None:
        """Wait for the stage process; its STAGE_COMPLETE fact is on the control topic."""
        code = self._child.wait()
        self._stderr.seek(0)
        err = self._stderr.read().decode(errors="replace")
        self._stderr.close()
        if code != 0:
            raise TransientError(f"{self.app} exited {code} (log: {self.log_file}): {err[-1500:]}")

    def cancel(self) -> None:
        self._stderr.close()
        if self._child.poll() is None:
            self._child.terminate()
            try:
                self._child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()


def stage_environment(settings: Settings, log_file: Path, platform_run_id: str) -> dict[str, str]:
    """A stage child's environment: the parent's, its settings, its log file and the run's trace."""
    return {**os.environ, SETTINGS_JSON_ENV: settings.model_dump_json(), LOG_FILE_ENV: str(log_file),
            TRACE_FILE_ENV: str(log_dir(platform_run_id) / "traces.jsonl"), **child_environment()}


class ForkedChild:
    """A forked child, waited for like a ``Popen`` (its exit code is negative when a signal ended it)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.usage: resource.struct_rusage | None = None
        """Its resource use, once it ended (``os.wait4``)."""

    def poll(self) -> int | None:
        if self.returncode is None:
            self._reap(os.WNOHANG)
        return self.returncode

    def _reap(self, options: int) -> None:
        pid, status, usage = os.wait4(self.pid, options)
        if pid:
            self.returncode, self.usage = os.waitstatus_to_exitcode(status), usage

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            if self.returncode is None:
                self._reap(0)
            assert self.returncode is not None
            return self.returncode
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.02)
        return code

    def terminate(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)


def _threads() -> int:
    """This process's threads, native ones included (librdkafka's, psycopg-pool's) where the OS lists
    them: a child forked beside a running thread may inherit a lock it holds."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


parent_only_fds: set[int] = set()
"""Descriptors only this process may hold: the write ends of its warm children's job pipes (a child still
waiting for its job) and its ends of its IG lanes' sockets. A process forked from it closes them, so a
child sees its pipe or socket close when this process ends it or dies."""


def can_fork() -> bool:
    """Whether a fork is safe here: ``os.fork`` exists and no other thread runs (a child forked beside a
    running thread may inherit a lock it holds)."""
    return hasattr(os, "fork") and _threads() == 1


def fork_child(run: Callable[[], None], close: tuple[int, ...] = (),
               quiet: tuple[type[BaseException], ...] = ()) -> ForkedChild:
    """Fork a child that closes ``close`` and every parent-only descriptor, runs ``run`` and exits: 0 when it
    returns, a ``SystemExit``'s code, 1 on any other exception (its traceback on stderr unless it is one of
    ``quiet``). The child never returns into the caller's code. Call only where ``can_fork()``."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        for fd in (*close, *parent_only_fds):
            os.close(fd)
        _exit_after(run, quiet)
    return ForkedChild(pid)


def _exit_after(run: Callable[[], None], quiet: tuple[type[BaseException], ...]) -> NoReturn:
    code = 1
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except quiet:
        pass
    except BaseException:  # the child reports anything else on its stderr and exits non-zero
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class WarmChild:
    """A forked child that has loaded ``app``'s console entry point and waits for one job on a pipe: the
    argv and environment it would have been started with. Closing the pipe without a job ends it."""

    def __init__(self, app: str, child: ForkedChild, job_fd: int) -> None:
        self.app, self._child, self._job_fd = app, child, job_fd
        self._handed = False

    @classmethod
    def fork(cls, app: str, preload: Callable[[], None] | None = None) -> WarmChild | None:
        """Fork one, which runs ``preload`` while it waits; None where forking is not safe (a thread is
        running, or no ``os.fork``)."""
        if not can_fork():
            return None
        read_fd, write_fd = os.pipe()
        # Only the parent may hold a warm child's job pipe open: a sibling holding it would keep that child
        # from seeing the pipe close (``discard``).
        child = fork_child(lambda: _serve_one_job(app, read_fd, preload), close=(write_fd,))
        os.close(read_fd)
        parent_only_fds.add(write_fd)
        return cls(app, child, write_fd)

    def start(self, argv: list[str], env: dict[str, str], log_file: Path) -> StageProcess:
        """Hand the child its job; it runs as ``argv`` would, with ``env``."""
        stderr = tempfile.NamedTemporaryFile(prefix=f"{self.app}-", suffix=".stderr")  # noqa: SIM115
        self._handed = True
        job = json.dumps({"argv": argv, "env": env, "stderr": stderr.name}).encode()
        parent_only_fds.discard(self._job_fd)
        try:
            with os.fdopen(self._job_fd, "wb") as pipe:
                pipe.write(job)
        except OSError:  # the child is gone (killed while waiting): the caller starts a fresh one
            stderr.close()
            self._child.kill()
            self._child.wait()
            raise
        return StageProcess(self._child, self.app, log_file, stderr)

    def discard(self) -> None:
        """End an unused child: its pipe closes, and it exits at once."""
        if not self._handed:
            self._handed = True
            parent_only_fds.discard(self._job_fd)
            os.close(self._job_fd)
            self._child.wait(timeout=30)


def _serve_one_job(app: str, job_fd: int, preload: Callable[[], None] | None) -> None:
    """The warm child: load the app (and ``preload``), wait for the job, run it with the job's fds and
    environment (``fork_child`` exits with the app's code)."""
    [entry] = metadata.entry_points(group="console_scripts", name=app)
    main = entry.load()
    if preload is not None:
        preload()
    with os.fdopen(job_fd, "rb") as pipe:
        raw = pipe.read()
    if not raw:
        return
    job = json.loads(raw)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(os.open(job["stderr"], os.O_WRONLY | os.O_APPEND), 2)
    os.environ.clear()
    os.environ.update(job["env"])
    sys.argv = job["argv"]
    main()


class ProcessStageLauncher:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._warm: dict[str, WarmChild] = {}
        self.started: list[StageProcess] = []
        """Every stage process this launcher started, in order (their ``usage`` once ended)."""

    def keep_warm(self, child: WarmChild) -> None:
        """Start the next stage of ``child.app`` in ``child`` (forked by this process before its threads
        started)."""
        self._warm[child.app] = child

    def discard_warm(self) -> None:
        """End the warm children no stage was started in."""
        for child in self._warm.values():
            child.discard()
        self._warm.clear()

    def follow_rtdl(self, platform_run_id: str) -> StageProcess:
        return self._start(RTDL_APP, platform_run_id, "--follow")

    def run_archive(self, platform_run_id: str) -> StageProcess:
        return self._start(ARCHIVE_APP, platform_run_id)

    def _start(self, app: str, platform_run_id: str, *options: str) -> StageProcess:
        """``app`` for the run; its log is ``<component>.jsonl`` (``fp-rtdl`` -> ``rtdl.jsonl``)."""
        exe = str(Path(sys.executable).with_name(app))
        argv = [exe, "--env", self._settings.env, "--run-id", platform_run_id, *options]
        log_file = log_dir(platform_run_id) / f"{app.removeprefix('fp-')}.jsonl"
        env = stage_environment(self._settings, log_file, platform_run_id)
        warm = self._warm.pop(app, None)
        stage: StageProcess | None = None
        if warm is not None:
            with contextlib.suppress(OSError):  # the child is gone: a fresh process instead
                stage = warm.start(argv, env, log_file)
        if stage is None:
            stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives until result() or cancel())
            child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, stdin=subprocess.DEVNULL,
                                     env=env)
            stage = StageProcess(child, app, log_file, stderr)
        self.started.append(stage)
        return stage
