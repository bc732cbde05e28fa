"""Stems of a loud input do not clip silently (issue 35.6): rescaled by default, or clamped
with a warning naming the input, its peak and how many samples clipped."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from cantata.cli import main
from cantata.separate.api import Separator
from cantata.testing import noise

#: one 16-bit step
LSB = 1 / 32768


@pytest.fixture(scope="module")
def separator():
    return Separator.from_pretrained("debug")


def float_input(path, peak_db):
    """A stereo float WAV of noise peaking at ``peak_db`` dBFS (+6: twice full scale)."""
    wav = noise(duration_s=2.0, sample_rate=16000, n_channels=2, amplitude=0.3, seed=4)
    samples = wav.samples * (10 ** (peak_db / 20) / np.abs(wav.samples).max())
    sf.write(str(path), samples.T, wav.sample_rate, subtype="FLOAT")
    return path


def stems_of(files):
    return {stem: sf.read(str(p), always_2d=True, dtype="float32")[0].T
            for stem, p in files.items()}


def warnings_of(caplog):
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_default_rescales_every_stem_by_one_gain_and_says_so(separator, tmp_path, caplog):
    loud = float_input(tmp_path / "loud.wav", 6.0)
    reference = stems_of(separator.separate_to_files(loud, tmp_path / "f", bits="32f"))
    assert max(np.abs(s).max() for s in reference.values()) > 1.0  # they would clip
    caplog.clear()
    written = separator.separate_to_files(loud, tmp_path / "out")
    got = stems_of(written)
    assert 0.0 < written.rescale_gain < 1.0 and written.clipped_samples == 0
    for stem, samples in got.items():  # one gain for all: relative levels kept exactly
        np.testing.assert_allclose(samples, reference[stem] * written.rescale_gain,
                                   atol=LSB)
        assert np.mean(np.abs(samples) >= 1.0 - LSB) < 1e-3  # not a clipped plateau
    [message] = [m for m in warnings_of(caplog) if str(loud) in m]
    assert "peak +6.0 dBFS" in message and "rescaled" in message
    assert f"{20 * np.log10(written.rescale_gain):.1f} dB" in message


def test_clamp_clips_and_says_how_many(separator, tmp_path, caplog):
    loud = float_input(tmp_path / "loud.wav", 6.0)
    written = separator.separate_to_files(loud, tmp_path / "out", clip_mode="clamp")
    got = stems_of(written)
    clipped = sum(int((np.abs(s) >= 1.0 - LSB).sum()) for s in got.values())
    assert written.rescale_gain == 1.0 and written.clipped_samples >= clipped > 0
    [message] = [m for m in warnings_of(caplog) if str(loud) in m]
    assert "peak +6.0 dBFS" in message and f"clipped {written.clipped_samples} " in message


def test_float_output_and_a_quiet_input_are_left_alone(separator, tmp_path, caplog):
    loud = float_input(tmp_path / "loud.wav", 6.0)
    written = separator.separate_to_files(loud, tmp_path / "f", bits="32f")
    assert written.rescale_gain == 1.0 and written.clipped_samples == 0
    quiet = float_input(tmp_path / "quiet.wav", -12.0)
    reference = stems_of(separator.separate_to_files(quiet, tmp_path / "qf", bits="32f"))
    written = separator.separate_to_files(quiet, tmp_path / "q")
    assert written.rescale_gain == 1.0
    for stem, samples in stems_of(written).items():
        np.testing.assert_allclose(samples, reference[stem], atol=LSB)
    assert not [m for m in warnings_of(caplog) if "dBFS" in m]


def test_an_unknown_clip_mode_is_refused(separator, tmp_path):
    from cantata.errors import ConfigError

    with pytest.raises(ConfigError, match="clip_mode"):
        separator.separate_to_files(float_input(tmp_path / "x.wav", 0.0), tmp_path / "o",
                                    clip_mode="wrap")


@pytest.mark.parametrize(("flags", "plateau"), [([], False), (["--clip-mode", "clamp"], True)])
def test_cli_separate_warns_about_a_loud_input(tmp_path, capsys, caplog, flags, plateau):
    loud = float_input(tmp_path / "loud.wav", 6.0)
    out = tmp_path / "out"
    assert main(["separate", "--model", "debug", "-o", str(out), *flags, str(loud)]) == 0
    peak = max(np.abs(sf.read(str(out / "loud" / f"{stem}.wav"))[0]).max()
               for stem in ("vocals", "accompaniment"))
    assert (peak >= 1.0 - LSB) == plateau  # clamped at full scale, or rescaled below it
    assert any(str(loud) in m and "+6.0 dBFS" in m for m in warnings_of(caplog))


def test_cli_refuses_an_unknown_clip_mode(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["separate", "--model", "debug", "--clip-mode", "wrap",
              str(float_input(tmp_path / "x.wav", 0.0))])
    assert "--clip-mode" in capsys.readouterr().err
