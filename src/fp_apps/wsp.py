"""fp-wsp: on READY, stream the sealed stream_view into IG (embedded, see docs/decisions.md D4)."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_apps.wiring import platform, print_json


def wsp(run_id: Annotated[str, typer.Option("--run-id")], env: Annotated[str, typer.Option(envvar="FP_ENV")]) -> None:
    with platform(env) as container:
        fact = container.wsp().stream(container.facts().read(run_id).ready)
    print_json(fact.model_dump(mode="json"))


def main() -> None:
    typer.run(wsp)
