"""Defect injectors: damage clean music where a label says, exactly.

Each type of :data:`~cantata.data.labels.DEFECT_TYPES` has a *drawer* and an *applier*
(parameters are drawn apart from applying them, EXAMPLES.md P12): :func:`draw_defects`
draws a :class:`Defect` per injection from a seeded RNG (type, variant, the sample spans
it will damage, every parameter, and a seed for its own randomness), and
:func:`inject` applies them. An applier changes samples inside its defect's spans only,
except ``discontinuity``, whose repeat or skip shifts the music after its span (the
music there is intact, just later or earlier); it is applied first, so the other
defects' spans refer to the final timeline. A ``dc_offset`` comes next (it belongs to the
recording, before any damage in transmission), so a dropout inside it is still zero.

Types and variants (ranges as in real damage):

- ``click``: ``impulse`` (one click, 1 sample to 2 ms) or ``crackle`` (a vinyl crackle
  train, 0.3-3 s, 20-300 clicks/s; the span runs from the first click to the last, both
  at the train's top level, so its labelled edges can be heard);
- ``dropout``: ``silence`` (one block of digital silence, 5-500 ms) or ``packet_loss``
  (2-6 lost packets of 10-40 ms, each its own event);
- ``clipping``: ``hard`` or ``soft`` (tanh), 0.5-12 dB over the clip level, over a
  stretch of 0.2-3 s (``params["stretch"]``); the event is the clipped part of it, from
  the first sample over the level to the last;
- ``codec``: ``low_bitrate`` (MP3/AAC at 8-32 kbit/s), ``phone`` (Opus at 6 kbit/s or
  GSM, 8 kHz mono) or ``corrupt`` (bytes flipped in MP3/AAC frames), see
  :mod:`cantata.data.synth.defect_codec`;
- ``noise_burst``: ``broadband`` (white or pink, 10 ms-1 s) or ``hum`` (50/60 Hz and
  harmonics from an onset on);
- ``discontinuity``: ``repeat`` (a 10-150 ms block repeated 1-6 times: the stuck CD) or
  ``skip`` (5-500 ms removed; the event is the sample where the music jumps);
- ``dc_offset``: 0.01-0.3, over the ``whole`` clip or a ``section`` from an onset on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cantata.data.labels import DEFECT_TYPES
from cantata.data.synth import defect_codec
from cantata.errors import ConfigError
from cantata.types import Segment

#: Gap kept between the spans of two defects of one clip.
GUARD_S = 0.05
#: Frame of the "is the music sounding here" test that places the defects.
ACTIVE_HOP_S = 0.05
#: Crossfade inside each end of a codec passage.
CODEC_FADE_S = 0.003
PHONE_CODECS = ("opus", "gsm")


@dataclass(frozen=True)
class Defect:
    """One injection, drawn and not yet applied.

    Attributes:
        type: one of :data:`DEFECT_TYPES`.
        variant: e.g. ``"impulse"``, ``"packet_loss"``, ``"phone"``.
        events: the damaged (start, end) sample spans, end exclusive: the strong labels.
        params: everything the applier needs (levels, codec, ``seed``, ...).
    """

    type: str
    variant: str
    events: tuple[tuple[int, int], ...]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def span(self) -> tuple[int, int]:
        """From the first event's start to the last one's end."""
        return self.events[0][0], self.events[-1][1]

    def segments(self, sample_rate: int) -> list[Segment]:
        """The events as Segments labelled with the type, in seconds."""
        return [Segment(s / sample_rate, e / sample_rate, self.type) for s, e in self.events]

    def to_dict(self, sample_rate: int) -> dict[str, Any]:
        """JSON form: exact sample spans and their times in seconds, and the parameters."""
        return {"type": self.type, "variant": self.variant,
                "events": [{"start": s, "end": e, "start_s": s / sample_rate,
                            "end_s": e / sample_rate} for s, e in self.events],
                "params": self.params}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Defect:
        return cls(d["type"], d["variant"],
                   tuple((int(ev["start"]), int(ev["end"])) for ev in d["events"]),
                   dict(d.get("params", {})))


@dataclass(frozen=True)
class InjectConfig:
    """How many defects of which types.

    Attributes:
        p_clean: share of clips left clean.
        max_defects: a defective clip gets 1..max_defects injections.
        types: the types drawn from (uniformly).
        phone_codecs: ``"opus"`` (6 kbit/s) and/or ``"gsm"`` (needs the ffmpeg command).
    """

    p_clean: float = 0.2
    max_defects: int = 3
    types: tuple[str, ...] = DEFECT_TYPES
    phone_codecs: tuple[str, ...] = PHONE_CODECS

    def __post_init__(self) -> None:
        unknown = sorted(set(self.types) - set(DEFECT_TYPES))
        if unknown or not self.types:
            raise ConfigError(f"unknown defect type(s) {unknown or '(none given)'}; "
                              f"choose from {', '.join(DEFECT_TYPES)}")
        if not 0 <= self.p_clean <= 1 or self.max_defects < 1:
            raise ConfigError("p_clean must be within 0..1 and max_defects >= 1")
        if not self.phone_codecs or set(self.phone_codecs) - set(PHONE_CODECS):
            raise ConfigError(f"phone codecs must be among {', '.join(PHONE_CODECS)}")


@dataclass
class _Room:
    """What the drawers see of the clip: its length, rate, where it sounds, what is taken."""

    n: int
    rate: int
    active: np.ndarray
    spare: int
    taken: list[tuple[int, int]] = field(default_factory=list)


def draw_defects(rng: np.random.Generator, x: np.ndarray, sample_rate: int, n: int,
                 config: InjectConfig = InjectConfig()) -> list[Defect]:
    """The defects of one clip: none (with ``p_clean``) or 1..max_defects, not overlapping.

    Args:
        x: the clean buffer (channels, time), at least ``n`` samples; samples past ``n``
            are spare music a ``skip`` may pull in.
        n: length of the clip.
    """
    if rng.random() < config.p_clean:
        return []
    room = _Room(n, sample_rate, _active(x[:, :n], sample_rate), x.shape[1] - n)
    count = int(rng.integers(1, config.max_defects + 1))
    defects = []
    for kind in rng.choice(config.types, size=count):
        defect = DRAWERS[str(kind)](rng, room, config)
        if defect is not None:
            defects.append(defect)
            if defect.variant != "whole":  # a DC offset over the clip leaves room for others
                room.taken.append(defect.span)
    return defects


def inject(x: np.ndarray, sample_rate: int, n: int, defects: list[Defect]) -> np.ndarray:
    """The clip (channels, n) with ``defects`` applied to the buffer ``x`` (channels, >= n)."""
    return inject_labelled(x, sample_rate, n, defects)[0]


def inject_labelled(x: np.ndarray, sample_rate: int, n: int, defects: list[Defect]
                    ) -> tuple[np.ndarray, list[Defect]]:
    """:func:`inject`, and the defects with their events where the damage landed: a
    clipping event is the clipped samples' span within its stretch (from the first sample
    over the clip level to the last), since a stretch's first peaks may be too low to clip.
    Re-injecting the returned defects gives the same audio."""
    out = np.array(x, dtype=np.float32, copy=True)
    # discontinuities first, earliest first: each shifts only the music after its own event
    order = sorted(defects, key=lambda d: (d.type != "discontinuity", d.type != "dc_offset",
                                           d.span[0]))
    landed = {}
    for defect in order:
        landed[id(defect)] = _clipped(out, defect) if defect.type == "clipping" else defect
        out = APPLIERS[defect.type](out, sample_rate, defect)
    return np.ascontiguousarray(out[:, :n]), [landed[id(d)] for d in defects]


def _active(x: np.ndarray, rate: int) -> np.ndarray:
    """Per frame of ACTIVE_HOP_S: whether the music sounds (within 30 dB of the loudest)."""
    hop = max(1, round(ACTIVE_HOP_S * rate))
    frames = x.mean(axis=0)[: x.shape[1] // hop * hop].reshape(-1, hop)
    rms = np.sqrt((frames ** 2).mean(axis=1)) if len(frames) else np.zeros(0)
    return rms > max(1e-4, 0.03 * float(rms.max(initial=0.0)))


def _place(rng: np.random.Generator, room: _Room, length: int, *, lo: int = 0,
           tries: int = 60) -> int | None:
    """A start for a span of ``length`` in sounding music, clear of the taken spans."""
    guard = round(GUARD_S * room.rate)
    hi = room.n - length
    if hi < lo:
        return None
    hop = max(1, round(ACTIVE_HOP_S * room.rate))
    for attempt in range(tries):
        start = int(rng.integers(lo, hi + 1))
        frame = min(start // hop, len(room.active) - 1)
        if attempt < tries // 2 and len(room.active) and not room.active[frame]:
            continue
        if all(start + length + guard <= s or e + guard <= start for s, e in room.taken):
            return start
    return None


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2 ** 31))


def _samples(seconds: float, rate: int) -> int:
    return max(1, round(seconds * rate))


def _single(kind: str, variant: str, rng: np.random.Generator, room: _Room, length: int,
            params: dict[str, Any], lo: int = 0) -> Defect | None:
    """A defect with one event of ``length`` samples, placed by :func:`_place`."""
    length = min(length, room.n - lo)
    start = _place(rng, room, length, lo=lo) if length > 0 else None
    if start is None:
        return None
    return Defect(kind, variant, ((start, start + length),), params)


# --- click ---------------------------------------------------------------------------------

def _draw_click(rng: np.random.Generator, room: _Room, _: InjectConfig) -> Defect | None:
    rate, max_width = room.rate, max(1, round(0.002 * room.rate))
    if rng.random() < 0.6:
        width = int(rng.integers(1, max_width + 1))
        return _single("click", "impulse", rng, room, width,
                       {"width": width, "level_db": round(float(rng.uniform(-20, 0)), 2),
                        "seed": _seed(rng)})
    length = _samples(rng.uniform(0.3, 3.0), rate)
    params = {"density_hz": round(_log_uniform(rng, 20, 300), 1),
              "level_db": [-40.0, round(float(rng.uniform(-25, -8)), 2)],
              "max_width": max_width, "seed": _seed(rng)}
    return _single("click", "crackle", rng, room, length, params)


def _apply_click(x: np.ndarray, rate: int, d: Defect) -> np.ndarray:
    rng = np.random.default_rng(d.params["seed"])
    start, end = d.span
    peak = max(float(np.abs(x).max(initial=0.0)), 1e-3)
    if d.variant == "impulse":
        _add_pulse(x, start, end - start, peak * 10 ** (d.params["level_db"] / 20), rng)
        return x
    count = max(2, int(rng.poisson(d.params["density_hz"] * (end - start) / rate)))
    widths = rng.integers(1, min(d.params["max_width"], end - start) + 1, size=count)
    starts = np.sort(rng.integers(start, end - widths + 1))
    starts[0], starts[-1] = start, end - widths[-1]
    lo, hi = d.params["level_db"]
    for i, (s, w) in enumerate(zip(starts, widths, strict=True)):
        level_db = rng.uniform(lo, hi)
        # the train's first and last clicks, its labelled edges, are its loudest
        _add_pulse(x, int(s), int(w), peak * 10 ** ((hi if i in (0, count - 1) else level_db)
                                                    / 20), rng)
    return x


def _add_pulse(x: np.ndarray, start: int, width: int, amp: float,
               rng: np.random.Generator) -> None:
    """A click: a decaying noisy impulse of ``width`` samples, peak ``amp``, random sign."""
    shape = rng.standard_normal(width) * np.exp(-3.0 * np.arange(width) / width)
    shape[0] = abs(shape[0]) + 1.0
    shape *= float(rng.choice([-1.0, 1.0])) / np.abs(shape).max()
    x[:, start:start + width] += (amp * shape).astype(np.float32)


# --- dropout -------------------------------------------------------------------------------

def _draw_dropout(rng: np.random.Generator, room: _Room, _: InjectConfig) -> Defect | None:
    rate = room.rate
    if rng.random() < 0.5:
        length = _samples(_log_uniform(rng, 0.005, 0.5), rate)
        return _single("dropout", "silence", rng, room, length, {})
    packet = _samples(rng.uniform(0.01, 0.04), rate)
    lost = int(rng.integers(2, 7))
    gaps = rng.integers(1, 11, size=lost - 1)
    offsets = np.concatenate([[0], np.cumsum((gaps + 1) * packet)])
    single = _single("dropout", "packet_loss", rng, room, int(offsets[-1]) + packet, {})
    if single is None:
        return None
    start = single.span[0]
    events = tuple((start + int(o), start + int(o) + packet) for o in offsets)
    return Defect("dropout", "packet_loss", events, {"packet": packet, "lost": lost})


def _apply_dropout(x: np.ndarray, _: int, d: Defect) -> np.ndarray:
    for start, end in d.events:
        x[:, start:end] = 0.0
    return x


# --- clipping ------------------------------------------------------------------------------

def _draw_clipping(rng: np.random.Generator, room: _Room, _: InjectConfig) -> Defect | None:
    variant = "hard" if rng.random() < 0.6 else "soft"
    length = _samples(rng.uniform(0.2, 3.0), room.rate)
    d = _single("clipping", variant, rng, room, length,
                {"over_db": round(float(rng.uniform(0.5, 12.0)), 2)})
    return None if d is None else replace(d, params={**d.params, "stretch": list(d.span)})


def _stretch(d: Defect) -> tuple[int, int]:
    """The stretch a clipping defect is applied over (its events: where it clipped)."""
    start, end = d.params.get("stretch", d.span)
    return int(start), int(end)


def clip_level(x: np.ndarray, d: Defect) -> float:
    """The level a clipping defect flattens its stretch at: the stretch's peak less
    ``over_db``."""
    start, end = _stretch(d)
    peak = float(np.abs(x[:, start:end]).max(initial=0.0))
    return peak * 10 ** (-d.params["over_db"] / 20)


def _clipped(x: np.ndarray, d: Defect) -> Defect:
    """``d`` with one event: from the first to the last sample of its stretch over the
    clip level in ``x`` (before clipping), any channel."""
    start, end = _stretch(d)
    over = np.flatnonzero((np.abs(x[:, start:end]) > clip_level(x, d)).any(axis=0))
    if not len(over):
        return d
    return replace(d, events=((start + int(over[0]), start + int(over[-1]) + 1),))


def _apply_clipping(x: np.ndarray, _: int, d: Defect) -> np.ndarray:
    start, end = _stretch(d)
    level = clip_level(x, d)
    if level <= 0:
        return x
    span = x[:, start:end]
    if d.variant == "hard":
        x[:, start:end] = np.clip(span, -level, level)
    else:
        x[:, start:end] = level * np.tanh(span / level)
    return x


# --- codec ---------------------------------------------------------------------------------

def _draw_codec(rng: np.random.Generator, room: _Room, config: InjectConfig) -> Defect | None:
    variant = str(rng.choice(["low_bitrate", "phone", "corrupt"]))
    if variant == "corrupt":
        params: dict[str, Any] = {"codec": str(rng.choice(["mp3", "aac"])),
                                  "bit_rate": int(rng.choice([96, 128, 160, 192])) * 1000,
                                  "flips": int(rng.integers(1, 17)), "seed": _seed(rng)}
        length = _samples(rng.uniform(0.05, 1.0), room.rate)
    elif variant == "phone":
        params = {"codec": str(rng.choice(list(config.phone_codecs)))}
        length = _samples(rng.uniform(0.5, 4.0), room.rate)
    else:
        params = {"codec": str(rng.choice(["mp3", "aac"])),
                  "bit_rate": int(rng.choice([8, 12, 16, 24, 32])) * 1000}
        length = _samples(rng.uniform(0.5, 4.0), room.rate)
    return _single("codec", variant, rng, room, length, params)


def _apply_codec(x: np.ndarray, rate: int, d: Defect) -> np.ndarray:
    start, end = d.span
    pad = round(0.25 * rate)
    lo, hi = max(0, start - pad), min(x.shape[1], end + pad)
    decoded = _codec_passage(x[:, lo:hi], rate, d, (start - lo, end - lo))
    fade = min(round(CODEC_FADE_S * rate), (end - start) // 4)
    ramp = np.linspace(0.0, 1.0, fade + 2, dtype=np.float32)[1:-1]
    weight = np.concatenate([ramp, np.ones(end - start - 2 * fade, np.float32), ramp[::-1]])
    damaged = decoded[:, start - lo:end - lo]
    x[:, start:end] = np.where(weight == 1, damaged, x[:, start:end] * (1 - weight)
                               + damaged * weight)
    return x


def _codec_passage(x: np.ndarray, rate: int, d: Defect, span: tuple[int, int]) -> np.ndarray:
    p = d.params
    if d.variant == "corrupt":
        return defect_codec.corrupt_roundtrip(x, rate, codec=p["codec"], bit_rate=p["bit_rate"],
                                              span=span, flips=p["flips"], seed=p["seed"])
    if d.variant == "phone":
        if p["codec"] == "gsm":
            return defect_codec.gsm_roundtrip(x, rate)
        return defect_codec.roundtrip(x, rate, codec="opus", bit_rate=6000, codec_sr=8000,
                                      mono=True)
    codec_sr = defect_codec.codec_rate(p["codec"], rate,
                                       at_most=16000 if p["bit_rate"] < 16000 else 24000)
    return defect_codec.roundtrip(x, rate, codec=p["codec"], bit_rate=p["bit_rate"],
                                  codec_sr=codec_sr)


# --- noise_burst ---------------------------------------------------------------------------

def _draw_noise_burst(rng: np.random.Generator, room: _Room, _: InjectConfig) -> Defect | None:
    if rng.random() < 0.6:
        length = _samples(_log_uniform(rng, 0.01, 1.0), room.rate)
        params = {"colour": str(rng.choice(["white", "pink"])),
                  "snr_db": round(float(rng.uniform(-10.0, 20.0)), 2), "seed": _seed(rng)}
        return _single("noise_burst", "broadband", rng, room, length, params)
    length = _samples(rng.uniform(1.0, 6.0), room.rate)
    params = {"f0": int(rng.choice([50, 60])), "harmonics": int(rng.integers(1, 6)),
              "level_db": round(float(rng.uniform(-45.0, -20.0)), 2),
              "phase": round(float(rng.uniform(0, 2 * math.pi)), 4)}
    return _single("noise_burst", "hum", rng, room, length, params)


def _apply_noise_burst(x: np.ndarray, rate: int, d: Defect) -> np.ndarray:
    start, end = d.span
    n = end - start
    if d.variant == "hum":
        t = np.arange(n) / rate
        p = d.params
        wave = sum(np.sin(2 * np.pi * p["f0"] * k * t + k * p["phase"]) / k
                   for k in range(1, p["harmonics"] + 1))
        peak = max(float(np.abs(x).max(initial=0.0)), 1e-3)
        noise = np.asarray(wave) / np.abs(wave).max() * peak * 10 ** (p["level_db"] / 20)
    else:
        noise = _broadband(np.random.default_rng(d.params["seed"]), n, d.params["colour"])
        music = float(np.sqrt(np.mean(x[:, start:end] ** 2))) or 1e-3
        noise *= music * 10 ** (-d.params["snr_db"] / 20) / float(np.sqrt(np.mean(noise ** 2)))
    ramp = min(max(1, round(0.001 * rate)), n // 2)
    if ramp:
        noise[:ramp] *= np.linspace(0.0, 1.0, ramp + 1)[1:]
    x[:, start:end] += noise.astype(np.float32)
    return x


def _broadband(rng: np.random.Generator, n: int, colour: str) -> np.ndarray:
    """White noise, or pink (1/f power) by shaping its spectrum."""
    white = rng.standard_normal(n)
    if colour == "white" or n < 4:
        return white
    spectrum = np.fft.rfft(white)
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, n)


# --- discontinuity -------------------------------------------------------------------------

def _draw_discontinuity(rng: np.random.Generator, room: _Room, _: InjectConfig) -> Defect | None:
    rate = room.rate
    if rng.random() < 0.5:
        block = _samples(rng.uniform(0.01, 0.15), rate)
        repeats = int(rng.integers(1, 7))
        return _single("discontinuity", "repeat", rng, room, block * repeats,
                       {"block": block, "repeats": repeats}, lo=block)
    most = min(round(0.5 * rate), room.spare)
    if most < _samples(0.005, rate):
        return None
    removed = int(rng.integers(_samples(0.005, rate), most + 1))
    defect = _single("discontinuity", "skip", rng, room, 1, {"removed": removed}, lo=1)
    if defect is not None:
        room.spare -= removed
    return defect


def _apply_discontinuity(x: np.ndarray, _: int, d: Defect) -> np.ndarray:
    start, end = d.span
    if d.variant == "repeat":
        block = d.params["block"]
        loop = np.tile(x[:, start - block:start], (1, d.params["repeats"]))
        return np.concatenate([x[:, :start], loop, x[:, start:x.shape[1] - (end - start)]],
                              axis=1)
    return np.concatenate([x[:, :start], x[:, start + d.params["removed"]:]], axis=1)


# --- dc_offset -----------------------------------------------------------------------------

def _draw_dc_offset(rng: np.random.Generator, room: _Room, _: InjectConfig) -> Defect | None:
    offset = round(float(rng.choice([-1.0, 1.0])) * _log_uniform(rng, 0.01, 0.3), 4)
    if rng.random() < 0.5:
        return Defect("dc_offset", "whole", ((0, room.n),), {"offset": offset})
    length = _samples(rng.uniform(1.0, max(1.0, room.n / room.rate - 0.5)), room.rate)
    return _single("dc_offset", "section", rng, room, length, {"offset": offset})


def _apply_dc_offset(x: np.ndarray, _: int, d: Defect) -> np.ndarray:
    start, end = d.span
    x[:, start:end] += np.float32(d.params["offset"])
    return x


Drawer = Callable[[np.random.Generator, _Room, InjectConfig], Defect | None]
DRAWERS: dict[str, Drawer] = {
    "click": _draw_click, "dropout": _draw_dropout, "clipping": _draw_clipping,
    "codec": _draw_codec, "noise_burst": _draw_noise_burst,
    "discontinuity": _draw_discontinuity, "dc_offset": _draw_dc_offset}
APPLIERS: dict[str, Callable[[np.ndarray, int, Defect], np.ndarray]] = {
    "click": _apply_click, "dropout": _apply_dropout, "clipping": _apply_clipping,
    "codec": _apply_codec, "noise_burst": _apply_noise_burst,
    "discontinuity": _apply_discontinuity, "dc_offset": _apply_dc_offset}
