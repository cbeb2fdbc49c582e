"""IG over HTTP against IG in process, in the same run, on the same substrate: events/s for each, their
ratio (target >= 0.8) and the request latency of a batch over HTTP (p50/p99/max).

Two READY runs of the same sealed world: one admitted by ``IngestionGate.submit`` in this process, one
posted by two client threads (batches of ``--batch``, keep-alive) to ``fp-ig serve`` started as its
own process. Run with the substrate up:  .venv/bin/python -m bench.ig_http_benchmark --events 50000
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

from bench._common import arguments, sealed_platform
from fp_adapters.ingress_keys import producer_key
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.identity import derive_id
from fp_core.ingress import NDJSON
from fp_core.run_config import RunConfig
from fp_core.services.wsp import Encoder, read_stream_view


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    args = arguments(50_000, 7, batch=500, clients=2, json=False)  # --json: the JSON line only (default)
    config = RunConfig(env="local_parity", seed=args.seed, events=args.events)
    tag = uuid.uuid4().hex[:8]
    with sealed_platform(args.seed, args.events) as container:
        settings = container.adapters.settings()
        runs = {}
        for path in ("in_process", "http"):
            ready = container.sr().ready(config, f"bench-{path}-{tag}")
            encode = Encoder(ready.pins, FRAUD_CLASS_MAP)
            raws = [encode(row).raw for row in read_stream_view(container.adapters.objects(), ready.stream_view_keys)]
            batches = [raws[i:i + args.batch] for i in range(0, len(raws), args.batch)]
            runs[path] = (ready, batches)

        def in_process() -> float:
            ready, batches = runs["in_process"]
            gate = container.gate(ready.pins)
            t0 = time.perf_counter()
            for i, b in enumerate(batches):
                gate.submit(derive_id("bench", i), b)
            return time.perf_counter() - t0

        in_process_s = in_process()
        events = sum(len(b) for b in runs["in_process"][1])

        ready, batches = runs["http"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([str(Path(sys.executable).with_name("fp-ig")), "serve", "--env", "local_parity",
                                   "--run-id", ready.pins.platform_run_id, "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        key = producer_key("wsp", settings.ingress.producers["wsp"], container.adapters.secret_store())
        try:
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            latencies: list[float] = []
            todo = list(enumerate(batches))
            lock = threading.Lock()

            def client() -> None:
                with httpx.Client(base_url=url, timeout=120, headers={"X-API-Key": key,
                                                                       "Content-Type": NDJSON}) as http:
                    while True:
                        with lock:
                            if not todo:
                                return
                            i, b = todo.pop(0)
                        started = time.perf_counter()
                        r = http.post(f"/v1/runs/{ready.pins.platform_run_id}/events", content=b"\n".join(b),
                                      headers={"Idempotency-Key": f"bench-{i}"})
                        assert r.status_code == 200, r.text
                        latencies.append(time.perf_counter() - started)

            t0 = time.perf_counter()
            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            http_s = time.perf_counter() - t0
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(60)
    result = {
        "events": events, "batch": args.batch, "clients": args.clients,
        "in_process_events_per_s": round(events / in_process_s, 1),
        "http_events_per_s": round(events / http_s, 1),
        "http_over_in_process": round(in_process_s / http_s, 3),
        "request_latency_ms": {"p50": round(percentile(latencies, 0.5) * 1000, 1),
                               "p99": round(percentile(latencies, 0.99) * 1000, 1),
                               "max": round(max(latencies) * 1000, 1)},
    }
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
