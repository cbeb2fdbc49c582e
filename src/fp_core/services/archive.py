"""Archive writer: admitted events to ``archive/`` as write-once columnar objects named by their offset
range, with a manifest per run that the replay and the dataset builder read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fp_core.evidence import render
from fp_core.model import FrozenModel
from fp_core.ports import BusRecord, ObjectStore, TableCodec, TopicPartition
from fp_core.services.consuming import Drainer
from fp_core.services.control import ReadySignal, StageComplete, StreamComplete, input_range
from fp_core.services.facts import FactLog

ARCHIVE_COLUMNS = {"offset": "int64", "key": "binary", "value": "binary"}


def archive_prefix(platform_run_id: str) -> str:
    return f"archive/{platform_run_id}/"


def archive_key(platform_run_id: str, topic: str, partition: int, start: int, end: int, suffix: str) -> str:
    """``archive/<run>/<topic>/p<n>/<first>-<last>.<suffix>`` (offsets inclusive, zero-padded)."""
    return f"{archive_prefix(platform_run_id)}{topic}/p{partition}/{start:012d}-{end:012d}.{suffix}"


def manifest_key(platform_run_id: str) -> str:
    return f"{archive_prefix(platform_run_id)}manifest.json"


class ArchiveObject(FrozenModel):
    key: str
    topic: str
    partition: int
    first_offset: int
    last_offset: int


class ArchiveManifest(FrozenModel):
    """``archive/<run>/manifest.json``: every archive object of the run with its offset range."""

    platform_run_id: str
    format: str
    columns: dict[str, str]
    objects: tuple[ArchiveObject, ...]


def parse_archive_key(key: str) -> ArchiveObject:
    _archive, _run, topic, part, span = key.split("/", 4)
    first, last = span.split(".", 1)[0].split("-", 1)
    return ArchiveObject(key=key, topic=topic, partition=int(part.removeprefix("p")),
                         first_offset=int(first), last_offset=int(last))


def archive_objects(objects: ObjectStore, platform_run_id: str, suffix: str) -> list[str]:
    """The run's archive data objects (the manifest excluded), sorted."""
    return [k for k in objects.list(archive_prefix(platform_run_id)) if k.endswith(f".{suffix}")]


@dataclass
class ArchiveWriter:
    objects: ObjectStore
    codec: TableCodec
    platform_run_id: str
    written: list[str] = field(default_factory=list)

    def handle(self, records: Sequence[BusRecord]) -> dict[TopicPartition, int]:
        by_tp: dict[TopicPartition, list[BusRecord]] = {}
        for r in records:
            by_tp.setdefault((r.origin.topic, r.origin.partition), []).append(r)
        safe: dict[TopicPartition, int] = {}
        for (topic, partition), recs in sorted(by_tp.items()):
            first, last = recs[0].origin.offset, recs[-1].origin.offset
            key = archive_key(self.platform_run_id, topic, partition, first, last, self.codec.suffix)
            if not self.objects.exists(key):
                self.objects.put(key, self.codec.encode(
                    {"offset": [r.origin.offset for r in recs], "key": [r.key or b"" for r in recs],
                     "value": [r.value for r in recs]}, ARCHIVE_COLUMNS))
            self.written.append(key)
            safe[(topic, partition)] = last + 1
        return safe


ARCHIVE_GROUP = "fp-archive"


@dataclass
class ArchiveStage:
    """The archive writer for one run: its admitted input range (group ``fp-archive``) to ``archive/``,
    then the run's manifest."""

    objects: ObjectStore
    drainer: Drainer
    facts: FactLog
    codec: TableCodec

    def run(self, ready: ReadySignal, stream: StreamComplete) -> StageComplete:
        run = ready.pins.platform_run_id
        start, end = input_range(stream)
        writer = ArchiveWriter(self.objects, self.codec, run)
        resume = self.drainer.resume_positions(ARCHIVE_GROUP, run, start)
        drained = self.drainer.drain(ARCHIVE_GROUP, run, 20_000, resume, end, writer.handle)
        keys = archive_objects(self.objects, run, self.codec.suffix)
        manifest = ArchiveManifest(platform_run_id=run, format=self.codec.suffix, columns=ARCHIVE_COLUMNS,
                                   objects=tuple(parse_archive_key(k) for k in keys))
        self.objects.put(manifest_key(run), render(manifest), overwrite=True)
        return self.facts.complete(run, "archive", {"consumed": drained.consumed, "objects": keys},
                                   ready.pins.scenario_run_id)
