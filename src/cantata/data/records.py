"""Manifest records for training material: one JSON line per example (lhotse-style).

A manifest is a JSONL file; paths inside it are relative to the manifest's folder, so a
folder of material can be moved or shared as a whole.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cantata.errors import ConfigError
from cantata.files import atomic_output
from cantata.types import Segment

MANIFEST_NAME = "manifest.jsonl"


@dataclass(frozen=True)
class Example:
    """One piece of training material: audio, its stems, its labelled regions.

    Attributes:
        id: unique within its manifest.
        audio: the mixture (or the single recording), absolute path or None when only
            stems exist (the mixture is their sum).
        stems: stem name -> path, e.g. ``{"vocals": …, "accompaniment": …}`` or
            ``{"speech": …, "instrumental": …}``.
        regions: labelled regions, e.g. vocal / accompaniment / silence or speech.
        duration_s: length in seconds.
        sample_rate: sample rate of the files.
        group: what validation splits by (singer, speaker, song), never the clip.
        source: the collection, e.g. ``"mir1k"``, ``"synth-song"``, ``"musdb18"``.
        meta: provenance (generator seed, parameters, original file, licence, …).
    """

    id: str
    audio: str | None
    stems: dict[str, str] = field(default_factory=dict)
    regions: tuple[Segment, ...] = ()
    duration_s: float = 0.0
    sample_rate: int = 0
    group: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, *, relative_to: Path | None = None) -> dict[str, Any]:
        def rel(p: str) -> str:
            return os.path.relpath(p, relative_to) if relative_to is not None else p

        return {
            "id": self.id,
            "audio": rel(self.audio) if self.audio else None,
            "stems": {k: rel(v) for k, v in self.stems.items()},
            "regions": [[round(r.start_s, 4), round(r.end_s, 4), r.label] for r in self.regions],
            "duration_s": round(self.duration_s, 4),
            "sample_rate": self.sample_rate,
            "group": self.group,
            "source": self.source,
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, relative_to: Path | None = None) -> Example:
        def absolute(p: str) -> str:
            return str(relative_to / p) if relative_to is not None else p

        try:
            return cls(
                id=str(d["id"]),
                audio=absolute(d["audio"]) if d.get("audio") else None,
                stems={k: absolute(v) for k, v in d.get("stems", {}).items()},
                regions=tuple(Segment(float(s), float(e), str(lab))
                              for s, e, lab in d.get("regions", [])),
                duration_s=float(d.get("duration_s", 0.0)),
                sample_rate=int(d.get("sample_rate", 0)),
                group=str(d.get("group", "")),
                source=str(d.get("source", "")),
                meta=dict(d.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"bad manifest record {d.get('id', '?')!r}: {err}") from err


def write_manifest(path: str | os.PathLike[str], examples: Iterable[Example]) -> Path:
    """Write examples as JSONL, atomically; paths become relative to the file's folder."""
    path = Path(path)
    with atomic_output(path, overwrite=True) as tmp, tmp.open("w", encoding="utf-8") as f:
        for ex in examples:
            f.write(json.dumps(ex.to_dict(relative_to=path.parent), ensure_ascii=False) + "\n")
    return path


def read_manifest(path: str | os.PathLike[str]) -> Iterator[Example]:
    """Read a JSONL manifest written by :func:`write_manifest` (or by hand)."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.exists():
        raise ConfigError(f"{path}: no such manifest")
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ConfigError(f"{path}:{n}: not valid JSON ({err.msg})") from err
            yield Example.from_dict(record, relative_to=path.parent)
