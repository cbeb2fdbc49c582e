"""fp-archive: the run's admitted events to archive/ as write-once objects named by offset range."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import ready_and_stream, run_stage


def archive(run_id: Annotated[str, typer.Option("--run-id")],
            env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    run_stage(env, lambda c: c.archive().run(*ready_and_stream(c, run_id)))


def main() -> None:
    typer.run(archive)
