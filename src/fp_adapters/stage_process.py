"""StageLauncher that runs RTDL as its own process (``fp-rtdl --follow``), for real parallelism on two
cores. The child gets the parent's exact settings through FP_SETTINGS_JSON (no secrets are in them)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from fp_adapters.logging import LOG_FILE_ENV, log_dir
from fp_adapters.settings import SETTINGS_JSON_ENV, Settings
from fp_adapters.tracing import TRACE_FILE_ENV, child_environment
from fp_core.errors import TransientError


class StageProcess:
    """A stage in its own process: its JSON log goes to ``logs/<run>/<component>.jsonl`` (kept), its spans
    join the parent's trace; stderr is kept only to explain a crash."""

    def __init__(self, argv: list[str], settings: Settings, platform_run_id: str, component: str) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives until result() or cancel())
        self.log_file = log_dir(platform_run_id) / f"{component}.jsonl"
        env = {**os.environ, SETTINGS_JSON_ENV: settings.model_dump_json(), LOG_FILE_ENV: str(self.log_file),
               TRACE_FILE_ENV: str(log_dir(platform_run_id) / "traces.jsonl"), **child_environment()}
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self._stderr, stdin=subprocess.DEVNULL,
                                      env=env)
        self._argv = argv

    def result(self) -> None:
        """Wait for the stage process; its STAGE_COMPLETE fact is on the control topic."""
        self._proc.communicate()
        self._stderr.seek(0)
        err = self._stderr.read().decode(errors="replace")
        self._stderr.close()
        if self._proc.returncode != 0:
            raise TransientError(f"{Path(self._argv[0]).name} exited {self._proc.returncode} (log: {self.log_file}): "
                                 f"{err[-1500:]}")

    def cancel(self) -> None:
        self._stderr.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()


class ProcessStageLauncher:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def follow_rtdl(self, platform_run_id: str) -> StageProcess:
        exe = str(Path(sys.executable).with_name("fp-rtdl"))
        return StageProcess([exe, "--env", self._settings.env, "--run-id", platform_run_id, "--follow"],
                            self._settings, platform_run_id, "rtdl")
