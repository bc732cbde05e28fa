"""`cantata tag` end to end on a checkpoint with calibrated thresholds."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from cantata.cli import main
from cantata.models.registry import save_checkpoint
from cantata.models.tagger import debug_tagger
from cantata.testing import noise


@pytest.fixture
def checkpoint(tmp_path):
    net = debug_tagger()
    return save_checkpoint(tmp_path / "tagger.pt", net, name="tagger", config=net.config,
                           meta={"thresholds": {"tone": 0.0, "noise": 1.0, "beat": 0.5}})


def write(folder, name, seconds=2.0, seed=1):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), noise(duration_s=seconds, sample_rate=16000, seed=seed).samples.T,
             16000)
    return path


def cli(capsys, *args):
    code = main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_tag_end_to_end(tmp_path, checkpoint, capsys):
    songs = tmp_path / "songs"
    first, second = write(songs, "a.wav"), write(songs / "sub", "a.flac", seed=2)
    code, out, _ = cli(capsys, "tag", songs, "--model", checkpoint, "--json")
    results = json.loads(out)
    assert code == 0 and [r["file"] for r in results] == [str(first), str(second)]
    result = results[0]
    assert set(result) == {"file", "model", "duration_s", "tags"}
    assert result["model"] == str(checkpoint) and result["duration_s"] == 2.0
    scores = [t["score"] for t in result["tags"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 3
    present = {t["tag"]: t["present"] for t in result["tags"]}
    assert present["tone"] and not present["noise"]  # thresholds 0 and 1

    out_dir = tmp_path / "out"
    code, _, _ = cli(capsys, "tag", first, second, "-o", out_dir, "--model", checkpoint,
                     "--top", "2")
    written = json.loads((out_dir / "a.json").read_text())
    assert code == 0 and written == {**result, "tags": result["tags"][:2]}
    assert (out_dir / "a-2.json").is_file()  # inputs named alike
    code, _, err = cli(capsys, "tag", first, "-o", out_dir, "--model", checkpoint)
    assert code == 2 and "exists" in err  # never overwrites without --overwrite

    code, out, _ = cli(capsys, "tag", first, "--model", checkpoint, "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "tag,score,present" and len(out.splitlines()) == 4
    code, out, _ = cli(capsys, "tag", first, "--model", checkpoint)
    assert code == 0 and "tone" in out


def test_tag_with_the_shipped_tagger(tmp_path, capsys):
    """No --model: the shipped MagnaTagATune top-50 tagger, every tag scored."""
    code, out, _ = cli(capsys, "tag", write(tmp_path, "a.wav", seconds=4.0), "--json")
    assert code == 0
    (found,) = json.loads(out)
    assert found["model"] == "tagger" and len(found["tags"]) == 50
    assert {"vocal", "no vocals", "piano", "guitar"} <= {t["tag"] for t in found["tags"]}


def test_tag_errors(tmp_path, checkpoint, capsys):
    code, _, err = cli(capsys, "tag", tmp_path / "missing.wav", "--model", checkpoint)
    assert code == 2 and "missing.wav" in err
    with pytest.raises(SystemExit):
        main(["tag", str(tmp_path / "a.wav"), "--top", "0"])


def test_prefetch_decodes_ahead_and_keeps_each_files_error():
    from cantata.cli.tag import Prefetch
    from cantata.errors import AudioLoadError

    loaded = []

    def load(path):
        loaded.append(path)
        if path == "bad":
            raise AudioLoadError("bad", "cannot decode")
        return path.upper()

    with Prefetch(["a", "bad", "c"], load) as decoded:
        assert decoded("a") == "A"
        with pytest.raises(AudioLoadError, match="cannot decode"):
            decoded("bad")
        assert decoded("c") == "C"
    assert loaded == ["a", "bad", "c"]  # each file decoded once, in order
