"""`cantata separate` end to end on the debug model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import av
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
    a = write(tmp_path / "one" / "song.wav")
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


@pytest.mark.parametrize(("fmt", "codec", "rate"), [("mp3", "mp3float", 22050),
                                                   ("ogg", "vorbis", 22050),
                                                   ("opus", "opus", 48000),
                                                   ("m4a", "aac", 22050)])
def test_lossy_formats(tmp_path, capsys, fmt, codec, rate):
    src = write(tmp_path / "x.wav", seconds=2.0)
    assert separate(src, "-o", tmp_path / "out", "--format", fmt, "--json") == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert set(result["stems"]) == {"vocals", "accompaniment"}
    for path in map(Path, result["stems"].values()):
        assert path.suffix == f".{fmt}"
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            assert (stream.codec_context.name, stream.rate, stream.channels) == (codec, rate, 2)
            assert float(container.duration) / 1e6 == pytest.approx(2.0, abs=0.1)
    assert sorted(p.name for p in (tmp_path / "out" / "x").iterdir()) == \
        [f"accompaniment.{fmt}", f"vocals.{fmt}"]  # no temporary file left


def test_bitrate(tmp_path, capsys):
    src = write(tmp_path / "x.wav", seconds=3.0, rate=44100)
    assert separate(src, "-o", tmp_path / "a", "--format", "mp3", "-q") == 0
    assert separate(src, "-o", tmp_path / "b", "--format", "mp3", "--bitrate", "96k", "-q") == 0
    with av.open(str(tmp_path / "a" / "x" / "vocals.mp3")) as default:
        assert default.streams.audio[0].bit_rate == 320_000
    with av.open(str(tmp_path / "b" / "x" / "vocals.mp3")) as low:
        assert low.streams.audio[0].bit_rate == 96_000
    assert separate(src, "-o", tmp_path / "c", "--format", "mp3", "--bitrate", "fast") == 2
    assert "--bitrate: expected e.g. 320k, got 'fast'" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_default_output_folder(tmp_path, monkeypatch):
    src = write(tmp_path / "in" / "x.wav")
    monkeypatch.chdir(tmp_path)
    assert separate(src, "-q") == 0
    assert sorted(p.name for p in (tmp_path / "separated" / "x").iterdir()) == \
        ["accompaniment.wav", "vocals.wav"]


def test_filename_template(tmp_path, capsys):
    src = write(tmp_path / "my song.flac")
    template = "{stem}/{track}_{stem}.{trackext}.{ext}"
    assert separate(src, "-o", tmp_path / "out", "--filename", template, "-q") == 0
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.*")) \
        == ["accompaniment/my song_accompaniment.flac.wav", "vocals/my song_vocals.flac.wav"]
    assert separate(src, "-o", tmp_path / "bad", "--filename", "{song}/{stem}.{ext}") == 2
    assert "--filename: unknown key {song} (keys: track, stem, ext, trackext)" \
        in capsys.readouterr().err
    assert separate(src, "-o", tmp_path / "bad", "--filename", "{track}.{ext}") == 2
    assert "would both write to" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("stem", ["vocals", "accompaniment"])
def test_two_stems(tmp_path, stem):
    src = write(tmp_path / "x.wav")
    assert separate(src, "-o", tmp_path / "out", "--two-stems", stem, "-q") == 0
    assert sorted(p.name for p in (tmp_path / "out" / "x").iterdir()) == \
        ["accompaniment.wav", "vocals.wav"]


def test_two_stems_errors(tmp_path, capsys):
    src = write(tmp_path / "x.wav")
    assert separate(src, "-o", tmp_path / "out", "--two-stems", "drums") == 2
    assert "--two-stems drums" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        separate(src, "-o", tmp_path / "out", "--two-stems", "vocals", "--stems", "vocals")


def test_same_names_in_different_folders_are_named_apart(tmp_path, capsys):
    a, b = write(tmp_path / "one" / "song.wav"), write(tmp_path / "two" / "song.flac")
    c = write(tmp_path / "song-2.wav")
    assert separate(a, b, c, "-o", tmp_path / "out", "--stems", "vocals", "--json") == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["stems"]["vocals"] for r in results] == [
        str(tmp_path / "out" / name / "vocals.wav") for name in ("song", "song-2", "song-2-2")]


def test_stdin_to_stdout(tmp_path, monkeypatch):
    src = write(tmp_path / "x.wav", rate=16000, channels=1)
    stdout = io.TextIOWrapper(io.BytesIO())
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(src.read_bytes())))
    monkeypatch.setattr("sys.stdout", stdout)
    assert separate("-", "--stems", "vocals", "-o", "-") == 0
    stdout.flush()
    vocals, rate = sf.read(io.BytesIO(stdout.buffer.getvalue()))
    assert rate == 16000 and len(vocals) == sf.info(str(src)).frames


def test_stdin_to_folder(tmp_path, monkeypatch):
    src = write(tmp_path / "x.wav")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(src.read_bytes())))
    assert separate("-", "-o", tmp_path / "out", "-q") == 0
    assert sorted(p.name for p in (tmp_path / "out" / "stdin").iterdir()) == \
        ["accompaniment.wav", "vocals.wav"]


def test_stdout_needs_one_file_and_one_stem(tmp_path, capsys):
    a, b = write(tmp_path / "a.wav"), write(tmp_path / "b.wav")
    assert separate(a, "-o", "-") == 2
    assert "-o - writes one stem to stdout: choose it with --stems" in capsys.readouterr().err
    assert separate(a, b, "--stems", "vocals", "-o", "-") == 2
    assert "-o - takes one input file, got 2" in capsys.readouterr().err
    assert separate(a, "--stems", "vocals", "-o", "-", "--json") == 2
    assert "--json" in capsys.readouterr().err
