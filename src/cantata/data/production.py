"""A studio production chain for on-the-fly mixes: the sound of produced music.

Produced songs are not karaoke takes over a backing track. Their lead vocal goes through
EQ, compression and de-essing, is doubled, harmonised, placed in the stereo image and sent
to reverb and delay; the mix is then mastered loud (bus compression, limiting to
-14..-7 LUFS) and often shipped as an MP3. :func:`draw_production` draws such a chain
(no audio touched), :func:`produce_vocals` runs the vocal chain and :func:`master` the
mastering chain.

Mastering is a time-varying *gain* computed from the mix and applied to both stems, so the
mastered stems still sum to the mastered mix, as the stems of a real multitrack do. The
codec round trip is applied to the mixture only: the targets stay the clean stems.

The dynamics processors here (compressor, de-esser, limiter) are gain computers written for
this module, and the reverb is :func:`~cantata.data.augment.room_response`; the held-out
produced-style benchmark mixes (``bench/_produced.py``) are made with other code
(pedalboard's plugins), so no model is scored on mixes of the chain it trained on.
All arrays are float32 (channels, samples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pedalboard
from scipy import ndimage, signal

from cantata.audio.loudness import integrated_loudness
from cantata.data.augment import pitch_tempo, power, reverberate, room_response
from cantata.types import Waveform

#: Semitone offsets of a harmony line (thirds, fourths, fifths, sixths, an octave down).
HARMONY_SEMITONES = (3.0, 4.0, 5.0, 7.0, -5.0, -8.0, -12.0)
#: Block of the gain computers, in seconds (their time resolution).
GAIN_BLOCK_S = 0.005


@dataclass(frozen=True)
class VocalChain:
    """The lead vocal's processing (gains in dB, times in seconds, frequencies in Hz).

    ``pan`` is in [-1, 1] (0 = centre); ``double_db`` / ``harmony_db`` / ``reverb_db`` /
    ``delay_db`` are the levels of each layer against the lead (None: no such layer).
    """

    highpass_hz: float
    presence_hz: float
    presence_db: float
    air_db: float
    comp_threshold_db: float
    comp_ratio: float
    deess_db: float
    pan: float
    double_db: float | None
    double_delay_s: float
    double_cents: float
    harmony_db: float | None
    harmony_semitones: float
    reverb_db: float | None
    reverb_rt60_s: float
    reverb_predelay_s: float
    delay_db: float | None
    delay_s: float
    delay_feedback: float
    seed: int


@dataclass(frozen=True)
class Mastering:
    """The mix bus: compression, then a brickwall limiter to a loudness.

    Attributes:
        comp_threshold_db: bus compressor threshold against the mix's RMS level, in dB.
        comp_ratio: bus compressor ratio.
        loudness_lufs: integrated loudness the mix is driven to before limiting.
        ceiling_dbfs: the limiter's ceiling.
        codec_quality: LAME VBR quality of an MP3 round trip of the mixture (0 best,
            9 worst), or None for none.
    """

    comp_threshold_db: float
    comp_ratio: float
    loudness_lufs: float
    ceiling_dbfs: float
    codec_quality: float | None


@dataclass(frozen=True)
class Production:
    """One item's production: the vocal chain and the mastering."""

    vocals: VocalChain
    mastering: Mastering


