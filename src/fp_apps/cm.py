"""fp-cm: case triggers of the run into append-only case timelines."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_adapters.containers import Platform
from fp_apps.wiring import run_stage
from fp_core.services.control import ReadySignal, StreamComplete


def _facts(c: Platform, run_id: str) -> tuple[ReadySignal, StreamComplete]:
    facts = c.facts().read(run_id)
    return facts.ready, facts.require_stream()


def cm(run_id: Annotated[str, typer.Option("--run-id")],
       env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    run_stage(env, lambda c: c.cm().run(*_facts(c, run_id)))


def main() -> None:
    typer.run(cm)
