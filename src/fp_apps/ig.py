"""fp-ig: admit raw events (one JSON envelope per line, from a file or stdin) into a READY run."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from fp_apps.wiring import platform, print_json
from fp_core.canonical import sha256_hex
from fp_core.identity import derive_id


def ig(run_id: Annotated[str, typer.Option("--run-id")], env: Annotated[str, typer.Option(envvar="FP_ENV")],
       input_path: Annotated[str, typer.Option("--input", help="NDJSON file, or - for stdin")] = "-",
       batch: int = 5_000) -> None:
    data = sys.stdin.buffer.read() if input_path == "-" else Path(input_path).read_bytes()
    lines = [line for line in data.splitlines() if line.strip()]
    outcomes: Counter[str] = Counter()
    with platform(env) as container:
        gate = container.gate(container.facts().read(run_id).ready.pins)
        for i in range(0, len(lines), batch):
            chunk = lines[i:i + batch]
            submission = derive_id("ig-cli", run_id, sha256_hex(b"\n".join(chunk)), i)
            outcomes.update(r.outcome.value for r in gate.submit(submission, chunk))
    print_json({"platform_run_id": run_id, "receipts": dict(outcomes)})


def main() -> None:
    typer.run(ig)
