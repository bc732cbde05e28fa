"""Exporting the catalog: JSON Lines (one track per line) and Parquet (one row per track).

JSON Lines gives each result's embeddings by shape only; Parquet also holds the vectors
(column ``embeddings``: per result, its starts and its (n, dim) vectors)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cantata.catalog.db import Catalog
from cantata.errors import CantataError
from cantata.files import atomic_output

FORMATS = ("jsonl", "parquet")


def export(catalog: Catalog, dest: str | os.PathLike[str], *, format: str | None = None,
           overwrite: bool = False) -> int:
    """Write every track with its results to ``dest``, atomically.

    Args:
        format: ``"jsonl"`` or ``"parquet"``; by default from ``dest``'s suffix.

    Returns:
        the number of tracks written.

    Raises:
        OutputExistsError: ``dest`` exists and ``overwrite`` is false.
        CantataError: unknown format, or Parquet without pyarrow installed.
    """
    dest = Path(dest)
    format = format or dest.suffix.lstrip(".").lower()
    if format not in FORMATS:
        raise CantataError(f"{dest}: export format must be jsonl or parquet, got {format!r} "
                           "(name the file .jsonl or .parquet, or pass --format)")
    with atomic_output(dest, overwrite=overwrite) as tmp, tmp.open("wb") as f:
        return _write_jsonl(catalog, f) if format == "jsonl" else _write_parquet(catalog, f)


def _write_jsonl(catalog: Catalog, f: Any) -> int:
    n = 0
    for track in catalog.iter_tracks():
        f.write((json.dumps(track.to_dict(), ensure_ascii=False) + "\n").encode())
        n += 1
    return n


def parquet_row(track_dict: dict[str, Any]) -> dict[str, Any]:
    """A track's dict flattened for a columnar file: regions and stems as lists of structs,
    each analyzer's other facts as one JSON string column."""
    row = {k: v for k, v in track_dict.items() if k != "results"}
    results = track_dict["results"]
    row["regions"] = [{"analyzer": name, **region} for name, r in results.items()
                      for region in r["regions"]]
    row["stems"] = [{"analyzer": name, "stem": stem, "path": path}
                    for name, r in results.items() for stem, path in r["stems"].items()]
    row["results_json"] = json.dumps({name: {k: v for k, v in r.items()
                                             if k not in ("regions", "stems")}
                                      for name, r in results.items()})
    return row


def _write_parquet(catalog: Catalog, f: Any) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        raise CantataError("Parquet export needs pyarrow: pip install 'cantata[parquet]'") \
            from err
    region = pa.struct([("analyzer", pa.string()), ("start_s", pa.float64()),
                        ("end_s", pa.float64()), ("label", pa.string()),
                        ("confidence", pa.float64())])
    stem = pa.struct([("analyzer", pa.string()), ("stem", pa.string()), ("path", pa.string())])
    embedding = pa.struct([("analyzer", pa.string()), ("model_version", pa.string()),
                           ("segment_s", pa.float64()), ("starts_s", pa.list_(pa.float64())),
                           ("vectors", pa.list_(pa.list_(pa.float32())))])
    schema = pa.schema([
        ("id", pa.int64()), ("path", pa.string()), ("content_hash", pa.string()),
        ("size_bytes", pa.int64()), ("mtime_ns", pa.int64()), ("status", pa.string()),
        ("error", pa.string()), ("duration_s", pa.float64()), ("sample_rate", pa.int64()),
        ("channels", pa.int64()), ("codec", pa.string()), ("container", pa.string()),
        ("loudness_lufs", pa.float64()), ("peak_dbfs", pa.float64()), ("truncated", pa.bool_()),
        ("scan_id", pa.int64()), ("updated_at", pa.string()), ("missing", pa.bool_()),
        ("regions", pa.list_(region)), ("stems", pa.list_(stem)),
        ("results_json", pa.string()), ("embeddings", pa.list_(embedding))])
    n = 0
    with pq.ParquetWriter(f, schema) as writer:
        batch: list[dict[str, Any]] = []
        for track in catalog.iter_tracks():
            row = parquet_row(track.to_dict())
            row["embeddings"] = [
                {"analyzer": name, "model_version": r.embeddings.model_version,
                 "segment_s": r.embeddings.segment_s, "starts_s": r.embeddings.starts_s,
                 "vectors": list(r.embeddings.vectors)}
                for name, r in track.results.items() if r.embeddings is not None]
            batch.append(row)
            if len(batch) == 1000:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n, batch = n + len(batch), []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            n += len(batch)
    return n
