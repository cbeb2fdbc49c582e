"""End-to-end benchmark: a whole platform run of N events vs raw Kafka produce+consume of the same bytes.

Prints events/s for IG admission alone (events in -> durable receipts -> admitted events on Kafka; with
``--ig-lanes`` lanes, 2 by default, and with one, D64), for RTDL
over the stream IG admitted alone (a backlog: RTDL's own rate), for the whole run (started as ``fp run``
starts it: RTDL in a warm forked child, D57), for raw Kafka in the same process and substrate, their
ratio, CPU per event, peak RSS, and a small run's fixed cost (three ``fp run --events 200``, READY to
closed; last, since its processes count in the children's peak RSS). A discarded run of ``--warmup`` events
(100,000; 0 for none) goes first, so the broker's JVM is warm for the platform as it is for raw Kafka (D62).
Run with the substrate up:
.venv/bin/python -m bench.run_benchmark --events 100000
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from bench._common import arguments, sealed_platform
from bench._cpu import per_event_us, snapshot
from fp_adapters.kafka.client_config import BusCredentials, client_config
from fp_adapters.kafka.consumer import KafkaBusConsumer
from fp_adapters.kafka.names import TopicNames
from fp_adapters.kafka.producer import KafkaBusProducer
from fp_adapters.settings import load_settings
from fp_adapters.stage_process import StageProcess
from fp_apps.wiring import platform
from fp_core import topics
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.pins import ContextPins
from fp_core.ports import OutboundMessage
from fp_core.run_config import RunConfig
from fp_core.services.sr import seal_world
from fp_core.services.wsp import Encoder, read_stream_view


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def envelopes(events: int, seed: int, run_id: str) -> list[bytes]:
    """The envelopes WSP sends IG for this world, as bytes."""
    with platform("local_parity") as container:
        objects = container.adapters.objects()
        manifest = seal_world(objects, seed, events)
        pins = ContextPins(platform_run_id=run_id, scenario_run_id=manifest.scenario_run_id,
                           manifest_fingerprint=manifest.fingerprint(), seed=seed, schema_version="fp.event.v1",
                           policy_id="p", bundle_id="b")
        encoder = Encoder(pins, FRAUD_CLASS_MAP)
        return [encoder(row).raw for row in read_stream_view(objects, manifest.stream_view_keys())]


def bus() -> tuple[dict[str, Any], TopicNames]:
    settings = load_settings("local_parity")
    return (client_config(settings.bus, BusCredentials(bootstrap=settings.bus.bootstrap)),
            TopicNames(settings.bus.topic_prefix))


def raw_kafka(events: int, seed: int, batch: int) -> dict[str, float]:
    """Produce the same envelopes to the traffic topic and consume them back, timed (no platform logic)."""
    payloads = envelopes(events, seed, "bench-raw")
    conf, names = bus()
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
    with sealed_platform(seed, events, warm_stages=True) as container:  # as `fp run` runs it
        wf = container.workflow()
        cpu_before = snapshot()
        t0 = time.perf_counter()
        result = wf.run(RunConfig(env="local_parity", seed=seed, events=events), run_id)
        wall = time.perf_counter() - t0
        stages = stage_usage(container.launcher().started)
    cpu_after = snapshot()  # IG's lane processes have ended (at the platform's exit) and been waited for
    d = result.summary["durations_s"]
    sent = result.summary["counts"]["sent"]
    cpu = per_event_us(cpu_before, cpu_after, sent)
    # The kernel adds every ended child to this process's children: RTDL's, the archive's and IG's lanes'.
    # RTDL's and the archive's own shares are what their waits reported; the lanes' are the rest.
    children = cpu.pop("rtdl_process")
    cpu["archive_process"] = round(stages["fp-archive"][0] * 1e6 / max(sent, 1), 1)
    cpu["rtdl_process"] = round(stages["fp-rtdl"][0] * 1e6 / max(sent, 1), 1)
    cpu["ig_lane_processes"] = round(children - cpu["archive_process"] - cpu["rtdl_process"], 1)
    return {"platform_run_id": run_id, "status": result.status, "events": sent, "wall_s": round(wall, 3),
            "ig_admission_events_per_s": round(sent / d["wsp_ig"], 1),
            "rtdl_events_per_s": round(result.summary["counts"]["rtdl_consumed"] / d["rtdl"], 1),
            "whole_run_events_per_s": round(sent / wall, 1), "durations_s": d, "cpu_us_per_event": cpu,
            "rtdl_peak_rss_mb": stages["fp-rtdl"][1], "archive_peak_rss_mb": stages["fp-archive"][1]}


def stage_usage(started: list[StageProcess]) -> dict[str, tuple[float, float]]:
    """CPU seconds and peak RSS (MB) of the run's stage processes, per app (a stage started again adds
    its CPU; its peak is the larger)."""
    out: dict[str, tuple[float, float]] = {}
    for stage in started:
        usage = stage.usage
        if usage is None:
            raise RuntimeError(f"{stage.app} ended without its resource use (not a forked child)")
        cpu_s, rss = out.get(stage.app, (0.0, 0.0))
        out[stage.app] = (cpu_s + usage.ru_utime + usage.ru_stime, max(rss, round(usage.ru_maxrss / 1024, 1)))
    return out


def ig_alone(events: int, seed: int, lanes: int) -> dict[str, object]:
    """WSP into IG with RTDL not running: admission's own rate and CPU (the process and its IG lanes, Postgres,
    Kafka), with ``lanes`` lanes (``ig.lanes``) forked as ``fp-wsp`` forks them."""
    run_id = f"bench-ig-{uuid.uuid4().hex[:8]}"
    with lanes_setting(lanes), sealed_platform(seed, events, ig_lanes=True) as container:
        ready = container.sr().ready(RunConfig(env="local_parity", seed=seed, events=events), run_id)
        cpu_before = snapshot()
        t0 = time.perf_counter()
        stream = container.wsp().stream(ready)
        wall = time.perf_counter() - t0
    cpu_after = snapshot()  # the lanes' children have ended: their CPU is this process's children's
    sent = sum(stream.sent_by_class.values())
    cpu = per_event_us(cpu_before, cpu_after, sent)
    cpu["ig_lane_processes"] = cpu.pop("rtdl_process")
    return {"platform_run_id": run_id, "events": sent, "lanes": lanes, "wall_s": round(wall, 3),
            "events_per_s": round(sent / wall, 1), "cpu_us_per_event": cpu}


@contextmanager
def lanes_setting(lanes: int) -> Iterator[None]:
    """``ig.lanes`` for the platforms built inside (``FP_IG__LANES``, as an operator sets it)."""
    before = os.environ.get(LANES_ENV)
    os.environ[LANES_ENV] = str(lanes)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(LANES_ENV)
        else:
            os.environ[LANES_ENV] = before


LANES_ENV = "FP_IG__LANES"


def rtdl_alone(platform_run_id: str) -> dict[str, object]:
    """RTDL over a run IG admitted with RTDL not running (``ig_alone``'s): the whole admitted range is a
    backlog, so this is RTDL's own rate, not the rate IG offers it (the whole run's ``rtdl_events_per_s``
    is bounded by IG's). RTDL runs in this process; its CPU is the platform process's. The world is
    sealed already (by ``ig_alone``)."""
    with platform("local_parity") as container:
        cpu_before = snapshot()
        t0 = time.perf_counter()
        done = container.rtdl().for_run(platform_run_id)
        wall = time.perf_counter() - t0
        cpu_after = snapshot()
    consumed = int(done.stats["consumed"])
    return {"platform_run_id": platform_run_id, "consumed": consumed, "decisions": done.stats["decisions"],
            "wall_s": round(wall, 3), "events_per_s": round(consumed / wall, 1),
            "cpu_us_per_event": per_event_us(cpu_before, cpu_after, consumed)}


def quix_interpreter() -> Path:
    """``.venv-quix`` (created on first use): quixstreams pins pydantic and confluent-kafka below this
    project's ranges, so the peer runs under an interpreter of its own."""
    venv = Path(__file__).resolve().parent.parent / ".venv-quix"
    python = venv / "bin" / "python"
    if not python.exists():
        print("[bench] creating .venv-quix for the Quix Streams peer", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", QUIX_REQUIREMENT], check=True)
    return python


QUIX_REQUIREMENT = "quixstreams>=3.28,<3.29"


def quix_peer(events: int, seed: int) -> dict[str, object]:
    """The same envelopes, keyed by event id, on a fresh input topic; the Quix Streams app (bench/quix_peer.py)
    admits them under the same dedupe law with RocksDB state. Timed from its first message to its last."""
    python = quix_interpreter()
    run_id = f"bench-quix-{uuid.uuid4().hex[:8]}"
    payloads = envelopes(events, seed, run_id)
    conf, names = bus()
    source, sink = f"{names.prefix}bench-quix-in-{run_id}", f"{names.prefix}bench-quix-out-{run_id}"
    admin = AdminClient(conf)
    for future in admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=1)
                                       for t in (source, sink)]).values():
        future.result(30)
    producer = Producer({**conf, "linger.ms": 20, "batch.num.messages": 10_000, "enable.idempotence": True})
    for raw in payloads:
        while True:
            try:
                producer.produce(source, raw, orjson.loads(raw)["event_id"].encode())
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(60)
    class_map = json.dumps({t: c.name for t, c in FRAUD_CLASS_MAP.items()})
    with tempfile.TemporaryDirectory(prefix="quix-state-") as state_dir:
        cpu_before = snapshot()
        done = subprocess.run([str(python), str(Path(__file__).with_name("quix_peer.py")),
                               "--broker", str(conf["bootstrap.servers"]), "--input", source, "--output", sink,
                               "--events", str(len(payloads)), "--run-id", run_id, "--class-map", class_map,
                               "--state-dir", state_dir], capture_output=True, text=True, timeout=600)
        cpu_after = snapshot()
    if done.returncode != 0:
        raise RuntimeError(f"the Quix Streams peer failed: {done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = per_event_us(cpu_before, cpu_after, len(payloads))
    cpu["quix_process"] = cpu.pop("rtdl_process")  # the account's child-process slot: here the peer
    result["cpu_us_per_event"] = cpu
    topics_made = [source, sink, *[t for t in admin.list_topics(timeout=10).topics if run_id in t]]
    for future in admin.delete_topics(sorted(set(topics_made))).values():
        future.result(30)
    return result


def fp_run(events: int) -> tuple[dict[str, object], float]:
    """``fp run --events N --json`` as an operator runs it: its JSON summary and the command's wall time."""
    t0 = time.monotonic()
    done = subprocess.run([str(Path(sys.executable).with_name("fp")), "run", "--events", str(events), "--json"],
                          capture_output=True, text=True, timeout=600)
    wall = round(time.monotonic() - t0, 3)
    if done.returncode != 0:
        raise RuntimeError(f"fp run failed: {done.stderr[-2000:]}")
    summary: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary, wall


def fixed_cost(runs: int = 3, events: int = 200) -> dict[str, object]:
    """What a small run costs beyond its events: ``fp run --events 200`` as an operator runs it, READY to
    closed (the run's ``durations_s.ready_to_closed``) and the whole command's wall time, ``runs`` times."""
    closed, walls = [], []
    for _ in range(runs):
        summary, wall = fp_run(events)
        walls.append(wall)
        closed.append(summary["durations_s"]["ready_to_closed"])  # type: ignore[index]
    return {"events": events, "ready_to_closed_s": closed, "command_wall_s": walls,
            "ready_to_closed_median_s": sorted(closed)[len(closed) // 2]}


def warm_up(events: int) -> dict[str, object]:
    """``fp run --events N`` on the freshly started substrate, discarded: what it cost is reported (the
    substrate's CPU per event on a cold broker; ``fp run``'s own CPU is this process's children's)."""
    before = snapshot()
    summary, wall = fp_run(events)
    cpu = per_event_us(before, snapshot(), events)
    cpu["fp_run_processes"] = cpu.pop("rtdl_process")  # this process's children: the command and its stages
    return {"events": events, "command_wall_s": wall, "status": summary["status"],
            "ready_to_closed_s": summary["durations_s"]["ready_to_closed"],  # type: ignore[index]
            "cpu_us_per_event": cpu}


def main() -> None:
    args = arguments(100_000, 7, json=False, no_quix=False, warmup=100_000, ig_lanes=2)
    # A freshly started broker is a cold JVM: its first ~100k records pay for JIT compilation (58 us of its CPU
    # per event over the first 20k, 18 over the next 100k, 12 after, D62). The raw-Kafka baseline runs on a
    # warm broker, so the platform does too: a discarded run of --warmup events first, its figures reported.
    warmup = warm_up(args.warmup) if args.warmup else None
    run = platform_run(args.events, args.seed)
    platform_rss = round(rss_mb(), 1)  # before the raw-Kafka baseline holds its payloads and buffers
    ig = ig_alone(args.events, args.seed, args.ig_lanes)
    ig_one_lane = ig_alone(args.events, args.seed, 1)
    rtdl = rtdl_alone(str(ig["platform_run_id"]))
    quix = None if args.no_quix else quix_peer(args.events, args.seed)
    raw = raw_kafka(args.events, args.seed, 5_000)
    small = fixed_cost()
    ratio = round(float(run["whole_run_events_per_s"]) / raw["events_per_s"], 3)  # type: ignore[arg-type]
    report = {
        "whole_run_events_per_s": run["whole_run_events_per_s"], "raw_kafka_events_per_s": raw["events_per_s"],
        "whole_run_over_raw_kafka": ratio, "ig_admission_events_per_s": ig["events_per_s"], "ig_lanes": args.ig_lanes,
        "ig_admission_one_lane_events_per_s": ig_one_lane["events_per_s"],
        "ig_admission_beside_rtdl_events_per_s": run["ig_admission_events_per_s"],
        "rtdl_events_per_s": run["rtdl_events_per_s"], "rtdl_alone_events_per_s": rtdl["events_per_s"],
        "rtdl_alone_cpu_us_per_event": rtdl["cpu_us_per_event"], "cpu_us_per_event": run["cpu_us_per_event"],
        "ig_alone_cpu_us_per_event": ig["cpu_us_per_event"],
        "quix_peer_events_per_s": quix["events_per_s"] if quix else None,
        "ig_over_quix_peer": (round(float(ig["events_per_s"]) / float(quix["events_per_s"]), 3)  # type: ignore[arg-type]
                              if quix else None),
        "peak_rss_mb": {"platform_process": platform_rss, "rtdl_process": run["rtdl_peak_rss_mb"],
                        "archive_process": run["archive_peak_rss_mb"], "benchmark_with_raw_kafka": round(rss_mb(), 1)},
        "fixed_cost_s": small["ready_to_closed_median_s"], "fixed_cost": small,
        "platform": run, "ig_alone": ig, "ig_alone_one_lane": ig_one_lane, "rtdl_alone": rtdl, "raw_kafka": raw,
        "quix_peer": quix,
        "warmup": warmup}
    if args.json:
        print(json.dumps(report, sort_keys=True))
        return
    print(json.dumps(report, indent=2))
    cpu_total = run["cpu_us_per_event"]["total"]  # type: ignore[index]
    print(f"whole run: {run['whole_run_events_per_s']} ev/s = {ratio} x raw Kafka ({raw['events_per_s']} ev/s; "
          f"target >= 0.45); IG alone: {ig['events_per_s']} ev/s with {args.ig_lanes} lanes "
          f"({ig_one_lane['events_per_s']} with one; target >= 20000); CPU per event: "
          f"{cpu_total} us (target <= 130); fixed cost (200-event run, READY to closed): "
          f"{small['ready_to_closed_median_s']} s (target < 1)")


if __name__ == "__main__":
    main()
