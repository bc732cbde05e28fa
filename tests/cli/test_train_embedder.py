"""`cantata train embedder` end to end: a few steps on a tiny library, then embed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cantata.cli import main
from cantata.embed.api import Embedder
from cantata.models.embedder import debug_embedder
from cantata.models.registry import load_checkpoint
from cantata.testing.music import write_music_library

#: the tiny model of debug_embedder (P8)
DEBUG_MODEL = ["--set", "model={dim: 8, channels: [4, 8], hidden: 8, features: {n_fft: 512, "
                        "n_mels: 16, n_mfcc: 13}}"]


@pytest.mark.parametrize(("system", "prior"), [("adjacency", True), ("dssm", False)])
def test_train_embedder_then_embed(tmp_path, capsys, system, prior):
    debug = debug_embedder().config
    library = write_music_library(tmp_path / "music")
    out = tmp_path / "run"
    argv = ["train", "embedder", "--system", system, "--mir1k", str(library["mir1k"]),
            "--instrumentals", str(library["instrumentals"]), "--songs", str(library["songs"]),
            "--cache", str(tmp_path / "cache"), "--out", str(out), "--steps", "4",
            "--batch-size", "4", "--eval-every", "2", "--workers", "0", "--json", *DEBUG_MODEL]
    extra = ["--similarity", "cosine", "--degrade", "0.5"] if prior else ["--no-prior"]
    assert main(argv + extra) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 4 and summary["best"].endswith("best.pt")
    assert 0 < summary["best_metric"] <= 1

    model, checkpoint = load_checkpoint(summary["best"])
    assert model.config.system == system and model.config.prior == prior
    assert (model.prior_disc is not None) == prior
    meta = checkpoint.meta
    assert meta["command"].startswith("cantata ")
    assert meta["data"]["train"]["tracks"] + meta["data"]["val"]["tracks"] == 10
    assert meta["data"]["degrade"] == (0.5 if prior else 0.0)
    assert "val_cov_dist" in meta["training"]["metrics"]
    events = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    train_events = [e for e in events if e["event"] == "train"]
    if prior:  # the GAN steps log their terms
        assert any("gan/disc" in e["metrics"] for e in train_events)
    embedder = Embedder.from_pretrained(summary["best"])
    assert embedder.similarity == ("cosine" if prior else "euclidean")
    found = embedder.embed_segments(library["instrumentals"] / "theme0.wav", hop_s=1.0)
    assert found.vectors.shape[1] == debug.dim and np.isfinite(found.vectors).all()


def test_no_music_exits_2(tmp_path, capsys):
    assert main(["train", "embedder", "--out", str(tmp_path / "run")]) == 2
    assert "no music" in capsys.readouterr().err
