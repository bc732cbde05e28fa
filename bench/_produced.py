"""Held-out produced-style material for the benches: made by code that trains no model.

Training mixes get their studio sound from :mod:`cantata.data.production` (its own gain
computers, noise-tail reverbs, LAME MP3). These sets are made differently, so that no model
is scored on the generator it learnt from:

- the vocal chain is pedalboard's plugins (high-pass, peak EQ, ``Compressor``, ``Chorus`` as
  a double, ``Delay`` and Freeverb ``Reverb`` sends), the lead panned near the centre;
- the mix bus is pedalboard's ``Compressor`` and ``Limiter`` driven to -14..-8 LUFS, turned
  into a gain (the ratio of the mastered to the unmastered mix's 10 ms RMS) that both stems
  get, so the stems still sum to the mixture;
- a third of the mixtures go through an AAC round trip at 128 kbit/s (FFmpeg), the stems clean.

The vocals are held-out MIR-1K singers' takes (16 kHz, so nothing above 8 kHz) and the
accompaniment the detection benchmark's held-out Debian soundtracks (44.1 kHz stereo, real
productions no recipe reads). All arrays are float32 (channels, samples) at 44.1 kHz.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pedalboard
import soundfile as sf

from cantata import audio
from cantata.audio.loudness import integrated_loudness
from cantata.data.augment import power as _power
from cantata.data.labels import stem_activity
from cantata.data.sources import load_instrumentals, load_mir1k, read_stems, split_benchmark
from cantata.train.recipes import TEST_SINGERS
from cantata.types import Waveform

RATE = 44100
HOP_S = 0.02  # detection frames


@dataclass(frozen=True)
class Produced:
    """A produced mixture with its stems (or, for detection, its vocal frames)."""

    name: str
    mixture: np.ndarray
    vocals: np.ndarray | None
    accompaniment: np.ndarray | None
    vocal_frames: np.ndarray | None = None  # (frames,) bool at HOP_S, from the dry vocals


def vocal_chain(dry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A lead vocal through pedalboard's plugins, placed near the centre. (T,) -> (2, T)."""
    u = rng.uniform
    board = pedalboard.Pedalboard([
        pedalboard.HighpassFilter(cutoff_frequency_hz=u(70, 140)),
        pedalboard.PeakFilter(cutoff_frequency_hz=u(2000, 4500), gain_db=u(0, 5), q=1.0),
        pedalboard.Compressor(threshold_db=u(-24, -10), ratio=u(2, 6), attack_ms=u(2, 10),
                              release_ms=u(50, 200))])
    lead = board(dry[None].astype(np.float32), RATE)[0]
    angle = (u(-0.15, 0.15) + 1) * np.pi / 4
    out = np.stack([lead * np.cos(angle), lead * np.sin(angle)]) * np.sqrt(2)
    stereo = np.repeat(lead[None], 2, axis=0)
    if rng.random() < 0.5:
        chorus = pedalboard.Chorus(rate_hz=u(0.3, 1.5), depth=u(0.1, 0.3),
                                   centre_delay_ms=u(10, 25), mix=1.0)
        double = chorus(stereo, RATE)
        out += double * np.array([[u(0.2, 0.5)], [u(0.2, 0.5)]])
    if rng.random() < 0.4:
        delay = pedalboard.Delay(delay_seconds=u(0.15, 0.45), feedback=u(0.2, 0.45), mix=1.0)
        out += delay(stereo, RATE) * 10 ** (u(-22, -12) / 20)
    if rng.random() < 0.8:
        reverb = pedalboard.Reverb(room_size=u(0.4, 0.9), damping=u(0.3, 0.7), wet_level=1.0,
                                   dry_level=0.0, width=1.0)
        wet = reverb(stereo, RATE)
        out += wet * (10 ** (u(-16, -6) / 20) * _rms(lead) / max(_rms(wet), 1e-9))
    return out.astype(np.float32)


def master_gain(mix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The gain pedalboard's mix bus applies to ``mix`` (2, T), as (T,): the ratio of the
    mastered to the unmastered 10 ms RMS, interpolated."""
    u = rng.uniform
    loudness = integrated_loudness(Waveform(mix, RATE))
    target = u(-14, -8)
    bus = pedalboard.Pedalboard([
        pedalboard.Compressor(threshold_db=u(-18, -8), ratio=u(1.5, 3), attack_ms=u(10, 30),
                              release_ms=u(100, 300)),
        pedalboard.Gain(gain_db=float(target - loudness) + 3.0),
        pedalboard.Limiter(threshold_db=u(-1.5, -0.3), release_ms=u(50, 150))])
    mastered = bus(mix, RATE)
    block = round(0.01 * RATE)
    n = mix.shape[1] // block
    before = np.sqrt(np.mean(mix[:, : n * block].reshape(2, n, block) ** 2, axis=(0, 2)))
    after = np.sqrt(np.mean(mastered[:, : n * block].reshape(2, n, block) ** 2, axis=(0, 2)))
    ratio = np.where(before > 1e-5, after / np.maximum(before, 1e-9), np.nan)
    fill = np.nanmedian(ratio) if np.isfinite(ratio).any() else 1.0
    ratio = np.where(np.isfinite(ratio), ratio, fill)
    centres = (np.arange(n) + 0.5) * block
    gain = np.interp(np.arange(mix.shape[1]), centres, ratio)
    peak = float(np.max(np.abs(mix * gain)))
    return (gain * min(1.0, 0.99 / max(peak, 1e-9))).astype(np.float32)


def aac_round_trip(x: np.ndarray) -> np.ndarray:
    """``x`` (2, T) through FFmpeg's AAC encoder at 128 kbit/s and back, same shape."""
    with tempfile.TemporaryDirectory(prefix="cantata-aac-") as tmp:
        wav, m4a = Path(tmp) / "in.wav", Path(tmp) / "out.m4a"
        sf.write(wav, x.T, RATE, subtype="FLOAT")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac",
                        "-b:a", "128k", str(m4a)], check=True)
        y = audio.load(m4a, sample_rate=RATE).samples
    y = _align(y, x)
    return y.astype(np.float32)


