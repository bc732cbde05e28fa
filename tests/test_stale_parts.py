"""Temporary ``.part`` files a killed run left are swept by the next run writing there."""

from __future__ import annotations

import os
import time

import soundfile as sf

from cantata.cli import main
from cantata.files import atomic_output
from cantata.testing import noise


def stale(path, *, age_s=3600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a file")
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_only_stale_temporaries_of_the_destination_are_swept(tmp_path):
    dest = tmp_path / "out" / "vocals.wav"
    debris = [stale(dest.with_name(".vocals.wav.k3x_9abc.part")),
              stale(dest.with_name(".vocals.wav.zz00zz00.part"))]
    kept = [stale(dest.with_name(".other.wav.k3x_9abc.part")),  # another file's
            stale(dest.with_name("vocals.wav.part")),           # not cantata's pattern
            stale(dest.with_name(".vocals.wav.mine.part")),
            stale(dest.with_name(".vocals.wav.fresh123.part"), age_s=-60)]  # newer than the run
    with atomic_output(dest) as tmp:
        tmp.write_bytes(b"new")
    assert dest.read_bytes() == b"new"
    assert not any(p.exists() for p in debris) and all(p.exists() for p in kept)


def test_separate_sweeps_what_a_killed_separate_left(tmp_path):
    src = tmp_path / "song.wav"
    wav = noise(duration_s=0.5, sample_rate=16000, seed=1)
    sf.write(str(src), wav.samples.T, 16000)
    out = tmp_path / "out"
    debris = stale(out / "song" / ".vocals.wav.ab12cd34.part")
    assert main(["separate", str(src), "-o", str(out), "--model", "debug", "-q"]) == 0
    assert not debris.exists() and (out / "song" / "vocals.wav").is_file()
    assert sorted(p.name for p in (out / "song").iterdir()) == ["accompaniment.wav", "vocals.wav"]
