"""The tagger network: shapes, registry round trip, config checks."""

from __future__ import annotations

import pytest
import torch

from cantata.errors import ConfigError, ShapeError
from cantata.models.registry import build, load_checkpoint, save_checkpoint
from cantata.models.tagger import MTAT_TOP50, Tagger, TaggerConfig, debug_tagger


def test_logits_per_tag_for_any_length():
    net = debug_tagger()
    for frames in (1, 63, 200):
        assert net(torch.randn(2, 16, frames)).shape == (2, 3)
    with pytest.raises(ShapeError, match=r"\(batch, 16, frames\)"):
        net(torch.randn(2, 15, 63))


def test_default_vocabulary_is_mtat_top50():
    assert len(MTAT_TOP50) == 50 and len(set(MTAT_TOP50)) == 50
    assert TaggerConfig().tags == MTAT_TOP50 and "no vocals" in MTAT_TOP50
    assert TaggerConfig().chunk_frames == 188  # 3 s at 16 kHz, hop 256


def test_checkpoint_round_trip(tmp_path):
    net = debug_tagger()
    path = save_checkpoint(tmp_path / "t.pt", net, name="tagger", config=net.config,
                           meta={"thresholds": {"tone": 0.3}})
    loaded, checkpoint = load_checkpoint(path)
    assert isinstance(loaded, Tagger) and loaded.tags == ("tone", "noise", "beat")
    x = torch.randn(1, 16, 40)
    assert torch.allclose(loaded(x), net(x))
    assert isinstance(build("tagger", {"tags": ["a", "b"]}), Tagger)


@pytest.mark.parametrize("bad", [{"tags": []}, {"tags": ["a", "a"]}, {"chunk_s": 0},
                                 {"dropout": 1.0}, {"channels": []}])
def test_bad_configs(bad):
    with pytest.raises(ConfigError):
        build("tagger", bad)
