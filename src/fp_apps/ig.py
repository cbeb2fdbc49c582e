"""fp-ig: admit raw events (one JSON envelope per line, from a file or stdin) into a READY run."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from fp_apps.wiring import facts_for, platform, print_json
from fp_core.canonical import sha256_hex
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.identity import derive_id
from fp_core.services.ig import IngestionGate


def ig(run_id: Annotated[str, typer.Option("--run-id")], env: Annotated[str, typer.Option(envvar="FP_ENV")],
       input_path: Annotated[str, typer.Option("--input", help="NDJSON file, or - for stdin")] = "-",
       batch: int = 5_000) -> None:
    data = sys.stdin.buffer.read() if input_path == "-" else Path(input_path).read_bytes()
    lines = [line for line in data.splitlines() if line.strip()]
    outcomes: Counter[str] = Counter()
    with platform(env) as (_c, p):
        ready = facts_for(p, run_id).ready
        gate = IngestionGate(ready.pins, FRAUD_CLASS_MAP, p.admission_index, p.receipts, p.quarantine_index,
                             p.objects, p.producer, p.log)
        for i in range(0, len(lines), batch):
            chunk = lines[i:i + batch]
            submission = derive_id("ig-cli", run_id, sha256_hex(b"\n".join(chunk)), i)
            outcomes.update(r.outcome.value for r in gate.submit(submission, chunk))
    print_json({"platform_run_id": run_id, "receipts": dict(outcomes)})


def main() -> None:
    typer.run(ig)
