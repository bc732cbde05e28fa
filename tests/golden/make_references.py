"""Golden references: what each shipped model outputs for one fixed synthetic song.

The song (:func:`song`) is generated from a seed with NumPy and SciPy only: accompaniment,
then a sung melody over it, then speech-like syllables, then near silence. Each shipped
checkpoint runs on it through its public API (:data:`CASES`) and the arrays it returns
are stored in ``data/<case>.npz``; ``test_shipped_models.py`` recomputes them and compares.

Run this only when a model is deliberately re-shipped (its golden test then fails by
design), from the repository root, and commit the rewritten files with the new weights::

    .venv/bin/python tests/golden/make_references.py [CASE ...]   # default: every case
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import torch
from scipy.signal import lfilter

from cantata.types import Waveform

DATA = Path(__file__).resolve().parent / "data"
RATE = 44100
SONG_S = 4.0
#: every this many samples of each separated stem is stored (a prime: no relation to hops)
STEM_STRIDE = 97
#: the separator's stems are also stored as RMS per block of this many seconds
RMS_BLOCK_S = 0.1
#: hop of the embedder's segments (s); the song gives 3 overlapping 3 s segments
EMBED_HOP_S = 0.5
#: the continuer's input: embeddings of a longer song, one per segment, back to back
CONTINUER_SONG_S = 24.0


def _voice(t: np.ndarray, f0: np.ndarray, formants: tuple[float, ...],
           rng: np.random.Generator) -> np.ndarray:
    """A glottal-like harmonic source at ``f0`` (Hz per sample) through formant
    resonators, with a little breath noise; (time,) float64."""
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    source = sum(np.sin(k * phase) / k for k in range(1, 30) if k * f0.max() < RATE / 2)
    source = source + 0.05 * rng.standard_normal(len(t))
    out = np.zeros_like(source)
    for i, freq in enumerate(formants):
        r = np.exp(-np.pi * 80.0 * (1 + i) / RATE)
        a = [1.0, -2 * r * np.cos(2 * np.pi * freq / RATE), r * r]
        out += lfilter([1 - r], a, source) / (1 + i)
    return out / (np.abs(out).max() + 1e-9)


def song(seconds: float = SONG_S, *, seed: int = 0) -> Waveform:
    """The golden input: stereo, 44.1 kHz, float32, peak 0.7.

    Layout (fractions of ``seconds``): 0-0.25 piano-like chords and hi-hat ticks,
    0.25-0.67 a sung melody (vibrato, sung vowel formants) over them, 0.67-0.92 speech-like
    syllables alone, 0.92-1 faint noise (about -60 dBFS).
    """
    return Waveform(_song(seconds, seed).copy(), RATE)


@cache
def _song(seconds: float, seed: int) -> np.ndarray:
    """The samples of :func:`song`, (2, time) float32, computed once per argument."""
    rng = np.random.default_rng(seed)
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    backing = np.zeros(n)
    beat = 0.5
    for k, start in enumerate(np.arange(0, 0.67 * seconds, beat)):
        root = (110.0, 146.8, 130.8, 98.0)[k // 2 % 4]
        env = np.exp(-np.clip(t - start, 0, None) * 4.0) * (t >= start)
        chord = sum(np.sin(2 * np.pi * root * m * t) * 0.3 / m for m in (1, 1.25, 1.5, 2, 3))
        backing += 0.25 * env * chord
        tick = round((start + beat / 2) * RATE)  # an off-beat noise tick of 800 samples
        backing[tick:tick + 800] += 0.05 * rng.standard_normal(800) * np.exp(-np.arange(800) / 150)
    notes = np.array([220.0, 246.9, 261.6, 293.7, 261.6])
    sung = (t >= 0.25 * seconds) & (t < 0.67 * seconds)
    note = notes[(t * 2.4).astype(int) % len(notes)]
    f0_sung = note * (1 + 0.02 * np.sin(2 * np.pi * 5.5 * t))
    voice = np.where(sung, _voice(t, f0_sung, (700.0, 1200.0, 2600.0), rng), 0.0)
    spoken = (t >= 0.67 * seconds) & (t < 0.92 * seconds)
    syllable = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 2
    f0_spoken = 140 - 20 * (t - 0.67 * seconds) + 15 * np.sin(2 * np.pi * 1.3 * t)
    speech = np.where(spoken, syllable * _voice(t, f0_spoken, (500.0, 1500.0, 2500.0), rng),
                      0.0)
    floor = 1e-3 * rng.standard_normal(n)
    left = backing * 1.1 + 0.5 * voice + 0.6 * speech + floor
    right = backing * 0.9 + 0.5 * voice + 0.6 * speech + floor
    stereo = np.stack([left, right])
    return (0.7 * stereo / np.abs(stereo).max()).astype(np.float32)


def detector(name: str) -> Callable[[], dict[str, np.ndarray]]:
    """A case: the calibrated frame probabilities (labels, frames) of a shipped detector."""
    def run() -> dict[str, np.ndarray]:
        from cantata.detect.api import VoiceDetector

        return {"probs": VoiceDetector.from_pretrained(name).frame_probs(song()).probs}
    return run


def separator() -> dict[str, np.ndarray]:
    """Every ``STEM_STRIDE``-th sample of each stem (stems, channels, samples) and the
    stems' RMS per ``RMS_BLOCK_S`` block (stems, channels, blocks)."""
    from cantata.separate.api import Separator

    stems = Separator.from_pretrained("separator").separate(song())
    names = sorted(stems.stems)
    full = np.stack([stems[name].samples for name in names])
    block = round(RMS_BLOCK_S * RATE)
    blocks = full[..., :full.shape[-1] // block * block].reshape(*full.shape[:2], -1, block)
    return {"samples": full[..., ::STEM_STRIDE], "rms": np.sqrt((blocks ** 2).mean(-1)),
            "stems": np.array(names)}


def embedder() -> dict[str, np.ndarray]:
    """Embeddings (segments, dim) of the song's segments every ``EMBED_HOP_S``, and their
    starts (s)."""
    from cantata.embed.api import Embedder

    found = Embedder.from_pretrained("embedder").embed_segments(song(), hop_s=EMBED_HOP_S)
    return {"vectors": found.vectors, "starts_s": np.asarray(found.starts_s)}


def continuer_input() -> np.ndarray:
    """The continuer's fixed input, (steps, dim): the shipped embedder's vectors of a
    longer song's back-to-back segments (stored with the references, so that the
    continuer's golden test does not depend on the embedder)."""
    from cantata.embed.api import Embedder

    return Embedder.from_pretrained("embedder").embed_segments(
        song(CONTINUER_SONG_S, seed=1)).vectors


def continuer(inputs: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The shipped continuer's prediction of each next embedding (steps, dim) for
    ``inputs`` (default: :func:`continuer_input`), loaded as ``cantata continue`` loads it."""
    from cantata.embed.api import Embedder
    from cantata.embed.generate import load_continuer

    inputs = continuer_input() if inputs is None else inputs
    model = load_continuer("continuer", Embedder.from_pretrained("embedder"))
    with torch.inference_mode():
        predicted = model(torch.from_numpy(inputs)[None])[0].numpy()
    return {"inputs": inputs, "predicted": predicted}


def defect_detector() -> dict[str, np.ndarray]:
    """The shipped defect detector on the song with a click, a 50 ms dropout and a DC offset
    over its last second: its calibrated frame probabilities and its events
    (start, end, type index)."""
    from cantata.defects import DefectDetector

    y = song().samples.copy()
    n = y.shape[1]
    y[:, round(0.3 * n)] += 0.6
    y[:, round(0.5 * n): round(0.5 * n) + RATE // 20] = 0.0
    y[:, n - RATE:] += 0.05
    detector = DefectDetector.from_pretrained("defects")
    frames = detector.frame_probs(Waveform(y, RATE))
    events = detector.report_of(frames).events
    return {"probs": frames.probs, "events": np.array(
        [[e.start_s, e.end_s, detector.types.index(e.type)] for e in events],
        np.float64).reshape(-1, 3)}


def tagger() -> dict[str, np.ndarray]:
    """The shipped tagger on the song: each chunk's probabilities, the song's scores and
    its thresholds."""
    from cantata.tag import Tagger

    scores = Tagger.from_pretrained("tagger").tag(song())
    return {"chunk_scores": scores.chunk_scores, "scores": scores.scores,
            "thresholds": scores.thresholds}


def restorer() -> dict[str, np.ndarray]:
    """The shipped restorer (denoising only, its calibrated strength) on the song with
    white noise 20 dB under it: every ``STEM_STRIDE``-th sample of the output."""
    from cantata.restore import AudioRestorer

    y = song().samples
    noise = np.random.default_rng(7).standard_normal(y.shape).astype(np.float32)
    noisy = y + noise * np.sqrt(np.mean(y ** 2)) * 0.1
    out = AudioRestorer.from_pretrained("restorer", declick=False).restore(
        Waveform(noisy, RATE))
    return {"samples": out.samples[..., ::STEM_STRIDE]}


#: case name -> its outputs; one case per shipped checkpoint
CASES: dict[str, Callable[[], dict[str, np.ndarray]]] = {
    "speech-detector": detector("speech"),
    "singing-detector-binary": detector("singing"),
    "singing-detector-multilabel": detector("singing-multilabel"),
    "singing-detector-causal": detector("singing-causal"),
    "separator": separator,
    "embedder": embedder,
    "continuer": continuer,
    "defect-detector": defect_detector,
    "tagger": tagger,
    "restorer": restorer,
}


def main(names: list[str]) -> None:
    import cantata

    print(f"cantata from {Path(cantata.__file__).parent}")
    DATA.mkdir(exist_ok=True)
    for name in names or CASES:
        path = DATA / f"{name}.npz"
        np.savez_compressed(path, **CASES[name]())
        print(f"{path}: {path.stat().st_size / 1000:.1f} kB")


if __name__ == "__main__":
    main(sys.argv[1:])
