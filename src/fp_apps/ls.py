"""fp-ls: the run's truth labels as append-only assertions, announced after durable commit."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import run_stage


def ls(run_id: Annotated[str, typer.Option("--run-id")],
       env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    run_stage(env, run_id, "ls", lambda c, f: c.ls().run(f.ready))


def main() -> None:
    typer.run(ls)
