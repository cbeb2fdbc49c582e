"""StageLauncher for the in-memory set: a stage runs in this process when its result is asked for (RTDL
after the stream is complete), since memory has no second process to share state with."""

from __future__ import annotations

from collections.abc import Callable


class DeferredStage:
    def __init__(self, run: Callable[[], object]) -> None:
        self._run = run
        self.cancelled = False

    def result(self) -> None:
        if self.cancelled:
            raise RuntimeError("the stage was cancelled")
        self._run()

    def cancel(self) -> None:
        self.cancelled = True


class InProcessLauncher:
    def __init__(self, run_rtdl: Callable[[str], object], run_archive: Callable[[str], object]) -> None:
        self._run_rtdl, self._run_archive = run_rtdl, run_archive

    def follow_rtdl(self, platform_run_id: str) -> DeferredStage:
        return DeferredStage(lambda: self._run_rtdl(platform_run_id))

    def run_archive(self, platform_run_id: str) -> DeferredStage:
        return DeferredStage(lambda: self._run_archive(platform_run_id))
