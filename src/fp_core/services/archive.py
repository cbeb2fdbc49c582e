"""Archive writer: admitted events to ``archive/`` as write-once columnar objects named by their offset
range, with a manifest per run that the replay and the dataset builder read."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from fp_core.errors import ObjectExists
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
    """Writes each partition's records in objects of exactly ``object_records`` (the last one shorter, at
    ``flush``): the cuts follow from the start offset, whatever the polls returned, so a drain resumed from
    its checkpoint (always an object's end) cuts the same objects again. Only written records are reported
    durable; the rest are held."""

    objects: ObjectStore
    codec: TableCodec
    platform_run_id: str
    object_records: int = 5_000
    _held: dict[TopicPartition, list[BusRecord]] = field(default_factory=dict, init=False, repr=False)

    def handle(self, records: Sequence[BusRecord]) -> dict[TopicPartition, int]:
        n = self.object_records
        safe: dict[TopicPartition, int] = {}
        for r in records:
            self._held.setdefault((r.origin.topic, r.origin.partition), []).append(r)
        for tp in sorted(self._held):
            held = self._held[tp]
            while len(held) >= n:
                safe[tp] = self._write(tp, held[:n])
                held = self._held[tp] = held[n:]
            if not held:
                del self._held[tp]
        return safe

    def flush(self) -> dict[TopicPartition, int]:
        """Write what is held (the end of the range): the last, shorter object of each partition."""
        safe = {tp: self._write(tp, held) for tp, held in sorted(self._held.items())}
        self._held.clear()
        return safe

    def _write(self, tp: TopicPartition, recs: list[BusRecord]) -> int:
        """One object of ``recs``; the offset after it."""
        first, last = recs[0].origin.offset, recs[-1].origin.offset
        key = archive_key(self.platform_run_id, tp[0], tp[1], first, last, self.codec.suffix)
        # Write-once: a drain resumed from its checkpoint cuts the same objects, finds them written.
        with contextlib.suppress(ObjectExists):
            self.objects.put(key, self.codec.encode(
                {"offset": [r.origin.offset for r in recs], "key": [r.key or b"" for r in recs],
                 "value": [r.value for r in recs]}, ARCHIVE_COLUMNS))
        return last + 1


ARCHIVE_GROUP = "fp-archive"


@dataclass
class ArchiveStage:
    """The archive writer for one run: its admitted input range (group ``fp-archive``) to ``archive/``,
    then the run's manifest."""

    objects: ObjectStore
    drainer: Drainer
    facts: FactLog
    codec: TableCodec

    def for_run(self, platform_run_id: str) -> StageComplete:
        """The stage for a run whose stream is complete, from its facts."""
        facts = self.facts.read(platform_run_id)
        return self.run(facts.ready, facts.require_stream())

    def run(self, ready: ReadySignal, stream: StreamComplete) -> StageComplete:
        run = ready.pins.platform_run_id
        start, end = input_range(stream)
        writer = ArchiveWriter(self.objects, self.codec, run)
        resume = self.drainer.resume_positions(ARCHIVE_GROUP, run, start)
        drained = self.drainer.drain(ARCHIVE_GROUP, run, 20_000, resume, end, writer.handle, writer.flush)
        keys = archive_objects(self.objects, run, self.codec.suffix)
        manifest = ArchiveManifest(platform_run_id=run, format=self.codec.suffix, columns=ARCHIVE_COLUMNS,
                                   objects=tuple(parse_archive_key(k) for k in keys))
        self.objects.put(manifest_key(run), render(manifest), overwrite=True)
        return self.facts.complete(run, "archive", {"consumed": drained.consumed, "objects": keys},
                                   ready.pins.scenario_run_id)
