"""The catalog: tracks, analyzer results and scan runs in one embedded SQLite file.

``Catalog`` is the only way in or out; records are the dataclasses of
:mod:`cantata.catalog.records`. Nothing outside this package writes SQL.
"""

from cantata.catalog.db import (
    Catalog,
    CatalogDamagedError,
    CatalogNotFoundError,
    KnownFile,
    integrity_check,
)
from cantata.catalog.export import export
from cantata.catalog.records import FileStat, Result, ScanRun, Track, TrackFacts
from cantata.catalog.schema import SCHEMA_VERSION, CatalogSchemaError

__all__ = ["SCHEMA_VERSION", "Catalog", "CatalogDamagedError", "CatalogNotFoundError",
           "CatalogSchemaError", "FileStat", "KnownFile", "Result", "ScanRun", "Track",
           "TrackFacts", "export", "integrity_check"]
