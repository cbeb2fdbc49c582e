"""fp-cm: case triggers of the run into append-only case timelines."""

from __future__ import annotations

import typer

from fp_apps.wiring import RunIdOpt, StageEnvOpt, run_stage


def cm(run_id: RunIdOpt,
       env: StageEnvOpt) -> None:
    run_stage(env, run_id, "cm", lambda c, f: c.cm().run(f.ready, f.require_stream()))


def main() -> None:
    typer.run(cm)
