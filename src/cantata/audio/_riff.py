"""What a RIFF/WAVE header promises: the length its data chunk declares."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

#: data chunk sizes a writer that could not seek back (a pipe) leaves: "unknown"
UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF})


def declared_duration_s(path: Path) -> float | None:
    """Seconds of audio the data chunk of a RIFF/WAVE file declares (its size over the
    format chunk's byte rate).

    Returns:
        None when the file is not RIFF/WAVE, has no format chunk before its data, or
        declares an unknown size (0 or 0xFFFFFFFF, as written to a pipe).
    """
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:] != b"WAVE":
            return None
        return _data_seconds(f, "<" if head[:4] == b"RIFF" else ">")


def _data_seconds(f: BinaryIO, endian: str) -> float | None:
    """Walk the chunks to the data chunk; its declared size in seconds."""
    byte_rate = 0
    while len(chunk := f.read(8)) == 8:
        kind, (size,) = chunk[:4], struct.unpack(f"{endian}I", chunk[4:])
        if kind == b"data":
            return None if size in UNKNOWN_SIZES or not byte_rate else size / byte_rate
        body = f.read(size + (size & 1))  # chunks are padded to an even size
        if kind == b"fmt " and len(body) >= 12:
            (byte_rate,) = struct.unpack(f"{endian}I", body[8:12])
    return None
