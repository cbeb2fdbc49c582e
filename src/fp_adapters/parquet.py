"""TableCodec on Apache Parquet (pyarrow): zstd, one row group, deterministic bytes."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from fp_core.errors import ConfigError

_TYPES = ("int64", "float64", "string", "binary")


def import_pyarrow() -> None:
    """Load pyarrow and its Parquet module (0.1-0.3 s), ahead of the first encode or decode."""
    import pyarrow
    import pyarrow.parquet  # noqa: F401


class ParquetCodec:
    """pyarrow is imported on a thread when the codec is built (only a process that archives, replays or
    builds datasets builds one): a run's archive stage then finds it loaded instead of waiting 0.2-0.3 s
    for it at the end of the run (D57). An ``encode`` that comes first waits on the import lock."""

    suffix = "parquet"

    def __init__(self, preload: bool = True) -> None:
        if preload:
            threading.Thread(target=import_pyarrow, name="pyarrow-import", daemon=True).start()

    def encode(self, columns: Mapping[str, Sequence[Any]], types: Mapping[str, str]) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        unknown = sorted(set(types.values()) - set(_TYPES))
        if unknown or set(columns) != set(types):
            raise ConfigError(f"table columns {sorted(columns)} vs types {dict(types)} (unknown {unknown})")
        schema = pa.schema([(name, getattr(pa, types[name])()) for name in columns])
        table = pa.table({name: pa.array(values, type=schema.field(name).type) for name, values in columns.items()},
                         schema=schema)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd", row_group_size=max(len(table), 1))
        return bytes(sink.getvalue().to_pybytes())

    def decode(self, data: bytes) -> dict[str, list[Any]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        return dict(pq.read_table(pa.BufferReader(data)).to_pydict())
