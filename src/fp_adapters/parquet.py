"""TableCodec on Apache Parquet (pyarrow): zstd-compressed, one row group, deterministic bytes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fp_core.errors import ConfigError

_TYPES = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string(), "binary": pa.binary()}


class ParquetCodec:
    suffix = "parquet"

    def encode(self, columns: Mapping[str, Sequence[Any]], types: Mapping[str, str]) -> bytes:
        unknown = sorted(set(types.values()) - set(_TYPES))
        if unknown or set(columns) != set(types):
            raise ConfigError(f"table columns {sorted(columns)} vs types {dict(types)} (unknown {unknown})")
        schema = pa.schema([(name, _TYPES[types[name]]) for name in columns])
        table = pa.table({name: pa.array(values, type=schema.field(name).type) for name, values in columns.items()},
                         schema=schema)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd", row_group_size=max(len(table), 1))
        return bytes(sink.getvalue().to_pybytes())

    def decode(self, data: bytes) -> dict[str, list[Any]]:
        return dict(pq.read_table(pa.BufferReader(data)).to_pydict())
