"""The Quix Streams peer of IG admission: the same dedupe law as a Quix Streams app with RocksDB state.

Runs under its own interpreter (``.venv-quix``: quixstreams pins pydantic and confluent-kafka below this
project's ranges), started by ``bench.run_benchmark``. It consumes the same envelope bytes WSP sends IG
(keyed by event id) and, per message: parses the envelope, refuses one that is not an object with an
event id, a known event type and the run's id (counted as quarantined), hashes the canonical payload
(sorted keys, SHA-256), and looks the dedupe tuple ``(platform_run_id, event_class, event_id)`` up in
its state: first sighting -> stored and the event produced to the output topic (admitted); same hash ->
duplicate; another hash -> anomaly. State is RocksDB with its changelog topic, at-least-once, commits
every 5 s (Quix's defaults). Prints one JSON line: counts, the processing
rate from the first message to the last, and its own CPU seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import time
from typing import Any

import orjson
from quixstreams import Application, State


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--run-id", required=True)
    ap.add_argument("--class-map", required=True, help="JSON object: event_type -> event class")
    ap.add_argument("--state-dir", required=True)
    args = ap.parse_args()
    class_of: dict[str, str] = json.loads(args.class_map)
    counts = {"admitted": 0, "duplicate": 0, "anomaly": 0, "quarantined": 0}
    marks: dict[str, float] = {}

    # Quix's defaults otherwise (commits every 5 s, changelog topics on, at-least-once).
    app = Application(broker_address=args.broker, consumer_group=f"quix-peer-{args.run_id}",
                      auto_offset_reset="earliest", state_dir=args.state_dir, loglevel="WARNING")
    source = app.topic(args.input, key_deserializer="bytes", value_deserializer="bytes")
    sink = app.topic(args.output, key_serializer="bytes", value_serializer="bytes")

    def judge(value: bytes, state: State) -> bytes | None:
        marks.setdefault("first", time.perf_counter())
        try:
            env: Any = orjson.loads(value)
            event_class = class_of[env["event_type"]]
            if env["pins"]["platform_run_id"] != args.run_id or not isinstance(env["event_id"], str):
                raise ValueError("foreign run or bad event id")
            digest = hashlib.sha256(orjson.dumps(env["payload"], option=orjson.OPT_SORT_KEYS)).hexdigest()
        except (ValueError, KeyError, TypeError):
            counts["quarantined"] += 1
            return None
        key = f"{args.run_id}|{event_class}"  # the state is scoped by the message key, the event id
        first = state.get(key)
        if first is None:
            state.set(key, digest)
            counts["admitted"] += 1
            return value
        counts["duplicate" if first == digest else "anomaly"] += 1
        return None

    def seen(_value: object) -> None:
        if sum(counts.values()) >= args.events and "last" not in marks:
            marks["last"] = time.perf_counter()
            app.stop()

    sdf = app.dataframe(source)
    sdf = sdf.apply(judge, stateful=True)
    sdf.update(seen)
    sdf = sdf.filter(lambda v: v is not None)
    sdf.to_topic(sink)
    started = time.perf_counter()
    app.run(timeout=15.0)  # stops itself after the last event; the timeout only guards a short input
    wall = time.perf_counter() - started
    processed = sum(counts.values())
    span = marks.get("last", time.perf_counter()) - marks.get("first", started)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"events": processed, "counts": counts, "wall_s": round(wall, 3),
                      "processing_s": round(span, 3), "events_per_s": round(processed / span, 1) if span else 0.0,
                      "cpu_s": round(usage.ru_utime + usage.ru_stime, 3)}))


if __name__ == "__main__":
    main()
