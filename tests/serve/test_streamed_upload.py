"""An upload of a FLAC streamed through a pipe (no length in its header) is decoded with its
true length, not refused as 576460752303424 s long (issue 35.5)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from cantata.serve import uploads


def test_a_streamed_flac_upload_has_its_true_length(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    path = tmp_path / "p.flac"
    with path.open("wb") as out:  # ffmpeg -f lavfi -i sine=d=1 -f flac - > p.flac
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=d=1",
                        "-f", "flac", "-"], stdout=out, check=True)
    wav = uploads.decode(path, "p.flac", max_duration_s=600)
    assert wav.n_samples == 44100