def draw_production(rng: np.random.Generator, *, p_codec: float = 0.3) -> Production:
    """Draw a production chain (no audio is read)."""
    u = rng.uniform

    def maybe(p: float, low: float, high: float) -> float | None:
        return float(u(low, high)) if rng.random() < p else None

    vocals = VocalChain(
        highpass_hz=float(u(60, 160)),
        presence_hz=float(np.exp(u(np.log(1500), np.log(5000)))),
        presence_db=float(u(-2, 6)), air_db=float(u(0, 6)),
        comp_threshold_db=float(u(-20, -4)), comp_ratio=float(u(1.5, 8)),
        deess_db=float(u(0, 8)), pan=float(u(-0.25, 0.25)),
        double_db=maybe(0.3, -9, -2), double_delay_s=float(u(0.008, 0.035)),
        double_cents=float(u(-15, 15)),
        harmony_db=maybe(0.2, -14, -5),
        harmony_semitones=float(HARMONY_SEMITONES[int(rng.integers(len(HARMONY_SEMITONES)))]),
        reverb_db=maybe(0.7, -20, -6), reverb_rt60_s=float(u(0.6, 3.0)),
        reverb_predelay_s=float(u(0.0, 0.06)),
        delay_db=maybe(0.3, -22, -9), delay_s=float(u(0.12, 0.5)),
        delay_feedback=float(u(0.15, 0.5)), seed=int(rng.integers(2**31)))
    mastering = Mastering(
        comp_threshold_db=float(u(-12, -2)), comp_ratio=float(u(1.2, 4)),
        loudness_lufs=float(u(-14, -7)), ceiling_dbfs=float(u(-1.0, -0.1)),
        codec_quality=float(u(2, 7)) if rng.random() < p_codec else None)
    return Production(vocals=vocals, mastering=mastering)


def produce_vocals(x: np.ndarray, sample_rate: int, chain: VocalChain,
                   n_channels: int) -> np.ndarray:
    """The lead vocal through ``chain``: (C, T) -> (n_channels, T), layers and sends
    included (they belong to a produced song's vocal stem)."""
    rng = np.random.default_rng(chain.seed)
    dry = x.mean(axis=0)
    nyquist = sample_rate / 2
    board = pedalboard.Pedalboard([
        pedalboard.HighpassFilter(cutoff_frequency_hz=chain.highpass_hz),
        pedalboard.PeakFilter(cutoff_frequency_hz=min(chain.presence_hz, 0.8 * nyquist),
                              gain_db=chain.presence_db, q=0.9),
        pedalboard.HighShelfFilter(cutoff_frequency_hz=min(9000.0, 0.8 * nyquist),
                                   gain_db=chain.air_db, q=0.707)])
    lead = board(dry[None].astype(np.float32), sample_rate)[0]
    lead = lead * compressor_gain(lead[None], sample_rate, chain.comp_threshold_db,
                                  chain.comp_ratio, attack_s=0.005, release_s=0.08)
    lead = deess(lead, sample_rate, chain.deess_db)
    out = pan(lead, chain.pan, n_channels)
    if chain.double_db is not None:
        double = _detune(_delay(lead, round(chain.double_delay_s * sample_rate)),
                         chain.double_cents)
        out += pan(double * 10 ** (chain.double_db / 20), -0.7 * np.sign(chain.pan or 1.0),
                   n_channels)
    if chain.harmony_db is not None:
        harmony = pitch_tempo(lead[None], sample_rate, semitones=chain.harmony_semitones,
                              tempo=1.0)[0]
        harmony = np.pad(harmony, (0, max(0, len(lead) - len(harmony))))[: len(lead)]
        out += pan(harmony * 10 ** (chain.harmony_db / 20), float(rng.uniform(-0.6, 0.6)),
                   n_channels)
    if chain.reverb_db is not None:
        response = room_response(rng, sample_rate, n_channels, rt60_s=chain.reverb_rt60_s,
                                 drr_db=0.0, predelay_s=chain.reverb_predelay_s,
                                 damping_hz=float(rng.uniform(2500, 9000)))
        response[:, 0] = 0.0  # the send only: the dry lead is already in the mix
        wet = reverberate(np.repeat(lead[None], n_channels, axis=0), response)
        out += wet * (10 ** (chain.reverb_db / 20) * _rms(lead) / max(_rms(wet), 1e-9))
    if chain.delay_db is not None:
        out += echoes(lead, sample_rate, chain.delay_s, chain.delay_feedback,
                      n_channels) * 10 ** (chain.delay_db / 20)
    return np.ascontiguousarray(out, dtype=np.float32)


