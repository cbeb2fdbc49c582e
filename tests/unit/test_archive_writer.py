"""The archive writer cuts objects of a fixed size whatever the polls return, writes each once, and a
writer redoing a range after a crash cuts the same objects (finding them written)."""

from __future__ import annotations

from fp_adapters.memory.stores import MemObjectStore
from fp_adapters.memory.substrate import MemorySubstrate
from fp_adapters.parquet import ParquetCodec
from fp_core.offsets import OriginOffset
from fp_core.ports import BusRecord
from fp_core.services.archive import ArchiveWriter, archive_objects, parse_archive_key

TOPIC = "fp.bus.traffic.fraud.v1"


def records(partition: int, first: int, last: int) -> list[BusRecord]:
    return [BusRecord(OriginOffset(topic=TOPIC, partition=partition, offset=o), b"k%d" % o, b"v%d" % o)
            for o in range(first, last + 1)]


def test_objects_are_cut_by_size_not_by_poll_and_only_written_records_are_durable() -> None:
    store = MemObjectStore(MemorySubstrate(), "archive-writer")
    writer = ArchiveWriter(store, ParquetCodec(), "pr-arch", object_records=4)
    assert writer.handle(records(0, 0, 2) + records(1, 0, 0)) == {}  # nothing written yet: nothing durable
    assert writer.handle(records(0, 3, 5)) == {(TOPIC, 0): 4}  # 0-3 written; 4-5 held
    assert writer.handle(records(0, 6, 12)) == {(TOPIC, 0): 12}  # 4-7 and 8-11 written; 12 held
    assert writer.flush() == {(TOPIC, 0): 13, (TOPIC, 1): 1}
    spans = [(o.partition, o.first_offset, o.last_offset)
             for o in map(parse_archive_key, archive_objects(store, "pr-arch", "parquet"))]
    assert spans == [(0, 0, 3), (0, 4, 7), (0, 8, 11), (0, 12, 12), (1, 0, 0)]
    assert writer.flush() == {}


def test_a_redone_range_cuts_the_same_objects_and_writes_nothing_twice() -> None:
    store = MemObjectStore(MemorySubstrate(), "archive-redo")
    first = ArchiveWriter(store, ParquetCodec(), "pr-arch", object_records=5)
    first.handle(records(2, 0, 11))  # 0-4 and 5-9 written, 10-11 held: the crash came before the commit
    written = archive_objects(store, "pr-arch", "parquet")
    contents = [store.get(k) for k in written]
    again = ArchiveWriter(store, ParquetCodec(), "pr-arch", object_records=5)
    for lo in range(0, 12, 3):  # the same range in other poll sizes
        again.handle(records(2, lo, lo + 2))
    assert again.flush() == {(TOPIC, 2): 12}
    keys = archive_objects(store, "pr-arch", "parquet")
    spans = [(o.first_offset, o.last_offset) for o in map(parse_archive_key, keys)]
    assert spans == [(0, 4), (5, 9), (10, 11)]  # the same cuts as the first writer's, and the rest
    assert [store.get(k) for k in written] == contents  # the objects written first are kept as they were
