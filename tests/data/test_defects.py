"""Defect injectors: each puts its defect exactly where its label says, reproducibly."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.data.labels import DEFECT_TYPES
from cantata.data.synth import defect_codec
from cantata.data.synth.defects import (
    DRAWERS,
    Defect,
    InjectConfig,
    clip_level,
    draw_defects,
    inject,
    inject_labelled,
)
from cantata.errors import ConfigError

RATE = 16000
N = 4 * RATE


def music(n_channels: int = 2, n: int = N + RATE // 2, seed: int = 0) -> np.ndarray:
    """Tones with a tremolo and a little noise: never silent, never flat."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 1.5 * t))
    x = np.stack([tone + 0.02 * rng.standard_normal(n) for _ in range(n_channels)])
    return x.astype(np.float32)


def changed(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per sample: whether any channel differs."""
    return (x[:, :y.shape[1]] != y).any(axis=0)


def only_inside(x: np.ndarray, y: np.ndarray, events: tuple[tuple[int, int], ...]) -> None:
    inside = np.zeros(y.shape[1], bool)
    for s, e in events:
        inside[s:e] = True
    assert not changed(x, y)[~inside].any()
    for s, e in events:
        assert changed(x, y)[s:e].any()


def one(kind: str, variant: str, events: tuple[tuple[int, int], ...], **params) -> Defect:
    return Defect(kind, variant, events, params)


def test_click_impulse_changes_only_its_samples():
    x = music()
    for width in (1, 7, 32):  # 32 samples = 2 ms at 16 kHz
        d = one("click", "impulse", ((10000, 10000 + width),), width=width, level_db=-6.0,
                seed=3)
        y = inject(x, RATE, N, [d])
        only_inside(x, y, d.events)
        assert changed(x, y)[10000]  # the click starts on the label's first sample


def test_crackle_train_fills_its_span_from_end_to_end():
    x = music()
    d = one("click", "crackle", ((8000, 40000),), density_hz=100.0, level_db=[-40.0, -10.0],
            max_width=32, seed=1)
    y = inject(x, RATE, N, [d])
    only_inside(x, y, d.events)
    diff = changed(x, y)
    assert diff[8000] and diff[39999]
    assert diff[8000:40000].mean() < 0.5  # a train of short clicks, not one block


@pytest.mark.parametrize("events", [((5000, 5080),), ((1000, 1320), (2000, 2320), (9000, 9320))])
def test_dropout_is_digital_silence_in_its_events(events):
    x = music()
    y = inject(x, RATE, N, [one("dropout", "packet_loss", events)])
    only_inside(x, y, events)
    for s, e in events:
        assert not y[:, s:e].any()


@pytest.mark.parametrize("variant", ["hard", "soft"])
def test_clipping_is_flat_at_its_level(variant):
    x = music()
    d = one("clipping", variant, ((16000, 32000),), over_db=6.0)
    level = clip_level(x, d)
    assert level == pytest.approx(np.abs(x[:, 16000:32000]).max() / 10 ** (6 / 20))
    y = inject(x, RATE, N, [d])
    only_inside(x, y, d.events)
    span = y[:, 16000:32000]
    if variant == "hard":
        over = np.abs(x[:, 16000:32000]) >= level
        assert over.mean() > 0.05 and np.all(np.abs(span[over]) == np.float32(level))
    assert np.abs(span).max() <= level * (1 + 1e-6)


def test_a_clipping_event_is_where_the_stretch_clipped():
    """A stretch whose first peaks stay under the level is labelled from its first
    clipped sample; re-injecting the labelled defect gives the same audio."""
    x = music()
    x[:, 16000:24000] *= 0.2  # quiet first half: nothing there reaches the level
    d = Defect("clipping", "hard", ((16000, 32000),), {"over_db": 3.0, "stretch": [16000, 32000]})
    y, (landed,) = inject_labelled(x, RATE, N, [d])
    (start, end), level = landed.events[0], clip_level(x, d)
    assert 24000 <= start and end <= 32000 and landed.params == d.params
    over = np.flatnonzero((np.abs(x[:, 16000:32000]) > level).any(axis=0)) + 16000
    assert (start, end) == (over[0], over[-1] + 1)
    np.testing.assert_array_equal(inject(x, RATE, N, [landed]), y)


@pytest.mark.parametrize(("variant", "params"), [
    ("low_bitrate", {"codec": "mp3", "bit_rate": 16000}),
    ("low_bitrate", {"codec": "aac", "bit_rate": 24000}),
    ("phone", {"codec": "opus"}),
    ("corrupt", {"codec": "mp3", "bit_rate": 128000, "flips": 8, "seed": 2}),
    ("corrupt", {"codec": "aac", "bit_rate": 128000, "flips": 8, "seed": 2}),
])
def test_codec_damage_stays_inside_its_span(variant, params):
    x = music()
    d = one("codec", variant, ((20000, 36000),), **params)
    y = inject(x, RATE, N, [d])
    only_inside(x, y, d.events)
    error = np.abs(y[:, 20000:36000] - x[:, 20000:36000]).mean()
    assert error > 0.01 * np.abs(x).mean()


@pytest.mark.skipif(not defect_codec.gsm_available(), reason="needs ffmpeg with libgsm")
def test_gsm_phone_passage_is_band_limited_mono():
    x = music()
    d = one("codec", "phone", ((20000, 36000),), codec="gsm")
    y = inject(x, RATE, N, [d])
    only_inside(x, y, d.events)
    inner = y[:, 21000:35000]
    assert np.array_equal(inner[0], inner[1])
    power = np.abs(np.fft.rfft(inner[0] * np.hanning(inner.shape[1]))) ** 2
    freqs = np.fft.rfftfreq(inner.shape[1], 1 / RATE)
    assert power[freqs > 4200].sum() < 0.001 * power.sum()


def test_codec_roundtrip_is_aligned():
    """A gentle MP3 round trip matches the input sample for sample (the delay is removed)."""
    x = music(1)
    y = defect_codec.roundtrip(x, RATE, codec="mp3", bit_rate=128000, codec_sr=16000)
    error = y[:, 2000:-2000] - x[:, 2000:-2000]
    assert 10 * np.log10((x[:, 2000:-2000] ** 2).sum() / (error ** 2).sum()) > 15


@pytest.mark.parametrize(("variant", "params"), [
    ("broadband", {"colour": "pink", "snr_db": 0.0, "seed": 4}),
    ("hum", {"f0": 50, "harmonics": 3, "level_db": -20.0, "phase": 0.3}),
])
def test_noise_burst_adds_only_inside_its_span(variant, params):
    x = music()
    d = one("noise_burst", variant, ((24000, 40000),), **params)
    y = inject(x, RATE, N, [d])
    only_inside(x, y, d.events)
    added = (y - x[:, :N])[0, 24000:40000]
    if variant == "hum":
        spectrum = np.abs(np.fft.rfft(added))
        freqs = np.fft.rfftfreq(len(added), 1 / RATE)
        assert freqs[np.argmax(spectrum)] == pytest.approx(50, abs=1)
    else:
        assert np.sqrt(np.mean(added ** 2)) == pytest.approx(
            np.sqrt(np.mean(x[:, 24000:40000] ** 2)), rel=0.01)


def test_repeat_discontinuity_is_a_stuck_block_at_the_label():
    x = music()
    block, repeats, start = 480, 3, 20000
    d = one("discontinuity", "repeat", ((start, start + block * repeats),), block=block,
            repeats=repeats)
    y = inject(x, RATE, N, [d])
    assert np.array_equal(y[:, :start], x[:, :start])
    for k in range(repeats):
        assert np.array_equal(y[:, start + k * block:start + (k + 1) * block],
                              x[:, start - block:start])
    end = start + block * repeats
    assert np.array_equal(y[:, end:], x[:, start:N - block * repeats])  # the music goes on
    jump = np.abs(y[:, start] - y[:, start - 1]).max()
    assert jump > 5 * np.abs(np.diff(x[:, :start], axis=1)).mean()


def test_skip_discontinuity_jumps_at_the_label():
    x = music()
    start, removed = 20000, 1600
    d = one("discontinuity", "skip", ((start, start + 1),), removed=removed)
    y = inject(x, RATE, N, [d])
    assert np.array_equal(y[:, :start], x[:, :start])
    assert np.array_equal(y[:, start:], x[:, start + removed:start + removed + N - start])


def test_two_discontinuities_each_sit_at_their_label_whatever_the_draw_order():
    x = music()
    block, start = 480, 40000
    repeat = one("discontinuity", "repeat", ((start, start + 2 * block),), block=block,
                 repeats=2)
    skip = one("discontinuity", "skip", ((10000, 10001),), removed=800)
    y = inject(x, RATE, N, [repeat, skip])
    assert np.array_equal(y[:, :10000], x[:, :10000])
    assert np.array_equal(y[:, 10000:start], x[:, 10800:start + 800])
    for k in range(2):
        assert np.array_equal(y[:, start + k * block:start + (k + 1) * block],
                              y[:, start - block:start])


def test_dc_offset_is_exact_in_its_span():
    x = music()
    d = one("dc_offset", "section", ((10000, 50000),), offset=0.3)
    y = inject(x, RATE, N, [d])
    only_inside(x, y, d.events)
    assert np.allclose(y[:, 10000:50000] - x[:, 10000:50000], 0.3, atol=1e-6)


def test_draws_are_seeded_reproducible_and_apart_from_applying():
    x = music()
    first = [draw_defects(np.random.default_rng([7, i]), x, RATE, N) for i in range(30)]
    again = [draw_defects(np.random.default_rng([7, i]), x, RATE, N) for i in range(30)]
    other = [draw_defects(np.random.default_rng([8, i]), x, RATE, N) for i in range(30)]
    assert first == again and first != other
    chosen = next(ds for ds in first if ds)
    assert np.array_equal(inject(x, RATE, N, chosen), inject(x, RATE, N, chosen))
    assert Defect.from_dict(chosen[0].to_dict(RATE)) == chosen[0]


def test_draws_respect_counts_ranges_and_room():
    x = music()
    config = InjectConfig(p_clean=0.25, max_defects=3)
    draws = [draw_defects(np.random.default_rng([1, i]), x, RATE, N, config) for i in range(300)]
    assert 0.15 < np.mean([not ds for ds in draws]) < 0.35
    assert max(len(ds) for ds in draws) == 3
    assert {d.type for ds in draws for d in ds} == set(DEFECT_TYPES)
    for ds in draws:
        spans = sorted(d.span for d in ds if d.variant != "whole")
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
        for d in ds:
            assert all(0 <= s < e <= N for s, e in d.events)
            check_ranges(d)


def check_ranges(d: Defect) -> None:
    length = (d.span[1] - d.span[0]) / RATE
    p = d.params
    if d.variant == "impulse":
        assert 1 <= p["width"] <= 0.002 * RATE and -20 <= p["level_db"] <= 0
    elif d.variant == "silence":
        assert 0.005 <= length <= 0.5
    elif d.variant == "packet_loss":
        assert all(0.01 <= (e - s) / RATE <= 0.04 for s, e in d.events)
    elif d.type == "clipping":
        start, end = p["stretch"]
        assert 0.5 <= p["over_db"] <= 12 and 0.2 <= (end - start) / RATE <= 3.0
    elif d.variant == "skip":
        assert 0.005 * RATE <= p["removed"] <= 0.5 * RATE
    elif d.type == "dc_offset":
        assert 0.01 <= abs(p["offset"]) <= 0.3


def test_drawers_cover_every_type_and_config_checks_names():
    assert set(DRAWERS) == set(DEFECT_TYPES)
    with pytest.raises(ConfigError, match="unknown defect type"):
        InjectConfig(types=("click", "crackle"))
    with pytest.raises(ConfigError, match="phone codecs"):
        InjectConfig(phone_codecs=("amr",))
    only = [draw_defects(np.random.default_rng(i), music(), RATE, N,
                         InjectConfig(p_clean=0.0, types=("dropout",))) for i in range(5)]
    assert all(ds and {d.type for d in ds} == {"dropout"} for ds in only)
