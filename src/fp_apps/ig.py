"""fp-ig: IG for a READY run. ``admit`` reads NDJSON (split on ``\\n`` only) from a file or stdin,
streamed in batches (memory bounded by the batch), one receipt per non-empty line; ``serve`` is the
authenticated HTTP ingress any producer can call (``fp_apps.ig_service``)."""

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


app = typer.Typer(add_completion=False, no_args_is_help=True, help="IG: admit a file, or serve HTTP.")


@app.command("admit")
def ig(run_id: Annotated[str, typer.Option("--run-id", help="a READY platform_run_id")],
       env: Annotated[str, typer.Option(envvar="FP_ENV", help="a registered environment")],
       input_path: Annotated[str, typer.Option("--input", help="NDJSON file, or - for stdin")] = "-",
       batch: Annotated[int, typer.Option(min=1, max=100_000, help="events per submission")] = 5_000) -> None:
    """Admit an NDJSON file (or stdin) into the run; prints the receipts by outcome."""
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


@app.command("serve")
def serve(run_id: Annotated[str, typer.Option("--run-id", help="the READY run this ingress serves")],
          env: Annotated[str, typer.Option(envvar="FP_ENV", help="a registered environment")],
          host: Annotated[str, typer.Option(help="listen address (loopback by default)")] = "127.0.0.1",
          port: Annotated[int, typer.Option(min=1, max=65535, help="listen port")] = 18080,
          tls_cert: Annotated[str | None, typer.Option(help="PEM certificate: serve HTTPS")] = None,
          tls_key: Annotated[str | None, typer.Option(help="PEM private key of --tls-cert")] = None) -> None:
    """Serve ``POST /v1/runs/{run}/events`` and the receipt lookups until SIGTERM (in-flight batches
    are answered first)."""
    import resource

    import uvicorn

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # a server holds a descriptor per connection
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    from fp_adapters.ingress_keys import authenticator
    from fp_apps.ig_service import create_app

    with platform(env) as container:
        settings = container.adapters.settings()
        store = container.adapters.secret_store()
        limits = settings.ingress
        app_ = create_app(container, run_id, authenticator(settings, store), limits)
        cert, key = tls_cert or limits.tls_cert_file, tls_key or limits.tls_key_file
        uvicorn.Server(uvicorn.Config(app_, host=host, port=port, ssl_certfile=cert, ssl_keyfile=key,
                                      log_level="warning", timeout_graceful_shutdown=30, server_header=False,
                                      limit_concurrency=limits.max_connections)).run()


def main() -> None:
    app()
