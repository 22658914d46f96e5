"""Parquet output for `tasks events export` (the optional extra: pip install '.[parquet]').

Typed columns, the same as the CSV export (analytics.events but the raw metadata); one row group
per batch, so memory stays bounded by a batch.
"""

from types import TracebackType
from typing import Any, BinaryIO

try:
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "Parquet export needs pyarrow, the optional extra: pip install '.[parquet]'"
    ) from exc

SCHEMA = pa.schema(
    [
        ("position", pa.int64()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("user_id", pa.string()),
        ("stream_id", pa.string()),
        ("task_id", pa.string()),
        ("version", pa.int32()),
        ("type", pa.string()),
        ("title", pa.string()),
        ("description", pa.string()),
        ("completed", pa.bool_()),
        ("sets_title", pa.bool_()),
        ("sets_description", pa.bool_()),
        ("request_id", pa.string()),
        ("actor", pa.string()),
        ("schema_version", pa.int32()),
        ("data", pa.string()),
    ]
)


class ParquetSink:
    """Writes batches of rows (asyncpg records in SCHEMA's column order) as row groups."""

    def __init__(self, out: BinaryIO) -> None:
        self._writer = pq.ParquetWriter(out, SCHEMA, compression="zstd")

    def write(self, rows: list[Any]) -> None:
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        arrays = [
            pa.array(values, type=field.type) for values, field in zip(columns, SCHEMA, strict=True)
        ]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=SCHEMA))

    def __enter__(self) -> "ParquetSink":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._writer.close()