def produced_mixes(mir1k: str, n: int, *, seed: int = 4410,
                   singers: tuple[str, ...] = TEST_SINGERS) -> list[Produced]:
    """``n`` produced-style clips: held-out MIR-1K vocals through :func:`vocal_chain` over a
    held-out soundtrack excerpt, vocals 0..6 dB over the backing, mastered."""
    rng = np.random.default_rng(seed)
    tracks = split_benchmark(load_instrumentals())[1]
    clips = [ex for ex in load_mir1k(mir1k) if ex.group in singers and ex.duration_s >= 6]
    picks = rng.choice(len(clips), size=min(n, len(clips)), replace=False)
    items = []
    for i, k in enumerate(sorted(picks)):
        ex = clips[k]
        dry = read_stems(ex, sample_rate=RATE)["vocals"].to_mono().samples[0]
        track = tracks[i % len(tracks)]
        backing = _excerpt(track, len(dry), rng)
        vocals = vocal_chain(dry, rng)
        vocals *= np.sqrt(_power(backing) / max(_power(vocals), 1e-12) *
                          10 ** (rng.uniform(0, 6) / 10))
        gain = master_gain(vocals + backing, rng)
        vocals, backing = (vocals * gain).astype(np.float32), (backing * gain).astype(np.float32)
        mixture = vocals + backing
        if rng.random() < 1 / 3:
            mixture = aac_round_trip(mixture)
        items.append(Produced(f"{ex.id}+{Path(track.audio).stem}", mixture, vocals, backing))
    return items


def produced_songs(mir1k: str, n: int, *, seed: int = 4411, song_s: float = 80.0,
                   singers: tuple[str, ...] = TEST_SINGERS) -> list[Produced]:
    """``n`` whole songs for detection: one held-out singer's takes strung into verses
    (two to four takes, 0.3-1.5 s apart) between instrumental intro, breaks and outro of
    4-12 s, over one held-out soundtrack, produced and mastered; vocal frames from the dry
    takes (a reverb tail after a line is not singing)."""
    rng = np.random.default_rng(seed)
    tracks = split_benchmark(load_instrumentals())[1]
    by_singer: dict[str, list] = {}
    for ex in load_mir1k(mir1k):
        if ex.group in singers:
            by_singer.setdefault(ex.group, []).append(ex)
    total = round(song_s * RATE)
    items = []
    for i in range(n):
        singer = singers[i % len(singers)]
        takes = by_singer[singer]
        dry = np.zeros(total, np.float32)
        t = round(rng.uniform(4, 12) * RATE)
        while t < total - 4 * RATE:
            for _ in range(int(rng.integers(2, 5))):
                ex = takes[int(rng.integers(len(takes)))]
                take = read_stems(ex, sample_rate=RATE)["vocals"].to_mono().samples[0]
                take = take[: total - t]
                dry[t: t + len(take)] += take / max(_rms(take), 1e-9) * 0.1
                t += len(take) + round(rng.uniform(0.3, 1.5) * RATE)
                if t >= total:
                    break
            t += round(rng.uniform(4, 12) * RATE)
        track = tracks[(i * 7) % len(tracks)]
        backing = _excerpt(track, total, rng)
        vocals = vocal_chain(dry, rng)
        sung = np.abs(dry) > 0
        vocals *= np.sqrt(_power(backing) * 10 ** (rng.uniform(0, 6) / 10) /
                          max(_power(vocals[:, sung]), 1e-12))
        gain = master_gain(vocals + backing, rng)
        mixture = ((vocals + backing) * gain).astype(np.float32)
        if rng.random() < 1 / 3:
            mixture = aac_round_trip(mixture)
        frames = _frames(stem_activity(Waveform(dry[None], RATE)), total)
        items.append(Produced(f"song{i:02d}-{singer}+{Path(track.audio).stem}", mixture,
                              None, None, frames))
    return items


