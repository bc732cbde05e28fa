"""How fine must a separator's mask be? The oracle magnitude IRM, averaged over blocks.

Usage:
    python bench/mask_resolution.py [--clips 20] [--record docs/separation.md]

On held-out MIR-1K singers (0 dB mixes, 16 kHz, the separator's STFT: n_fft 1024, hop 256),
the ideal ratio mask |V| / (|V| + |A|) is averaged over blocks of bins x frames and spread
back, then scored like ``separation_eval.py`` (BSS Eval v4 medians, SI-SDR). A net whose
mask is constant per block can do no better than its row: the question is how much a
coarse output (the separator's first level folds 4 bins x 2 frames) costs at best.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from _report import machine, markers, record
from cantata.features import istft, stft
from separation_eval import COLUMNS, mir1k_items, score_item

MARK_BEGIN, MARK_END = markers("mask_resolution")
BLOCKS = ((1, 1), (2, 1), (4, 1), (4, 2), (8, 2))
N_FFT, HOP = 1024, 256


def blocky(mask: torch.Tensor, block: tuple[int, int]) -> torch.Tensor:
    """``mask`` (C, F, T) averaged over blocks of (bins, frames), spread back; same shape."""
    freq, frames = mask.shape[-2:]
    padded = F.pad(mask[None], (0, -frames % block[1], 0, -freq % block[0]), mode="replicate")
    coarse = F.avg_pool2d(padded, block)
    return F.interpolate(coarse, scale_factor=block, mode="nearest")[0, :, :freq, :frames]


def report(mir1k: str, clips: int) -> str:
    items = mir1k_items(mir1k, clips)
    rows = {block: [] for block in BLOCKS}
    for item in items:
        mix, vocals = (torch.from_numpy(np.ascontiguousarray(x)) for x in (item.mix, item.vocals))
        spec, v_spec, a_spec = (stft(x, n_fft=N_FFT, hop_length=HOP)
                                for x in (mix, vocals, mix - vocals))  # (C, F, T)
        irm = v_spec.abs() / (v_spec.abs() + a_spec.abs() + 1e-9)
        for block in BLOCKS:
            est = istft(spec * blocky(irm, block), hop_length=HOP, length=mix.shape[-1]).numpy()
            rows[block].append(score_item(item, {"vocals": est,
                                                 "accompaniment": item.mix - est}))
    lines = []
    for block, scores in rows.items():
        med = np.nanmedian(np.array(scores), axis=0)
        lines.append(f"| {block[0]} bin{'s' * (block[0] > 1)} x {block[1]} "
                     f"frame{'s' * (block[1] > 1)} | **{med[0]:.1f}** | "
                     + " | ".join(f"{v:.1f}" for v in med[1:]) + " |")
    return "\n".join([
        MARK_BEGIN,
        f"### Oracle IRM by mask resolution, dB ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/mask_resolution.py --clips {clips}`: {len(items)} clips of the held-out "
        "MIR-1K singers, 0 dB mixes; the magnitude IRM averaged over blocks of bins x frames "
        "(STFT 1024 / 256 at 16 kHz).",
        "",
        "| mask constant over | " + " | ".join(COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
        *lines,
        MARK_END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mir1k", default=str(Path(__file__).parents[2] / "shared" / "data" /
                                                "mir1k"))
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    section = report(args.mir1k, args.clips)
    print(section)
    if args.record:
        record(args.record, "mask_resolution", section)


if __name__ == "__main__":
    main()
