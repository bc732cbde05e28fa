"""Whether an Ogg file (Vorbis, Opus, FLAC in Ogg) ends where its stream does.

An Ogg file declares no length: a decoder estimates it from the last page it finds, so a
file cut short (an interrupted copy or download) decodes to a shorter, plausible length.
The cut shows in the pages instead: a finished stream's last page carries the
end-of-stream flag and ends exactly at the end of the file; a cut file ends inside a page,
or on a page that is not its stream's last.
"""

from __future__ import annotations

from pathlib import Path

CAPTURE = b"OggS"
HEADER = 27  # capture pattern, version, flags, granule, serial, sequence, CRC, segments
EOS = 0x04
#: the longest page: its header, 255 lacing values and 255 segments of 255 bytes
MAX_PAGE = HEADER + 255 + 255 * 255


def is_cut(path: Path) -> bool | None:
    """Whether the Ogg file at ``path`` breaks off before its stream's end; None when it
    is not an Ogg file."""
    with path.open("rb") as f:
        if f.read(4) != CAPTURE:
            return None
        size = f.seek(0, 2)
        start = max(0, size - MAX_PAGE)
        f.seek(start)
        tail = f.read()
    last = _last_page(tail)
    return last is None or not tail[last + 5] & EOS


def _last_page(tail: bytes) -> int | None:
    """The offset in ``tail`` (a file's last bytes) of the page that ends exactly where the
    file does, or None (the file ends inside a page). A capture pattern inside a packet's
    data does not end there, so the search goes on backwards past it."""
    at = tail.rfind(CAPTURE)
    while at >= 0:
        if at + HEADER <= len(tail) and tail[at + 4] == 0:  # stream structure version 0
            n_segments = tail[at + 26]
            lacing = tail[at + HEADER:at + HEADER + n_segments]
            if len(lacing) == n_segments and at + HEADER + n_segments + sum(lacing) == len(tail):
                return at
        at = tail.rfind(CAPTURE, 0, at)
    return None
