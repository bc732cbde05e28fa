"""A cut Ogg file is told from a finished one by its last page."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from cantata import audio
from cantata.audio import _ogg
from cantata.audio.stats import is_truncated


def _ogg_file(tmp_path, seconds=4.0):
    rng = np.random.default_rng(0)
    path = tmp_path / "a.ogg"
    sf.write(path, 0.1 * rng.standard_normal((int(44100 * seconds), 2)), 44100,
             format="OGG", subtype="VORBIS")
    return path


def _cut(path, size):
    cut = path.with_name("cut.ogg")
    cut.write_bytes(path.read_bytes()[:size])
    return cut


def test_a_finished_ogg_file_is_not_cut_and_a_cut_one_is(tmp_path):
    path = _ogg_file(tmp_path)
    assert _ogg.is_cut(path) is False
    assert not is_truncated(audio.info(path))
    data = path.read_bytes()
    cut = _cut(path, int(len(data) * 0.6))  # inside a page
    assert _ogg.is_cut(cut) is True
    info = audio.info(cut)
    assert info.cut and is_truncated(info)


def test_an_ogg_file_cut_on_a_page_boundary_lacks_its_last_page(tmp_path):
    path = _ogg_file(tmp_path)
    data = path.read_bytes()
    boundary = data.rfind(_ogg.CAPTURE)  # the start of the last (end-of-stream) page
    assert data[boundary + 5] & _ogg.EOS
    assert _ogg.is_cut(_cut(path, boundary)) is True


def test_other_files_are_not_ogg(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, np.zeros(1000), 8000)
    assert _ogg.is_cut(path) is None and not audio.info(path).cut


def test_a_cut_ogg_file_is_warned_about_by_name(tmp_path):
    from cantata.audio.stats import measure

    cut = _cut(_ogg_file(tmp_path), 30000)
    warning = measure(cut).truncation_warning()
    assert warning.startswith(f"{cut}: truncated: the stream breaks off after ")
