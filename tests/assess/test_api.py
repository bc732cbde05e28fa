"""``Assessor``: the report's JSON shape, truncation, lossy files, grades."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from cantata.assess import Assessor, parse_target
from cantata.errors import CantataError
from cantata.types import Waveform

from .conftest import noise, sine

KEYS = ["file", "duration_s", "bandwidth_hz", "lossy", "upsampled", "loudness", "clipping",
        "dc_offset", "stereo", "silence", "truncated", "duplicates", "defects", "grade",
        "reasons"]


def test_report_has_the_issue_shape_and_a_clean_grade():
    x = noise(3.0, level=0.02)
    x[:, 4410:4420] = 0.3  # a transient: peaks well above the loudness, as music has
    d = Assessor().assess(Waveform(x, 44100)).to_dict("x.wav")
    assert all(k in d for k in KEYS)
    assert set(d["lossy"]) == {"transcoded", "codec", "bitrate_class", "confidence", "evidence"}
    loud = d["loudness"]
    assert {"integrated_lufs", "range_lu", "true_peak_dbtp"} <= set(loud)
    assert set(loud["targets"]) == {"streaming", "ebu_r128"}
    assert set(loud["targets"]["ebu_r128"]) == {"ok", "gain_db"}
    assert {"runs", "seconds"} <= set(d["clipping"])
    assert {"correlation", "mono_loss_db"} <= set(d["stereo"])
    assert set(d["silence"]) == {"head_s", "tail_s"}
    assert d["grade"] == "A" and not d["lossy"]["transcoded"]
    # quiet noise: far below -14 LUFS, so streaming wants gain up
    assert loud["targets"]["streaming"]["gain_db"] > 0
    assert any(r.startswith("for streaming") for r in d["reasons"])


def test_silence_fails_but_a_short_sound_does_not():
    silent = Assessor().assess(Waveform(np.zeros((2, 44100), np.float32), 44100)).to_dict("s")
    assert silent["grade"] == "F" and silent["loudness"]["integrated_lufs"] is None
    click = Assessor().assess(Waveform(noise(0.2), 44100)).to_dict("c")  # under one block
    assert click["loudness"]["integrated_lufs"] is None and click["grade"] != "F"


def test_targets():
    assert parse_target("ebu").lufs == -23 and parse_target("-16").key == "-16_lufs"
    with pytest.raises(CantataError, match="--target"):
        parse_target("loud")
    d = Assessor(target="ebu").assess(Waveform(sine(1000, -23, 3), 48000)).to_dict("s")
    assert d["loudness"]["targets"]["ebu_r128"] == {"ok": True, "gain_db": 0.0}


def test_clipped_and_transcoded_recordings_grade_down():
    clipped = np.clip(sine(100, 0, 3, rate=44100) * 2, -0.7, 0.7)
    d = Assessor().assess(Waveform(clipped, 44100)).to_dict("c")
    assert d["clipping"]["runs"] > 100 and d["grade"] == "D"
    assert any("clipped" in r for r in d["reasons"])
    shelf = Assessor().assess(Waveform(noise(3.0, cutoff_hz=16000), 44100)).to_dict("t")
    assert shelf["lossy"]["transcoded"] and shelf["grade"] == "C"


def test_a_cut_short_file_is_truncated_and_fails(tmp_path):
    path = tmp_path / "cut.wav"
    sf.write(path, noise(2.0).T, 44100, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the header still promises 2 s
    d = Assessor().assess(path).to_dict(str(path))
    assert d["truncated"] and d["grade"] == "F"
    assert d["duration_s"] == pytest.approx(1.0, abs=0.01)


def test_a_cut_flac_is_assessed_as_far_as_it_decodes(tmp_path):
    path = tmp_path / "cut.flac"
    sf.write(path, noise(4.0, level=0.05).T, 44100, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])  # libsndfile loses sync at the cut
    d = Assessor().assess(path).to_dict(str(path))
    assert d["truncated"] and d["grade"] == "F" and 1.0 <= d["duration_s"] < 3.0


def test_padded_24_bit_file(tmp_path):
    path = tmp_path / "p.flac"
    sf.write(path, noise(1.0).T, 44100, subtype="PCM_24")
    d = Assessor().assess(path).to_dict(str(path))
    assert d["padded"] == {"declared_bits": 24, "used_bits": 16} and d["grade"] == "B"


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg command")
def test_an_ffmpeg_mp3_saved_as_flac_is_a_transcode(tmp_path):
    wav, mp3, flac = tmp_path / "a.wav", tmp_path / "a.mp3", tmp_path / "a.flac"
    sf.write(wav, noise(3.0).T, 44100, subtype="PCM_16")
    run = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i"]
    subprocess.run([*run, str(wav), "-c:a", "libmp3lame", "-b:a", "128k", str(mp3)], check=True)
    subprocess.run([*run, str(mp3), "-sample_fmt", "s16", str(flac)], check=True)
    assessor = Assessor()
    assert not assessor.assess(wav).to_dict("a.wav")["lossy"]["transcoded"]
    found = assessor.assess(flac).to_dict("a.flac")
    assert found["lossy"]["transcoded"] and found["bandwidth_hz"] < 18000
    as_is = assessor.assess(mp3).to_dict("a.mp3")  # an MP3 is what it claims
    assert as_is["lossy"] == {"transcoded": False, "codec": "mp3", "bitrate_class": None,
                              "confidence": None, "evidence": None} and as_is["grade"] == "A"
