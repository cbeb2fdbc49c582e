"""fp-cm: case triggers of the run into append-only case timelines."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import ready_and_stream, run_stage


def cm(run_id: Annotated[str, typer.Option("--run-id")],
       env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    run_stage(env, lambda c: c.cm().run(*ready_and_stream(c, run_id)))


def main() -> None:
    typer.run(cm)
