"""fp-cm: case triggers of the run into append-only case timelines."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import run_stage


def cm(run_id: Annotated[str, typer.Option("--run-id")],
       env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    run_stage(env, run_id, "cm", lambda c, f: c.cm().run(f.ready, f.require_stream()))


def main() -> None:
    typer.run(cm)