def vocal_free_produced(n: int, *, seed: int = 4412, excerpt_s: float = 30.0) -> list[Produced]:
    """Excerpts of ``n`` held-out soundtracks through the mix bus (mastered loud): every
    frame called vocal is a false alarm."""
    rng = np.random.default_rng(seed)
    tracks = split_benchmark(load_instrumentals())[1][:n]
    items = []
    for track in tracks:
        backing = _excerpt(track, round(excerpt_s * RATE), rng)
        mixture = (backing * master_gain(backing, rng)).astype(np.float32)
        items.append(Produced(Path(track.audio).stem, mixture, None, None,
                              np.zeros(1 + mixture.shape[1] // round(HOP_S * RATE), bool)))
    return items


def synth_leads(n: int, *, seed: int = 4413, length_s: float = 20.0) -> list[Produced]:
    """Hard negatives: lead lines no voice sang (square, sawtooth, whistle-like sine with
    vibrato, a steady full-scale square wave), alone or over a held-out soundtrack."""
    rng = np.random.default_rng(seed)
    tracks = split_benchmark(load_instrumentals())[1]
    total = round(length_s * RATE)
    items = []
    for i in range(n):
        kind = ("square", "saw", "whistle", "steady-square")[i % 4]
        if kind == "steady-square":
            t = np.arange(total) / RATE
            lead = np.sign(np.sin(2 * np.pi * rng.uniform(150, 600) * t)).astype(np.float32)
        else:
            lead = _melody(kind, total, rng)
        lead = np.repeat(lead[None], 2, axis=0)
        if i % 2:  # over music, a few dB above it
            backing = _excerpt(tracks[(i * 3) % len(tracks)], total, rng)
            lead = lead * np.sqrt(_power(backing) / max(_power(lead), 1e-12) * 2.0)
            mix = lead + backing
            mix = mix * (0.99 / max(float(np.abs(mix).max()), 1e-9))
        else:
            mix = lead * (1.0 if kind == "steady-square" else 0.7)
        items.append(Produced(f"lead{i:02d}-{kind}{'+music' if i % 2 else ''}",
                              mix.astype(np.float32), None, None,
                              np.zeros(1 + total // round(HOP_S * RATE), bool)))
    return items


def _melody(kind: str, total: int, rng: np.random.Generator) -> np.ndarray:
    """A random diatonic line of 0.15-0.8 s notes with gaps, as (T,)."""
    scale = np.array([0, 2, 4, 5, 7, 9, 11, 12])
    root = rng.uniform(48, 72) if kind != "whistle" else rng.uniform(72, 86)
    phase, out, t = 0.0, np.zeros(total, np.float32), 0
    while t < total:
        dur = round(rng.uniform(0.15, 0.8) * RATE)
        midi = root + scale[int(rng.integers(len(scale)))]
        f0 = 440 * 2 ** ((midi - 69) / 12)
        k = np.arange(min(dur, total - t)) / RATE
        vibrato = 1 + (0.006 * np.sin(2 * np.pi * 5.5 * k) if kind == "whistle" else 0)
        ph = phase + 2 * np.pi * np.cumsum(f0 * vibrato) / RATE
        wave = {"square": np.sign(np.sin(ph)), "saw": 2 * ((ph / (2 * np.pi)) % 1) - 1,
                "whistle": np.sin(ph)}[kind]
        env = np.minimum(1, np.minimum(k / 0.01, (len(k) / RATE - k) / 0.03))
        out[t: t + len(k)] = wave * env
        phase = float(ph[-1]) if len(ph) else phase
        t += len(k) + (round(rng.uniform(0, 0.3) * RATE) if rng.random() < 0.3 else 0)
    return out


def _excerpt(track, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    length_s = n_samples / RATE
    offset = rng.uniform(0.1, 0.9) * max(0.0, track.duration_s - length_s)
    x = audio.load(track.audio, sample_rate=RATE, offset_s=offset, duration_s=length_s).samples
    x = np.repeat(x, 2, axis=0) if x.shape[0] == 1 else x[:2]
    x = np.pad(x, ((0, 0), (0, max(0, n_samples - x.shape[1]))))[:, :n_samples]
    return np.ascontiguousarray(x, dtype=np.float32)


def _frames(active: np.ndarray, n_samples: int) -> np.ndarray:
    """A 10 ms activity track at 20 ms detector frames (frame i centred on i * 20 ms)."""
    n = 1 + n_samples // round(HOP_S * RATE)
    return active[np.minimum(np.arange(n) * 2, len(active) - 1)]


def _align(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``y`` shifted by the lag that best matches ``x`` (a codec's priming) and cut to it."""
    probe = min(x.shape[1], RATE * 2)
    a, b = x.mean(axis=0)[:probe], y.mean(axis=0)[: probe + 4096]
    corr = np.correlate(b, a, mode="valid")
    lag = int(np.argmax(corr)) if len(corr) else 0
    y = y[:, lag: lag + x.shape[1]]
    return np.pad(y, ((0, 0), (0, x.shape[1] - y.shape[1])))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(_power(x)))
