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
from bench._cpu import per_event_us, snapshot
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
        cpu_before = snapshot()
        t0 = time.perf_counter()
        result = wf.run(RunConfig(env="local_parity", seed=seed, events=events), run_id)
        wall = time.perf_counter() - t0
        cpu_after = snapshot()
    d = result.summary["durations_s"]
    sent = result.summary["counts"]["sent"]
    return {"platform_run_id": run_id, "status": result.status, "events": sent, "wall_s": round(wall, 3),
            "ig_admission_events_per_s": round(sent / d["wsp_ig"], 1),
            "rtdl_events_per_s": round(result.summary["counts"]["rtdl_consumed"] / d["rtdl"], 1),
            "whole_run_events_per_s": round(sent / wall, 1), "durations_s": d,
            "cpu_us_per_event": per_event_us(cpu_before, cpu_after, sent),
            "rtdl_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def ig_alone(events: int, seed: int) -> dict[str, object]:
    """WSP into IG with RTDL not running: admission's own rate and CPU (the process, Postgres, Kafka)."""
    run_id = f"bench-ig-{uuid.uuid4().hex[:8]}"
    with sealed_platform(seed, events) as container:
        ready = container.sr().ready(RunConfig(env="local_parity", seed=seed, events=events), run_id)
        cpu_before = snapshot()
        t0 = time.perf_counter()
        stream = container.wsp().stream(ready)
        wall = time.perf_counter() - t0
        cpu_after = snapshot()
    sent = sum(stream.sent_by_class.values())
    return {"platform_run_id": run_id, "events": sent, "wall_s": round(wall, 3),
            "events_per_s": round(sent / wall, 1), "cpu_us_per_event": per_event_us(cpu_before, cpu_after, sent)}


def main() -> None:
    args = arguments(100_000, 7, json=False)
    run = platform_run(args.events, args.seed)
    platform_rss = round(rss_mb(), 1)  # before the raw-Kafka baseline holds its payloads and buffers
    ig = ig_alone(args.events, args.seed)
    raw = raw_kafka(args.events, args.seed, 5_000)
    ratio = round(float(run["whole_run_events_per_s"]) / raw["events_per_s"], 3)  # type: ignore[arg-type]
    report = {
        "whole_run_events_per_s": run["whole_run_events_per_s"], "raw_kafka_events_per_s": raw["events_per_s"],
        "whole_run_over_raw_kafka": ratio, "ig_admission_events_per_s": ig["events_per_s"],
        "ig_admission_beside_rtdl_events_per_s": run["ig_admission_events_per_s"],
        "rtdl_events_per_s": run["rtdl_events_per_s"], "cpu_us_per_event": run["cpu_us_per_event"],
        "ig_alone_cpu_us_per_event": ig["cpu_us_per_event"],
        "peak_rss_mb": {"platform_process": platform_rss, "rtdl_process": run["rtdl_peak_rss_mb"],
                        "benchmark_with_raw_kafka": round(rss_mb(), 1)},
        "platform": run, "ig_alone": ig, "raw_kafka": raw}
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return
    print(json.dumps(report, indent=2))
    print(f"whole run: {run['whole_run_events_per_s']} ev/s = {ratio} x raw Kafka ({raw['events_per_s']} ev/s; "
          f"target >= 0.45); IG alone: {ig['events_per_s']} ev/s (target >= 20000); CPU per event: "
          f"{run['cpu_us_per_event']['total']} us (target <= 130)")  # type: ignore[index]


if __name__ == "__main__":
    main()