def master(vocals: np.ndarray, backing: np.ndarray, sample_rate: int,
           mastering: Mastering) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Master the mix of two stems: (mixture, vocals, backing), each (C, T) float32.

    The stems get the gain the mix bus computes (so ``vocals + backing`` is the mix before
    the codec); the mixture alone goes through the codec when one is drawn.
    """
    mix = vocals + backing
    gain = compressor_gain(mix, sample_rate, _rms_db(mix) + mastering.comp_threshold_db,
                           mastering.comp_ratio, attack_s=0.02, release_s=0.25)
    loudness = integrated_loudness(Waveform(mix * gain, sample_rate))
    if math.isfinite(loudness):
        gain = gain * 10 ** ((mastering.loudness_lufs - loudness) / 20)
    gain = gain * limiter_gain(mix * gain, sample_rate, mastering.ceiling_dbfs)
    vocals = np.ascontiguousarray(vocals * gain, dtype=np.float32)
    backing = np.ascontiguousarray(backing * gain, dtype=np.float32)
    mixture = vocals + backing
    if mastering.codec_quality is not None:
        mixture = mp3_round_trip(mixture, sample_rate, mastering.codec_quality)
    return mixture, vocals, backing


def compressor_gain(x: np.ndarray, sample_rate: int, threshold_db: float, ratio: float, *,
                    attack_s: float, release_s: float) -> np.ndarray:
    """Per-sample gain of a feed-forward RMS compressor with make-up to the input's level.

    The level is measured in blocks of :data:`GAIN_BLOCK_S`; the gain reduction above
    ``threshold_db`` (dBFS) is ``(1 - 1/ratio)`` of the excess, smoothed with one-pole
    attack and release, then interpolated to the samples. x (C, T) -> (T,).
    """
    block = max(1, round(GAIN_BLOCK_S * sample_rate))
    level_db = _block_level_db(x, block)
    reduction = np.maximum(level_db - threshold_db, 0.0) * (1 - 1 / ratio)
    smoothed = _attack_release(reduction, block / sample_rate, attack_s, release_s)
    active = level_db > -80
    makeup = float(np.mean(smoothed[active])) if active.any() else 0.0
    return _to_samples(10 ** ((makeup - smoothed) / 20), block, x.shape[1])


def limiter_gain(x: np.ndarray, sample_rate: int, ceiling_dbfs: float, *,
                 lookahead_s: float = 0.005) -> np.ndarray:
    """Gain of a look-ahead brickwall limiter: ``|x| * gain`` never exceeds the ceiling.

    The raw gain ``min(1, ceiling / |x|)`` is min-filtered and then averaged over the same
    window, so the gain is smooth and still at most the raw gain at every sample.
    x (C, T) -> (T,).
    """
    ceiling = 10 ** (ceiling_dbfs / 20)
    peak = np.max(np.abs(x), axis=0)
    raw = np.minimum(1.0, ceiling / np.maximum(peak, 1e-9))
    width = 2 * max(1, round(lookahead_s * sample_rate)) + 1
    held = ndimage.minimum_filter1d(raw, width, mode="nearest")
    smooth = ndimage.uniform_filter1d(held, width, mode="nearest")
    return np.minimum(smooth, raw)


def deess(x: np.ndarray, sample_rate: int, depth_db: float) -> np.ndarray:
    """Compress the sibilance band (above 5 kHz) by up to ``depth_db`` where it is loud
    against the whole signal. (T,) -> (T,)."""
    cutoff = 5000.0
    if depth_db <= 0 or cutoff >= 0.45 * sample_rate:
        return x
    sos = signal.butter(2, cutoff, "highpass", fs=sample_rate, output="sos")
    high = signal.sosfilt(sos, x)
    block = max(1, round(GAIN_BLOCK_S * sample_rate))
    excess = _block_level_db(high[None], block) - _block_level_db(x[None], block) + 12.0
    reduction = np.clip(excess, 0.0, depth_db)
    gain = _to_samples(10 ** (-_attack_release(reduction, block / sample_rate, 0.002, 0.05)
                              / 20), block, len(x))
    return (x + high * (gain - 1)).astype(np.float32)


def echoes(x: np.ndarray, sample_rate: int, delay_s: float, feedback: float,
           n_channels: int, *, repeats: int = 4) -> np.ndarray:
    """A feedback delay send (ping-pong in stereo), each repeat darker. (T,) -> (C, T)."""
    out = np.zeros((n_channels, len(x)), np.float32)
    step = max(1, round(delay_s * sample_rate))
    sos = signal.butter(1, min(4000.0, 0.4 * sample_rate), "lowpass", fs=sample_rate,
                        output="sos")
    tap = x
    for k in range(1, repeats + 1):
        if k * step >= len(x):
            break
        tap = signal.sosfilt(sos, tap) * (feedback if k > 1 else 1.0)
        side = (-0.8 if k % 2 else 0.8) if n_channels == 2 else 0.0
        out += pan(_delay(tap, k * step), side, n_channels)
    return out


def pan(x: np.ndarray, position: float, n_channels: int) -> np.ndarray:
    """Constant-power pan of a mono signal to ``n_channels`` (mono: unchanged).
    (T,) -> (C, T)."""
    if n_channels == 1:
        return x[None].astype(np.float32)
    angle = (np.clip(position, -1, 1) + 1) * np.pi / 4
    return np.stack([x * np.cos(angle), x * np.sin(angle)]).astype(np.float32) * np.sqrt(2)


def mp3_round_trip(x: np.ndarray, sample_rate: int, quality: float) -> np.ndarray:
    """``x`` through an MP3 encoder and decoder (LAME VBR ``quality``), same shape."""
    coded = pedalboard.MP3Compressor(vbr_quality=quality)(np.ascontiguousarray(x), sample_rate)
    return np.ascontiguousarray(coded[:, : x.shape[1]], dtype=np.float32)


def _delay(x: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([np.zeros(n, x.dtype), x[: len(x) - n]]) if n > 0 else x


def _detune(x: np.ndarray, cents: float) -> np.ndarray:
    """Play ``x`` ``cents`` sharper by resampling (a double's slight pitch and time drift)."""
    ratio = 2 ** (cents / 1200)
    positions = np.arange(len(x)) * ratio
    return np.interp(positions, np.arange(len(x)), x, right=0.0).astype(np.float32)


def _rms(x: np.ndarray) -> float:
    return math.sqrt(power(x))


def _rms_db(x: np.ndarray) -> float:
    return 20 * math.log10(max(_rms(x), 1e-9))


def _block_level_db(x: np.ndarray, block: int) -> np.ndarray:
    """RMS level in dBFS of consecutive blocks over all channels. (C, T) -> (ceil(T/block),)."""
    n = math.ceil(x.shape[1] / block)
    padded = np.pad(np.square(x, dtype=np.float64), ((0, 0), (0, n * block - x.shape[1])))
    power = padded.reshape(x.shape[0], n, block).mean(axis=(0, 2))
    return 10 * np.log10(np.maximum(power, 1e-12))


def _attack_release(reduction: np.ndarray, step_s: float, attack_s: float,
                    release_s: float) -> np.ndarray:
    """One-pole smoothing that rises with ``attack_s`` and falls with ``release_s``."""
    rise, fall = (math.exp(-step_s / max(t, 1e-6)) for t in (attack_s, release_s))
    out = np.empty_like(reduction)
    state = 0.0
    for i, target in enumerate(reduction.tolist()):
        coef = rise if target > state else fall
        state = coef * state + (1 - coef) * target
        out[i] = state
    return out


def _to_samples(block_values: np.ndarray, block: int, n_samples: int) -> np.ndarray:
    """Block values (at block centres) interpolated to every sample. -> (n_samples,)."""
    centres = (np.arange(len(block_values)) + 0.5) * block
    return np.interp(np.arange(n_samples), centres, block_values).astype(np.float32)
