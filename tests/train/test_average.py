"""Checkpoint averaging."""

from __future__ import annotations

import pytest
import torch

from cantata.errors import ConfigError
from cantata.files import OutputExistsError
from cantata.models.registry import load_checkpoint, save_checkpoint
from cantata.models.separator import MaskUNet, debug_separator
from cantata.train.average import average_checkpoints
from cantata.train.lineage import stage


def _saved(path, seed, step, mask="irm"):
    torch.manual_seed(seed)
    model = MaskUNet(debug_separator(mask).config)
    for buffer in model.buffers():
        if buffer.is_floating_point():
            buffer.normal_()
    save_checkpoint(path, model, name="separator", config=model.config,
                    meta={"training": {"step": step, "metrics": {"val_loss": 0.1}}})
    return model


def test_the_mean_of_the_weights_and_buffers(tmp_path):
    models = [_saved(tmp_path / f"{i}.pt", i, 100 * i) for i in (1, 2, 3)]
    out = average_checkpoints([tmp_path / f"{i}.pt" for i in (1, 2, 3)], tmp_path / "avg.pt")
    averaged, checkpoint = load_checkpoint(out)
    for key, tensor in averaged.state_dict().items():
        inputs = [m.state_dict()[key] for m in models]
        expected = torch.stack(inputs).mean(0) if tensor.is_floating_point() else inputs[-1]
        torch.testing.assert_close(tensor, expected)
    assert [a["step"] for a in checkpoint.meta["averaged_from"]] == [100, 200, 300]
    assert checkpoint.meta["training"] == {"step": 300}  # the inputs' metrics are not its own
    assert stage(checkpoint.meta)["weights"] == "the mean of steps 100, 200, 300"


def test_refuses_one_input_other_models_and_overwriting(tmp_path):
    _saved(tmp_path / "a.pt", 0, 1)
    _saved(tmp_path / "b.pt", 1, 2)
    _saved(tmp_path / "c.pt", 2, 3, mask="psm")
    with pytest.raises(ConfigError, match="at least two"):
        average_checkpoints([tmp_path / "a.pt"], tmp_path / "out.pt")
    with pytest.raises(ConfigError, match="c.pt: a different model"):
        average_checkpoints([tmp_path / "a.pt", tmp_path / "c.pt"], tmp_path / "out.pt")
    with pytest.raises(OutputExistsError, match="a.pt: file exists"):
        average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "a.pt")
    before = (tmp_path / "a.pt").read_bytes()
    average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"], tmp_path / "a.pt", overwrite=True)
    assert (tmp_path / "a.pt").read_bytes() != before
