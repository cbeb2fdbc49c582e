"""TableCodec on Apache Parquet (pyarrow, imported on first use): zstd, one row group, deterministic bytes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fp_core.errors import ConfigError

_TYPES = ("int64", "float64", "string", "binary")


class ParquetCodec:
    suffix = "parquet"

    def encode(self, columns: Mapping[str, Sequence[Any]], types: Mapping[str, str]) -> bytes:
        import pyarrow as pa  # on first use: most processes never read or write a table
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
