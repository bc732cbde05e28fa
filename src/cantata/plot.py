"""Pictures of results: a spectrogram with one lane per label underneath."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cantata.types import Segment, Waveform

LANE_COLOURS = {"vocal": "#d62728", "speech": "#d62728", "accompaniment": "#1f77b4",
                "instrumental": "#1f77b4", "silence": "#7f7f7f"}
MAX_FRAMES = 4000  # plot resolution cap: long files are pooled down to this many columns


def plot_lanes(wav: Waveform, segments: Sequence[Segment], path: str | os.PathLike[str], *,
               labels: Sequence[str], title: str = "") -> Path:
    """Write a PNG: log-mel spectrogram on top, a lane per label with its regions below.

    Args:
        wav: the audio (any rate; channels are averaged).
        segments: regions to draw; labels not in ``labels`` are skipped.
        path: the PNG to write (replaced if it exists).
        labels: lane order, top to bottom.
        title: figure title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec_db = _log_mel(wav)
    fig, axes = plt.subplots(1 + len(labels), 1, sharex=True, figsize=(12, 3 + 0.45 * len(labels)),
                             gridspec_kw={"height_ratios": [6] + [1] * len(labels)})
    axes[0].imshow(spec_db, origin="lower", aspect="auto", cmap="magma",
                   extent=(0, wav.duration_s, 0, spec_db.shape[0]),
                   vmin=spec_db.max() - 80, vmax=spec_db.max())
    axes[0].set_ylabel("mel band")
    axes[0].set_title(title, loc="left")
    for ax, label in zip(axes[1:], labels, strict=True):
        for seg in segments:
            if seg.label == label:
                ax.axvspan(seg.start_s, seg.end_s, color=LANE_COLOURS.get(label, "#2ca02c"),
                           alpha=0.35 + 0.55 * seg.confidence, lw=0)
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(0, wav.duration_s)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100, format="png")  # PNG whatever the name (atomic .part names)
    plt.close(fig)
    return path


def _log_mel(wav: Waveform) -> np.ndarray:
    """(n_mels, frames) in dB, frames pooled down to at most MAX_FRAMES."""
    import torch

    from cantata.features import FeatureConfig, FeatureExtractor

    hop = max(1, wav.sample_rate // 100)  # 10 ms
    n_fft = 1 << max(10, math.ceil(math.log2(2 * hop)))
    config = FeatureConfig(kind="logmel", sample_rate=wav.sample_rate, n_fft=n_fft,
                           hop_length=hop, n_mels=80)
    with torch.inference_mode():
        spec = FeatureExtractor(config)(torch.from_numpy(wav.to_mono().samples[0])).numpy()
    pool = max(1, -(-spec.shape[1] // MAX_FRAMES))
    usable = spec.shape[1] // pool * pool
    if pool > 1:
        spec = spec[:, :usable].reshape(spec.shape[0], -1, pool).max(axis=2)
    return spec
