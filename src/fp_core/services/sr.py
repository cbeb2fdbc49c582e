"""SR, the scenario runner: seal the oracle (engine output), check the gate, pin the run, emit READY."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from fp_core import topics
from fp_core.canonical import sha256_hex
from fp_core.envelope import EVENT_SCHEMA_VERSION, iso_utc
from fp_core.errors import NotFound
from fp_core.evidence import RunStarted, render
from fp_core.identity import derive_id
from fp_core.oracle import OracleManifest, OracleObject, PassFlag, check_gate, oracle_root
from fp_core.pins import ContextPins
from fp_core.ports import Clock, Log, ObjectStore
from fp_core.run_config import RunConfig, config_digest
from fp_core.services.consuming import OffsetProbe
from fp_core.services.control import ReadySignal, encode_positions
from fp_core.services.facts import FactLog, started_key
from fp_core.world import WORLD_VERSION, StreamRow, TruthLabel, generate_world, scenario_run_id_for

PART_ROWS = 50_000


def _parts(items: Iterator[bytes], part_rows: int) -> Iterator[list[bytes]]:
    part: list[bytes] = []
    for item in items:
        part.append(item)
        if len(part) >= part_rows:
            yield part
            part = []
    if part:
        yield part


def stream_view_line(row: StreamRow) -> bytes:
    """A row as the sealed stream_view holds it: compact JSON, keys sorted (``read_stream_view`` reads it)."""
    return json.dumps(row.to_json(), sort_keys=True, separators=(",", ":")).encode()


def seal_world(objects: ObjectStore, seed: int, events: int, part_rows: int = PART_ROWS) -> OracleManifest:
    """Generate the world and write it as sealed outputs; an already sealed scenario is reused as is."""
    scenario = scenario_run_id_for(seed, events)
    root = oracle_root(scenario)
    if objects.exists(f"{root}/_PASSED.json"):
        return OracleManifest.model_validate_json(objects.get(f"{root}/manifest.json"))
    labels: list[bytes] = []
    counts: dict[str, int] = {}
    written: list[OracleObject] = []

    def rows() -> Iterator[bytes]:
        for item in generate_world(seed, events):
            if isinstance(item, TruthLabel):
                labels.append(json.dumps(item.to_json(), sort_keys=True).encode())
                continue
            assert isinstance(item, StreamRow)
            counts[item.event_type] = counts.get(item.event_type, 0) + 1
            yield stream_view_line(item)

    for n, part in enumerate(_parts(rows(), part_rows)):
        written.append(_write(objects, f"{root}/stream_view/part-{n:05d}.jsonl", part, "stream_view"))
    written.append(_write(objects, f"{root}/labels/part-00000.jsonl", labels, "labels"))
    manifest = OracleManifest(scenario_run_id=scenario, world_version=WORLD_VERSION, seed=seed, events=events,
                              objects=tuple(written), counts_by_type=dict(sorted(counts.items())))
    objects.put(f"{root}/manifest.json", manifest.model_dump_json().encode())
    flag = PassFlag(scenario_run_id=scenario, manifest_fingerprint=manifest.fingerprint())
    objects.put(f"{root}/_PASSED.json", flag.model_dump_json().encode())
    return manifest


def _write(objects: ObjectStore, key: str, lines: list[bytes], kind: str) -> OracleObject:
    data = b"\n".join(lines) + (b"\n" if lines else b"")
    objects.put(key, data)
    return OracleObject(key=key, sha256=sha256_hex(data), rows=len(lines), kind=kind)


@dataclass
class ScenarioRunner:
    objects: ObjectStore
    facts: FactLog
    probe: OffsetProbe
    clock: Clock
    log: Log

    def ready(self, config: RunConfig, platform_run_id: str) -> ReadySignal:
        """Seal the engine's output (reused if already sealed), check the gate, pin the run, emit READY,
        then record the run's start (write-once) with where READY landed."""
        manifest = seal_world(self.objects, config.seed, config.events)
        start = encode_positions(self.probe.end_offsets([*topics.RTDL_INPUTS, topics.CASE_TRIGGERS]))
        ready = self.pin(manifest.scenario_run_id, platform_run_id, config, start)
        at = self.facts.publish(platform_run_id, ready)
        self.objects.put(started_key(platform_run_id), render(RunStarted(
            platform_run_id=platform_run_id, scenario_run_id=manifest.scenario_run_id,
            started_at=iso_utc(self.clock.now_ms()), ready_at=at)))
        self.log.info("sr.ready", platform_run_id=platform_run_id, scenario_run_id=manifest.scenario_run_id,
                      manifest_fingerprint=ready.pins.manifest_fingerprint)
        return ready

    def pin(self, scenario_run_id: str, platform_run_id: str, config: RunConfig,
            input_start: dict[str, int]) -> ReadySignal:
        """No PASS, no read: verify the seal and every digest, then pin the run."""
        root = oracle_root(scenario_run_id)
        manifest = OracleManifest.model_validate_json(self.objects.get(f"{root}/manifest.json"))
        try:
            flag: PassFlag | None = PassFlag.model_validate_json(self.objects.get(f"{root}/_PASSED.json"))
        except NotFound:
            flag = None
        digests = {o.key: sha256_hex(self.objects.get(o.key)) for o in manifest.objects}
        fingerprint = check_gate(manifest, flag, digests)
        pins = ContextPins(platform_run_id=platform_run_id, scenario_run_id=scenario_run_id,
                           manifest_fingerprint=fingerprint, seed=manifest.seed,
                           schema_version=EVENT_SCHEMA_VERSION, policy_id=config.policy.policy_id,
                           bundle_id=f"{config.bundle.bundle_id}:{config.bundle.version}")
        return ReadySignal(message_id=derive_id("ready", platform_run_id, fingerprint), pins=pins,
                           config=config, config_digest=config_digest(config),
                           stream_view_keys=tuple(manifest.stream_view_keys()),
                           label_keys=tuple(manifest.label_keys()), input_start=input_start)
