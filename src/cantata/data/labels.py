"""Frame labels from clean stems: energy with hysteresis, regions <-> frame matrices.

The labels of synthetic mixes, and of real material that comes as stems (MIR-1K,
MUSDB18), are derived from the clean stems: a frame is active when the stem's level
rises above an "on" threshold and stays active until it falls below a lower "off"
threshold. Short gaps (a stop consonant, a breath inside a phrase) are bridged and
short blips dropped, so regions look like a human annotator's phrases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cantata.regions import clean_runs, frames_to_segments, hysteresis
from cantata.types import Segment, Waveform

SONG_LABELS = ("vocal", "accompaniment", "silence")

#: the defect types of ``cantata defects``, in the order of the defect detector's outputs
DEFECT_TYPES = ("click", "dropout", "clipping", "codec", "noise_burst", "discontinuity",
                "dc_offset")


@dataclass(frozen=True)
class ActivityConfig:
    """How a stem's level becomes activity.

    Attributes:
        hop_s: frame hop of the level track.
        win_s: RMS window length.
        on_db: a frame turns active above (reference level + on_db).
        off_db: an active frame turns inactive below (reference level + off_db).
        floor_dbfs: frames below this absolute level are never active.
        reference_percentile: the stem's reference level is this percentile of its
            frame levels (a robust "loud" level).
        min_gap_s: inactive stretches shorter than this inside activity are bridged.
        min_region_s: active stretches shorter than this are dropped.
    """

    hop_s: float = 0.01
    win_s: float = 0.04
    on_db: float = -25.0
    off_db: float = -35.0
    floor_dbfs: float = -60.0
    reference_percentile: float = 95.0
    min_gap_s: float = 0.25
    min_region_s: float = 0.1


def level_dbfs(wav: Waveform, *, hop_s: float, win_s: float) -> np.ndarray:
    """RMS level of the channel mean per frame, in dBFS.

    Frame i is centred on ``i * hop_s``; there are ``ceil(duration / hop)`` frames.

    Shape: (channels, time) -> (frames,).
    """
    x = wav.samples.mean(axis=0).astype(np.float64)
    hop, win = max(1, round(hop_s * wav.sample_rate)), max(1, round(win_s * wav.sample_rate))
    n_frames = -(-len(x) // hop)
    padded = np.pad(x**2, (win // 2, win))
    cumsum = np.concatenate([[0.0], np.cumsum(padded)])
    starts = np.arange(n_frames) * hop
    power = (cumsum[starts + win] - cumsum[starts]) / win
    return 10 * np.log10(np.maximum(power, 1e-12))


def stem_activity(wav: Waveform, config: ActivityConfig = ActivityConfig()) -> np.ndarray:
    """Where a clean stem is active; (frames,) bool at ``config.hop_s``."""
    level = level_dbfs(wav, hop_s=config.hop_s, win_s=config.win_s)
    audible = level[level > config.floor_dbfs]
    if not len(audible):
        return np.zeros(len(level), dtype=bool)
    reference = float(np.percentile(audible, config.reference_percentile))
    on = max(reference + config.on_db, config.floor_dbfs)
    off = max(reference + config.off_db, config.floor_dbfs)
    active = hysteresis(level, on_db=on, off_db=off)
    return clean_runs(active, min_gap_frames=round(config.min_gap_s / config.hop_s),
                      min_region_frames=round(config.min_region_s / config.hop_s))


def song_segments(stems: Mapping[str, Waveform],
                  config: ActivityConfig = ActivityConfig()) -> list[Segment]:
    """Vocal / accompaniment / silence regions of a song from its clean stems.

    ``stems`` holds ``"vocals"`` and ``"accompaniment"`` (same rate). "vocal" and
    "accompaniment" regions may overlap; "silence" is where neither is active.
    """
    vocals, accompaniment = stems["vocals"], stems["accompaniment"]
    duration_s = max(vocals.duration_s, accompaniment.duration_s)
    vocal = stem_activity(vocals, config)
    backing = stem_activity(accompaniment, config)
    n = max(len(vocal), len(backing))
    vocal, backing = np.pad(vocal, (0, n - len(vocal))), np.pad(backing, (0, n - len(backing)))
    silence = clean_runs(~(vocal | backing), min_gap_frames=0,
                         min_region_frames=round(config.min_region_s / config.hop_s))
    segments = []
    for label, active in zip(SONG_LABELS, (vocal, backing, silence), strict=True):
        segments += frames_to_segments(active, hop_s=config.hop_s, label=label,
                                       duration_s=duration_s)
    return sorted(segments, key=lambda s: (s.start_s, s.label))
