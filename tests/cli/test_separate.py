"""`cantata separate` end to end on the debug model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from cantata.cli import main
from cantata.testing import noise


def write(path, *, seconds=1.5, rate=22050, channels=2, subtype="PCM_16"):
    path.parent.mkdir(parents=True, exist_ok=True)
    wav = noise(duration_s=seconds, sample_rate=rate, n_channels=channels, seed=len(path.name))
    sf.write(str(path), wav.samples.T, rate, subtype=subtype)
    return path


def separate(*args):
    return main(["separate", "--model", "debug", *map(str, args)])


@pytest.mark.parametrize(("fmt", "bits", "subtype"), [("wav", "16", "PCM_16"),
                                                      ("wav", "32f", "FLOAT"),
                                                      ("flac", "24", "PCM_24")])
def test_layout_rate_channels_length_bits(tmp_path, capsys, fmt, bits, subtype):
    stereo = write(tmp_path / "in" / "stereo song.wav", rate=44100, channels=2, seconds=1.3)
    mono = write(tmp_path / "in" / "mono.flac", rate=16000, channels=1, seconds=0.7)
    out = tmp_path / "stems"
    assert separate(stereo, mono, "-o", out, "--format", fmt, "--bits", bits, "--json") == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in results] == [str(stereo), str(mono)]
    for src, rate, channels in ((stereo, 44100, 2), (mono, 16000, 1)):
        folder = out / src.stem
        assert sorted(p.name for p in folder.iterdir()) == [f"accompaniment.{fmt}",
                                                            f"vocals.{fmt}"]
        for stem in ("vocals", "accompaniment"):
            info = sf.info(str(folder / f"{stem}.{fmt}"))
            assert (info.samplerate, info.channels, info.subtype) == (rate, channels, subtype)
            assert info.frames == sf.info(str(src)).frames
    assert results[0]["stems"]["vocals"] == str(out / "stereo song" / f"vocals.{fmt}")


def test_stems_sum_to_the_mixture(tmp_path):
    src = write(tmp_path / "x.wav", subtype="FLOAT")
    assert separate(src, "-o", tmp_path, "--bits", "32f", "-q") == 0
    vocals, _ = sf.read(str(tmp_path / "x" / "vocals.wav"))
    accompaniment, _ = sf.read(str(tmp_path / "x" / "accompaniment.wav"))
    mix, _ = sf.read(str(src))
    np.testing.assert_allclose(vocals + accompaniment, mix, atol=1e-4)


def test_folder_input_and_one_stem(tmp_path):
    write(tmp_path / "in" / "a.wav")
    write(tmp_path / "in" / "sub" / "b.flac")
    (tmp_path / "in" / "notes.txt").write_text("not audio")
    assert separate(tmp_path / "in", "-o", tmp_path / "out", "--stems", "vocals", "-q") == 0
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.*")) \
        == ["a/vocals.wav", "b/vocals.wav"]


def test_no_silent_overwrite(tmp_path, capsys):
    src = write(tmp_path / "x.wav")
    assert separate(src, "-o", tmp_path, "-q") == 0
    (tmp_path / "x" / "vocals.wav").write_bytes(b"mine")
    assert separate(src, "-o", tmp_path, "-q") == 2
    assert "vocals.wav: file exists" in capsys.readouterr().err
    assert (tmp_path / "x" / "vocals.wav").read_bytes() == b"mine"
    assert separate(src, "-o", tmp_path, "-q", "--overwrite") == 0
    assert sf.info(str(tmp_path / "x" / "vocals.wav")).frames == sf.info(str(src)).frames


def test_bad_file_among_good_ones(tmp_path, capsys):
    good, bad = write(tmp_path / "good.wav"), tmp_path / "bad.mp3"
    bad.write_text("nope")
    assert separate(bad, good, "-o", tmp_path / "out", "--json") == 2
    captured = capsys.readouterr()
    results = json.loads(captured.out)
    assert "bad.mp3" in captured.err and "bad.mp3" in results[0]["error"]
    assert (tmp_path / "out" / "good" / "vocals.wav").exists()
    assert not (tmp_path / "out" / "bad").exists()


def test_errors_before_any_work(tmp_path, capsys):
    a, b = write(tmp_path / "one" / "song.wav"), write(tmp_path / "two" / "song.flac")
    assert separate(a, b, "-o", tmp_path / "out") == 2
    assert "would both write to" in capsys.readouterr().err
    assert separate(a, "-o", tmp_path / "out", "--format", "flac", "--bits", "32f") == 2
    assert "flac cannot hold" in capsys.readouterr().err
    assert separate(a, "-o", tmp_path / "out", "--stems", "drums") == 2
    assert "drums" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_gated(tmp_path, capsys):
    src = write(tmp_path / "x.wav", seconds=6.0, rate=16000, channels=1)
    assert main(["separate", str(src), "-o", str(tmp_path), "--model", "debug", "--gate",
                 "--gate-model", "debug", "--json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert 0 <= result["skipped_s"] <= 6.0 and result["duration_s"] == pytest.approx(6.0)


def test_wiener(tmp_path, capsys):
    src = write(tmp_path / "x.wav", rate=44100, channels=2, subtype="FLOAT")
    assert separate(src, "-o", tmp_path / "plain", "--bits", "32f", "-q") == 0
    assert separate(src, "-o", tmp_path / "mwf", "--bits", "32f", "--wiener", "2", "-q") == 0
    plain, _ = sf.read(str(tmp_path / "plain" / "x" / "vocals.wav"))
    refined, _ = sf.read(str(tmp_path / "mwf" / "x" / "vocals.wav"))
    accompaniment, _ = sf.read(str(tmp_path / "mwf" / "x" / "accompaniment.wav"))
    mix, _ = sf.read(str(src))
    assert refined.shape == plain.shape == mix.shape
    assert np.abs(refined - plain).max() > 1e-4
    np.testing.assert_allclose(refined + accompaniment, mix, atol=1e-4)
    assert separate(src, "-o", tmp_path / "bad", "--wiener", "-1") == 2
    assert "wiener" in capsys.readouterr().err


def test_export_onnx_separator(tmp_path, capsys):
    """A separator checkpoint (with the refinement and the GRU) exports as magnitudes ->
    mask, and ONNX Runtime's mask separates like the PyTorch model."""
    from dataclasses import replace

    import torch

    from cantata.export.onnx import OnnxModel
    from cantata.models.registry import save_checkpoint
    from cantata.models.separator import MaskUNet, debug_separator

    config = replace(debug_separator("cirm").config, refine_channels=2, context_units=3)
    model = MaskUNet(config).eval()
    with torch.no_grad():  # the refinement and the GRU start as no-ops: make them count
        for i, parameter in enumerate(model.parameters()):
            parameter.add_(0.1 * torch.randn(parameter.shape, generator=torch.Generator()
                                             .manual_seed(i)))
    ckpt = tmp_path / "sep.pt"
    save_checkpoint(ckpt, model, name="separator", config=model.config, meta={})
    out = tmp_path / "sep.onnx"
    assert main(["export", "onnx", str(ckpt), str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["max_abs_diff"] < 1e-4
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["stems"] == ["vocals", "accompaniment"] and sidecar["mask"] == "cirm"
    assert sidecar["phase_steps"] == 0
    assert sidecar["features"]["n_fft"] == model.config.features.n_fft
    magnitude = np.random.default_rng(0).random((1, 2, model.config.n_freq, 100), np.float32)
    mask = OnnxModel(out)(magnitude)
    assert mask.shape == (1, 2, 2, model.config.n_freq, 100)
    with torch.no_grad():
        expected = model.mask(torch.from_numpy(magnitude))
    np.testing.assert_allclose(mask[:, :, 0] + 1j * mask[:, :, 1], expected.numpy(), atol=1e-4)
