"""Make the damaged demo example: Vibe Ace with clicks, a dropout and a skip, so that
``make demo`` shows the defect detector, the defects facet and a near-duplicate.

Usage:
    python scripts/damaged_example.py [--seed 4] [--out OUT.ogg]

(default OUT: ``examples/kevin-macleod-vibe-ace-20s-damaged.ogg``)

The defects are drawn by the same code that makes the training clips
(:func:`cantata.data.synth.defects.draw_defects`, seeded), of the types ``click``,
``dropout`` and ``discontinuity``, and applied to the decoded example; the result is
encoded as Ogg Vorbis (quality 6) like the other examples. Prints what was injected, in
seconds (the strong labels).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from cantata import audio
from cantata.data.synth.defects import InjectConfig, draw_defects, inject_labelled
from cantata.types import Waveform

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "examples" / "kevin-macleod-vibe-ace-20s.ogg"
TYPES = ("click", "dropout", "discontinuity")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--out", type=Path,
                        default=REPO / "examples" / "kevin-macleod-vibe-ace-20s-damaged.ogg")
    args = parser.parse_args(argv)
    wav = audio.load(SOURCE)
    x, rate = wav.samples, wav.sample_rate
    rng = np.random.default_rng(args.seed)
    defects = []
    for kind in TYPES:  # one of each, drawn apart
        kept = [d for d in draw_defects(rng, x, rate, x.shape[1],
                                        InjectConfig(p_clean=0.0, max_defects=1,
                                                     types=(kind,)))
                if all(d.span[1] < o.span[0] or o.span[1] < d.span[0] for o in defects)]
        defects += kept
    damaged, landed = inject_labelled(x, rate, x.shape[1], defects)
    for d in landed:
        spans = ", ".join(f"{s / rate:.3f}-{e / rate:.3f}" for s, e in d.events)
        print(f"{d.type} ({d.variant}): {spans} s")
    with tempfile.TemporaryDirectory() as tmp:
        flac = Path(tmp) / "damaged.flac"
        audio.save(flac, Waveform(np.clip(damaged, -1, 1), rate), subtype="PCM_24")
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(flac),
                        "-c:a", "libvorbis", "-q:a", "6", str(args.out)], check=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
