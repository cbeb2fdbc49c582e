"""fp-archive: the run's admitted events to archive/ as write-once objects named by offset range."""

from __future__ import annotations

import typer

from fp_apps.wiring import RunIdOpt, StageEnvOpt, run_stage


def archive(run_id: RunIdOpt,
            env: StageEnvOpt) -> None:
    run_stage(env, run_id, "archive", lambda c, f: c.archive().run(f.ready, f.require_stream()))


def main() -> None:
    typer.run(archive)
