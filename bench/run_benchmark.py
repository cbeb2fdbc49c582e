"""End-to-end benchmark: a whole platform run of N events vs raw Kafka produce+consume of the same bytes.

Prints events/s for IG admission (events in -> durable receipts -> admitted events on Kafka), for the
whole run, for raw Kafka in the same process and substrate, their ratio, and peak RSS. Run with the
substrate up:  .venv/bin/python -m bench.run_benchmark --events 100000
"""

from __future__ import annotations

import json
import resource
import time
import uuid

from bench._common import arguments, sealed_platform
from fp_adapters.kafka.client_config import BusCredentials, client_config
from fp_adapters.kafka.consumer import KafkaBusConsumer
from fp_adapters.kafka.names import TopicNames
from fp_adapters.kafka.producer import KafkaBusProducer
from fp_adapters.settings import load_settings
from fp_apps.wiring import platform
from fp_core import topics
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.ports import OutboundMessage
from fp_core.run_config import RunConfig
from fp_core.services.sr import seal_world
from fp_core.services.wsp import Encoder, read_stream_view


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raw_kafka(events: int, seed: int, batch: int) -> dict[str, float]:
    """Produce the same envelopes to the traffic topic and consume them back, timed (no platform logic)."""
    settings = load_settings("local_parity")
    conf = client_config(settings.bus, BusCredentials(bootstrap=settings.bus.bootstrap))
    names = TopicNames(settings.bus.topic_prefix)
    with platform("local_parity") as container:
        objects = container.adapters.objects()
        manifest = seal_world(objects, seed, events)
        from fp_core.pins import ContextPins
        pins = ContextPins(platform_run_id="bench-raw", scenario_run_id=manifest.scenario_run_id,
                           manifest_fingerprint=manifest.fingerprint(), seed=seed, schema_version="fp.event.v1",
                           policy_id="p", bundle_id="b")
        encoder = Encoder(pins, FRAUD_CLASS_MAP)
        payloads = [encoder(row).raw for row in read_stream_view(objects, manifest.stream_view_keys())]
    producer = KafkaBusProducer(conf, names)
    consumer = KafkaBusConsumer(conf, f"bench-raw-{uuid.uuid4().hex[:6]}", names)
    start = consumer.end_offsets([topics.TRAFFIC_FRAUD])
    t0 = time.perf_counter()
    for i in range(0, len(payloads), batch):
        producer.publish([OutboundMessage(topics.TRAFFIC_FRAUD, b"m%d" % (j % 97), p)
                          for j, p in enumerate(payloads[i:i + batch], i)])
    t_prod = time.perf_counter() - t0
    consumer.assign(start)
    got = 0
    t1 = time.perf_counter()
    while got < len(payloads):
        recs = consumer.poll_batch(batch, 1.0)
        got += len(recs)
        if recs:
            consumer.commit({(r.origin.topic, r.origin.partition): r.origin.offset + 1 for r in recs})
    t_cons = time.perf_counter() - t1
    consumer.close()
    producer.close()
    total = t_prod + t_cons
    return {"events": len(payloads), "bytes": sum(map(len, payloads)), "produce_s": round(t_prod, 3),
            "consume_s": round(t_cons, 3), "events_per_s": round(len(payloads) / total, 1)}


def platform_run(events: int, seed: int) -> dict[str, object]:
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    with sealed_platform(seed, events) as container:
        wf = container.workflow()
        t0 = time.perf_counter()
        result = wf.run(RunConfig(env="local_parity", seed=seed, events=events), run_id)
        wall = time.perf_counter() - t0
    d = result.summary["durations_s"]
    sent = result.summary["counts"]["sent"]
    return {"platform_run_id": run_id, "status": result.status, "events": sent, "wall_s": round(wall, 3),
            "ig_admission_events_per_s": round(sent / d["wsp_ig"], 1),
            "rtdl_events_per_s": round(result.summary["counts"]["rtdl_consumed"] / d["rtdl"], 1),
            "whole_run_events_per_s": round(sent / wall, 1), "durations_s": d}


def main() -> None:
    args = arguments(100_000, 7, json=False)
    run = platform_run(args.events, args.seed)
    platform_rss = round(rss_mb(), 1)  # before the raw-Kafka baseline holds its payloads and buffers
    raw = raw_kafka(args.events, args.seed, 5_000)
    ratio = round(float(run["whole_run_events_per_s"]) / raw["events_per_s"], 3)  # type: ignore[arg-type]
    report = {"platform": run, "raw_kafka": raw, "whole_run_over_raw_kafka": ratio, "peak_rss_mb": round(rss_mb(), 1),
              "platform_peak_rss_mb": platform_rss}
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return
    print(json.dumps(report, indent=2))
    print(f"IG admission: {run['ig_admission_events_per_s']} ev/s (target >= 30000); whole run: "
          f"{run['whole_run_events_per_s']} ev/s (target >= 20000); raw Kafka produce+consume: "
          f"{raw['events_per_s']} ev/s; ratio {ratio} (target >= 0.25)")


if __name__ == "__main__":
    main()
