"""`cantata train continuer` end to end on the debug embedder and a tiny library."""

from __future__ import annotations

import json

from cantata.cli import main
from cantata.embed.api import Embedder
from cantata.embed.generate import load_continuer
from cantata.testing.music import write_music_library


def test_train_continuer(tmp_path, capsys):
    library = write_music_library(tmp_path / "music")
    argv = ["train", "continuer", "--embedder", "debug", "--mir1k", str(library["mir1k"]),
            "--instrumentals", str(library["instrumentals"]), "--songs", str(library["songs"]),
            "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "run"), "--steps", "4",
            "--batch-size", "4", "--eval-every", "2", "--workers", "0", "--json",
            "--set", "sequence_steps=2"]  # the tiny tracks hold few segments
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 4 and summary["best_metric"] > 0
    continuer = load_continuer(summary["best"], Embedder.from_pretrained("debug"))
    assert continuer.config.dim == Embedder.from_pretrained("debug").dim
