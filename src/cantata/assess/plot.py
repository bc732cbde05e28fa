"""``cantata assess --plot``: the spectrum with the detected bandwidth, and the loudness
over time."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def plot_report(report: Any, path: str | os.PathLike[str], *, title: str = "") -> None:
    """Write a PNG of an :class:`~cantata.assess.AssessReport` to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b, loud = report.bandwidth, report.loudness
    fig, (spec, level) = plt.subplots(2, 1, figsize=(10, 6))
    spec.plot(b.freqs_hz / 1000, b.level_db, color="#2f6fdb", lw=1)
    spec.axvline(b.bandwidth_hz / 1000, color="#c2410c", ls="--",
                 label=f"bandwidth {b.bandwidth_hz / 1000:.1f} kHz")
    verdict = ("transcoded: " + f"{b.codec} {b.bitrate_class}" if b.transcoded and
               report.lossy_file is None else "upsampled" if b.upsampled else "")
    spec.set_title(f"{title}  {verdict}".strip(), loc="left")
    spec.set_xlabel("kHz")
    spec.set_ylabel("level (dB, 90th percentile)")
    spec.legend(frameon=False, loc="upper right")
    t = np.arange(len(loud.momentary_lufs)) * 0.1 + 0.4
    level.plot(t, np.maximum(loud.momentary_lufs, -70), color="#5b6b80", lw=0.8,
               label="momentary (400 ms)")
    if np.isfinite(loud.integrated_lufs):
        level.axhline(loud.integrated_lufs, color="#2f6fdb",
                      label=f"integrated {loud.integrated_lufs:.1f} LUFS")
    for t_ in report.targets:
        level.axhline(t_.lufs, color="#c2410c", ls=":", lw=1, label=f"{t_.name} {t_.lufs:g}")
    level.set_xlabel("seconds")
    level.set_ylabel("LUFS")
    level.legend(frameon=False, loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)
