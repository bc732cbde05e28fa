"""The classical rules: each finds its injected defect within the collar, none fires on clean
music-like signals (tones with vibrato over noise, a fade-out, a silent intro)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from cantata.defects import DEFECT_TYPES, rules
from cantata.errors import ConfigError
from cantata.testing.signals import music_like
from cantata.types import Waveform

SR = 44100


def music(seconds: float = 6.0, *, channels: int = 1, seed: int = 0, level: float = 0.5,
          noise_db: float = -50.0) -> np.ndarray:
    return music_like(duration_s=seconds, sample_rate=SR, n_channels=channels, peak=level,
                      noise_db=noise_db, seed=seed)


@cache
def clean_cases() -> dict[str, np.ndarray]:
    """Clean material: plain, stereo, a fade-out to digital silence, a silent intro, 16 kHz."""
    plain = music()
    fade = music(seed=1)
    fade[0, -SR * 2:] *= np.linspace(1, 0, SR * 2) ** 3
    fade[0, -SR // 2:] = 0
    intro = music(seed=2)
    intro[0, :SR] = 0
    intro[0, SR:SR + SR // 10] *= np.linspace(0, 1, SR // 10)
    loud = music(seed=3, level=0.98)
    return {"plain": plain, "stereo": music(channels=2, seed=4), "fade-out": fade,
            "silent intro": intro, "loud": loud}


def near(events: list[rules.DefectEvent], kind: str, start: float, collar: float) -> bool:
    return any(e.type == kind and abs(e.start_s - start) <= collar for e in events)


def test_event_shape_and_types():
    event = rules.DefectEvent("click", 1.0, 1.0005, 0.9)
    assert event.to_dict() == {"type": "click", "start": 1.0, "end": 1.0005, "confidence": 0.9}
    assert set(rules.RULES) <= set(DEFECT_TYPES)


@pytest.mark.parametrize("case", list(clean_cases()))
@pytest.mark.parametrize("kind", list(rules.RULES))
def test_no_event_on_clean_music(kind, case):
    x = clean_cases()[case]
    assert rules.RULES[kind](x, SR) == []


def test_hard_and_soft_clipping():
    x = music(level=0.6)
    hard = x.copy()
    hard[0, SR * 2:SR * 3] = np.clip(hard[0, SR * 2:SR * 3] * 2, -0.5, 0.5)  # 7.6 dB over
    events = rules.clipping(hard, SR)
    assert len(events) == 1 and abs(events[0].start_s - 2.0) < 0.1
    assert abs(events[0].end_s - 3.0) < 0.1
    soft = music(level=0.6, noise_db=-120)  # soft clipping of a clean mix: flat tops
    soft[0, SR * 2:SR * 3] = 0.5 * np.tanh(8 * soft[0, SR * 2:SR * 3])  # ~12 dB over
    events = rules.clipping(soft, SR)  # found where the tops are flat, nowhere else
    assert events and all(1.9 <= e.start_s and e.end_s <= 3.1 for e in events)


def test_clipping_at_the_file_peak_in_stereo():
    x = music(channels=2, level=0.5)
    x[1, SR:SR * 2] = np.clip(3 * x[1, SR:SR * 2], -1.0, 1.0)
    events = rules.clipping(Waveform(x, SR))
    assert len(events) == 1 and abs(events[0].start_s - 1.0) < 0.1


def test_dropout_digital_zeros_and_near_silence_in_either_channel():
    x = music(channels=2)
    x[1, int(2.5 * SR):int(2.52 * SR)] = 0  # 20 ms of zeros in the right channel
    x[0, int(4 * SR):int(4.006 * SR)] = 1e-4 * np.random.default_rng(5).standard_normal(
        int(0.006 * SR))  # 6 ms of near-silence (-80 dB)
    events = rules.dropout(Waveform(x, SR))
    assert [e.type for e in events] == ["dropout", "dropout"]
    assert abs(events[0].start_s - 2.5) < 1e-3 and abs(events[0].end_s - 2.52) < 1e-3
    assert abs(events[1].start_s - 4.0) < 1e-3


def test_dropout_too_short_is_not_one():
    x = music()
    x[0, SR * 2:SR * 2 + round(0.003 * SR)] = 0
    assert rules.dropout(x, SR) == []


def test_dc_offset_located_within_collar():
    x = music()
    x[0, int(2.3 * SR):int(4.6 * SR)] += 0.1
    events = rules.dc_offset(x, SR)
    assert len(events) == 1
    assert abs(events[0].start_s - 2.3) < 0.1 and abs(events[0].end_s - 4.6) < 0.1


def test_dc_offset_over_the_whole_file():
    events = rules.dc_offset(music() - 0.05, SR)
    assert [(e.start_s, e.end_s) for e in events] == [(0.0, 6.0)]


@pytest.mark.parametrize("width", [1, 20, 88])  # one sample, 0.5 ms, 2 ms
def test_clicks_found_within_20_ms(width):
    x = music()
    at = [1.2345, 3.5, 5.1]
    pop = np.exp(-np.arange(width) / max(1, width / 4))  # a sharp edge, then a decay
    for k, t in enumerate(at):
        n = round(t * SR)
        x[0, n:n + width] += (0.3 if k % 2 else -0.3) * pop
    events = rules.click(x, SR)
    assert len(events) == 3
    assert all(near(events, "click", t, 0.02) for t in at)


def test_a_hi_hat_is_no_click_but_its_hit_alone_is():
    """A stick's hit followed by 5 ms of noisy decay keeps the residual high after its peak:
    not isolated, no click, even with the onset check off; the hit alone is a click."""
    rng = np.random.default_rng(7)
    at = (0.8, 1.6, 2.4)
    hats, hits = music(3.0, seed=6), music(3.0, seed=6)
    for t in at:
        n, length = round(t * SR), round(0.1 * SR)
        hat = 0.12 * rng.standard_normal(length) * np.exp(-np.arange(length) / (0.005 * SR))
        hat[0] = 0.48
        hats[0, n:n + length] += hat
        hits[0, n] += 0.48
    assert rules.click(hats, SR) == []
    assert rules.click(hats, SR, onset_db=60.0) == []
    events = rules.click(hits, SR)
    assert len(events) == 3 and all(near(events, "click", t, 0.002) for t in at)


def test_a_stereo_click_is_in_one_channel_or_alike_in_both():
    x = music(4.0, channels=2, seed=6)
    x[:, round(1.0 * SR)] += 0.2  # alike in both channels: a click
    x[1, round(2.0 * SR)] += 0.2  # in one channel only: a click
    x[0, round(3.0 * SR)] += 0.2  # much weaker in the other: one sound, panned
    x[1, round(3.0 * SR)] += 0.02
    events = rules.click(Waveform(x, SR))
    assert [round(e.start_s, 3) for e in events] == [1.0, 2.0]


def test_discontinuity_jump_found_and_click_is_not_one():
    x = music()
    n = round(3.0 * SR)
    x[0, n:] = x[0, n - 400:-400]  # a skip back: 400 samples repeated, the stuck CD
    x[0, round(1.5 * SR)] += 0.4  # a click: a jump that is undone at once
    events = rules.discontinuity(x, SR)
    assert any(abs(e.start_s - 3.0) < 0.02 for e in events)
    assert not near(events, "discontinuity", 1.5, 0.02)


@pytest.mark.parametrize("n", [0, 1, 5, 3000])
def test_short_input_is_no_defect(n):
    x = 0.3 * np.random.default_rng(0).standard_normal((2, n)).astype(np.float32)
    assert rules.detect(x, 16000) == []


def test_detect_runs_the_rules_asked_for():
    x = music()
    x[0, SR * 2:SR * 2 + SR // 10] = 0
    assert {e.type for e in rules.detect(x, SR)} == {"dropout"}
    assert rules.detect(x, SR, types=["click"]) == []
    with pytest.raises(ConfigError, match="codec"):
        rules.detect(x, SR, types=["codec"])
    with pytest.raises(ConfigError, match="sample rate"):
        rules.detect(x)


def test_resolve_keeps_one_event_per_defect():
    E = rules.DefectEvent
    events = [E("dropout", 2.0, 2.1), E("click", 1.99, 2.0), E("discontinuity", 2.1, 2.1),
              E("click", 3.0, 3.0), E("discontinuity", 3.0, 3.0),  # a jump: not a click
              E("click", 4.0, 4.8), E("discontinuity", 4.3, 4.3),  # a crackle's pulse
              E("click", 5.0, 5.0),
              E("clipping", 6.0, 7.0), E("click", 6.5, 6.5), E("discontinuity", 6.99, 7.01)]
    assert rules.resolve(events) == [E("dropout", 2.0, 2.1), E("discontinuity", 3.0, 3.0),
                                     E("click", 4.0, 4.8), E("click", 5.0, 5.0),
                                     E("clipping", 6.0, 7.0)]  # a clipped peak's corners go


def test_dc_offset_section_is_one_event():
    x = music()
    x[0, int(2.3 * SR):int(4.6 * SR)] += 0.1  # its edges are steps
    assert [e.type for e in rules.detect(x, SR)] == ["dc_offset"]


def test_block_by_block_finds_what_the_whole_file_gives():
    """Events across block boundaries (a dropout, a DC stretch) are found once, whole."""
    sr = 16000
    t = np.arange(sr * 12) / sr
    rng = np.random.default_rng(3)
    x = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
         + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    x[int(sr * 3.95): int(sr * 4.2)] = 0  # across the boundary at 4 s
    x[sr * 6 + 5] += 0.8  # a click just after one
    x[sr * 9:] += 0.05  # DC over the last two blocks
    whole = rules.detect(Waveform(x[None], sr))
    blocks = (Waveform(x[None, i: i + sr * 2], sr) for i in range(0, len(x), sr * 2))
    streamed = rules.detect_blocks(blocks)
    assert [(e.type, round(e.start_s, 3), round(e.end_s, 3)) for e in streamed] == \
        [(e.type, round(e.start_s, 3), round(e.end_s, 3)) for e in whole]
    assert {e.type for e in whole} == {"dropout", "click", "dc_offset"}


def test_a_notes_attack_is_no_click_but_a_click_on_a_held_note_is():
    sr = 44100
    t = np.arange(sr * 2) / sr
    quiet = 0.02 * np.sin(2 * np.pi * 110 * t)
    y = quiet.copy()
    start = sr  # a plucked note starting with a sharp edge at 1 s, 20 dB over what came before
    tail = t[: len(t) - start]
    y[start:] += 0.5 * np.sin(2 * np.pi * 440 * tail) * np.exp(-3 * tail)
    y[start] += 0.3  # an impulse-like attack
    assert rules.click(y[None].astype(np.float32), sr) == []
    assert rules.click(y[None].astype(np.float32), sr, onset_db=60.0)  # the check is what drops it
    held = 0.3 * np.sin(2 * np.pi * 220 * t)
    held[sr // 2] += 0.3
    (event,) = rules.click(held[None].astype(np.float32), sr)
    assert abs(event.start_s - 0.5) < 0.002
