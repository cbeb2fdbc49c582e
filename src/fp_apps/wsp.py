"""fp-wsp: on READY, stream the sealed stream_view into IG — in process by default (D4), or through the
HTTP ingress with ``--ingress URL`` (``fp-ig serve``); both give the same receipts."""

from __future__ import annotations

from typing import Annotated

import typer

from fp_adapters.containers import Platform
from fp_adapters.di import providers
from fp_adapters.http_ingress import HttpIngress
from fp_adapters.ingress_keys import producer_key
from fp_apps.wiring import run_stage
from fp_core.errors import ConfigError
from fp_core.pins import ContextPins
from fp_core.services.control import RunFacts, StreamComplete


def through_http(container: Platform, url: str, producer: str, ca_file: str | None) -> None:
    """Make what WSP submits to the HTTP ingress at ``url``, as producer ``producer``."""
    settings = container.adapters.settings()
    if producer not in settings.ingress.producers:
        raise ConfigError(f"--producer {producer!r} is not in ingress.producers ({sorted(settings.ingress.producers)})")
    store = container.adapters.secret_store()
    key = producer_key(producer, settings.ingress.producers[producer], store)

    def gate(pins: ContextPins) -> HttpIngress:
        return HttpIngress(url, key, pins.platform_run_id, verify=ca_file or True)
    container.ingress.override(providers.Callable(gate))


def wsp(run_id: Annotated[str, typer.Option("--run-id", help="a READY platform_run_id")],
        env: Annotated[str, typer.Option(envvar="FP_ENV", help="a registered environment")],
        ingress: Annotated[str | None, typer.Option(help="stream through `fp-ig serve` at this URL")] = None,
        producer: Annotated[str, typer.Option(help="the ingress producer whose API key to use")] = "wsp",
        ingress_ca: Annotated[str | None, typer.Option(help="CA file to verify an HTTPS ingress")] = None) -> None:
    """Stream the run; a WSP restarted after a crash re-submits from the start and IG answers every
    submission it already made durable with its receipts, so it resumes where the last durable one ended."""
    def stream(c: Platform, f: RunFacts) -> StreamComplete:
        if ingress:
            through_http(c, ingress, producer, ingress_ca)
        done: StreamComplete = c.wsp().stream(f.ready)
        return done
    run_stage(env, run_id, "wsp_ig", stream)


def main() -> None:
    typer.run(wsp)
