"""fp-ig: admit raw events into a READY run: NDJSON (split on ``\\n`` only) from a file or stdin,
streamed in batches (memory bounded by the batch), one receipt per non-empty line."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from fp_apps.wiring import platform, print_json
from fp_core.canonical import sha256_hex
from fp_core.identity import derive_id


def batches(stream: BinaryIO, size: int) -> Iterator[list[bytes]]:
    """Lines split on ``\\n`` only (a ``\\r`` is JSON whitespace, not a line end); empty lines skipped."""
    batch: list[bytes] = []
    for line in stream:
        line = line.removesuffix(b"\n")
        if line:
            batch.append(line)
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


def ig(run_id: Annotated[str, typer.Option("--run-id")], env: Annotated[str, typer.Option(envvar="FP_ENV")],
       input_path: Annotated[str, typer.Option("--input", help="NDJSON file, or - for stdin")] = "-",
       batch: Annotated[int, typer.Option(min=1, max=100_000)] = 5_000) -> None:
    outcomes: Counter[str] = Counter()
    stream = sys.stdin.buffer if input_path == "-" else Path(input_path).open("rb")  # noqa: SIM115
    try:
        with platform(env) as container:
            gate = container.gate(container.facts().read(run_id).ready.pins)
            position = 0
            for chunk in batches(stream, batch):
                submission = derive_id("ig-cli", run_id, sha256_hex(b"\n".join(chunk)), position)
                outcomes.update(r.outcome.value for r in gate.submit(submission, chunk))
                position += len(chunk)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    print_json({"platform_run_id": run_id, "receipts": dict(outcomes)})


def main() -> None:
    typer.run(ig)
