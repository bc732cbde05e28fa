"""read_stem / has_stem across layouts, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from cantata.data.records import Example
from cantata.data.sources import has_stem, read_stem
from cantata.errors import ConfigError
from cantata.testing import sine

RATE = 8000


def test_crop_and_resample_of_a_channel_split_stem(tmp_path):
    x = np.stack([sine(200, sample_rate=RATE).samples[0], sine(600, sample_rate=RATE).samples[0]])
    sf.write(tmp_path / "clip.wav", x.T, RATE, subtype="FLOAT")
    example = Example(id="c", audio=str(tmp_path / "clip.wav"),
                      meta={"channel_layout": "R=vocals,L=accompaniment"})
    vocals = read_stem(example, "vocals", offset_s=0.25, duration_s=0.5)
    np.testing.assert_allclose(vocals.samples[0], x[1, RATE // 4: 3 * RATE // 4], atol=1e-6)
    assert read_stem(example, "accompaniment", sample_rate=16000).n_samples == 16000


def test_has_stem(tmp_path):
    sums = Example(id="s", audio=None, stems={"drums": "d.wav", "bass": "b.wav"},
                   meta={"stem_sums": {"accompaniment": ["drums", "bass"],
                                       "vocals": ["drums", "lead"]}})
    assert has_stem(sums, "accompaniment") and not has_stem(sums, "vocals")
    assert not has_stem(Example(id="plain", audio="x.wav"), "accompaniment")
    free = Example(id="f", audio="x.wav", meta={"vocal_free": True})
    assert has_stem(free, "vocals") and has_stem(free, "accompaniment")


@pytest.mark.parametrize("meta, match", [
    ({}, "no 'vocals' stem"),
    ({"channel_layout": "left=vocals"}, "bad channel_layout"),
])
def test_errors(tmp_path, meta, match):
    sf.write(tmp_path / "mono.wav", sine(200, duration_s=0.1, sample_rate=RATE).samples[0], RATE)
    example = Example(id="e", audio=str(tmp_path / "mono.wav"), meta=meta)
    with pytest.raises(ConfigError, match=match):
        read_stem(example, "vocals")


def test_missing_channel(tmp_path):
    sf.write(tmp_path / "mono.wav", sine(200, duration_s=0.1, sample_rate=RATE).samples[0], RATE)
    example = Example(id="e", audio=str(tmp_path / "mono.wav"),
                      meta={"channel_layout": "L=accompaniment,R=vocals"})
    with pytest.raises(ConfigError, match="1 channel"):
        read_stem(example, "vocals")
