"""`cantata continue` end to end: a scanned catalog with debug embeddings, a tiny continuer."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
import torch

from cantata.cli import main
from cantata.models.continuer import Continuer, ContinuerConfig
from cantata.models.registry import save_checkpoint
from cantata.testing import chirp, noise


@pytest.fixture
def setup(tmp_path):
    library = tmp_path / "music"
    library.mkdir()
    rate = 16000
    for i in range(3):
        x = noise(duration_s=12.0, sample_rate=rate, amplitude=0.1, seed=i).samples[0]
        x[: rate * 6] += chirp(duration_s=6.0, sample_rate=rate).samples[0] * 0.3
        sf.write(str(library / f"piece{i}.wav"), x, rate)
    db = tmp_path / "cat.db"
    assert main(["scan", str(library), "--db", str(db), "--analyzers", "embed=debug",
                 "--backend", "inline", "-q"]) == 0
    torch.manual_seed(0)
    config = ContinuerConfig(dim=8, hidden=8, layers=1)
    continuer = save_checkpoint(tmp_path / "continuer.pt", Continuer(config), name="continuer",
                                config=config, meta={"embedder": "debug"})
    return library, db, continuer


def test_continue_writes_audio_and_a_spectrogram(setup, tmp_path, capsys):
    library, db, continuer = setup
    out, png = tmp_path / "more.wav", tmp_path / "more.png"
    argv = ["continue", str(library / "piece1.wav"), "--seconds", "9", "-o", str(out),
            "--png", str(png), "--db", str(db), "--model", "debug", "--continuer",
            str(continuer), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["seed_s"] == pytest.approx(12.0) and len(report["pieces"]) == 3
    assert all(p["track"].startswith(str(library)) for p in report["pieces"])
    info = sf.info(str(out))
    assert (info.samplerate, info.channels) == (44100, 2)
    assert info.duration == pytest.approx(21.0, abs=0.05)
    assert png.stat().st_size > 10_000
    assert main(argv) == 2  # the output exists
    assert "file exists" in capsys.readouterr().err


def test_continue_needs_a_matching_continuer_and_embeddings(setup, tmp_path, capsys):
    library, db, continuer = setup
    seed = str(library / "piece0.wav")
    base = ["continue", seed, "-o", str(tmp_path / "x.wav"), "--model", "debug"]
    wrong = tmp_path / "wrong.pt"
    config = ContinuerConfig(dim=8, hidden=8, layers=1)
    save_checkpoint(wrong, Continuer(config), name="continuer", config=config,
                    meta={"embedder": "embedder-00000000"})
    assert main([*base, "--db", str(db), "--continuer", str(wrong)]) == 2
    assert "trained on the embeddings of embedder-00000000" in capsys.readouterr().err
    empty = tmp_path / "empty.db"
    assert main(["scan", str(library), "--db", str(empty), "--analyzers", "detect=debug",
                 "--backend", "inline", "-q"]) == 0
    assert main([*base, "--db", str(empty), "--continuer", str(continuer)]) == 2
    assert "no embeddings" in capsys.readouterr().err
