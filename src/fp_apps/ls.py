"""fp-ls: the run's truth labels as append-only assertions, announced after durable commit."""

from __future__ import annotations

import typer

from fp_apps.wiring import RunIdOpt, StageEnvOpt, run_stage


def ls(run_id: RunIdOpt,
       env: StageEnvOpt) -> None:
    run_stage(env, run_id, "ls", lambda c, f: c.ls().run(f.ready))


def main() -> None:
    typer.run(ls)
