"""Registry, builders and self-describing checkpoints (P2, P7) on a toy frame classifier."""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from cantata import __version__
from cantata.errors import ConfigError, ModelLoadError
from cantata.models import registry
from cantata.models.registry import (
    build,
    config_from_dict,
    config_to_dict,
    halve_checkpoint,
    load_checkpoint,
    read_checkpoint_payload,
    register,
    registered,
    save_checkpoint,
)
from cantata.models.separator import debug_separator

NAME = "test-registry-toy"


@dataclass(frozen=True)
class HeadConfig:
    hidden: int = 8
    dropout: float = 0.0


@dataclass(frozen=True)
class ToyConfig:
    n_features: int = 4
    n_labels: int = 3
    kernel_sizes: tuple[int, ...] = (3, 1)
    head: HeadConfig = field(default_factory=HeadConfig)
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.n_features < 1:
            raise ConfigError(f"n_features must be positive, got {self.n_features}")


@register(NAME, ToyConfig)
class ToyNet(nn.Module):
    """(batch, n_features, n_frames) -> logits (batch, n_labels, n_frames)."""

    def __init__(self, config: ToyConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.n_features] + [config.head.hidden] * (len(config.kernel_sizes) - 1)
        layers: list[nn.Module] = []
        for i, k in enumerate(config.kernel_sizes):
            out = config.n_labels if i == len(config.kernel_sizes) - 1 else config.head.hidden
            layers += [nn.Conv1d(widths[i], out, k, padding=k // 2), nn.ReLU()]
        self.net = nn.Sequential(*layers[:-1])

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)


@pytest.fixture
def model() -> ToyNet:
    torch.manual_seed(0)
    return ToyNet(ToyConfig())


META = {"sample_rate": 16000, "labels": ["a", "b", "c"], "features": {"n_mels": 4}}


def test_build_from_instance_and_from_mapping_with_nested_and_tuple_fields() -> None:
    assert isinstance(build(NAME, ToyConfig()), ToyNet)
    net = build(NAME, {"kernel_sizes": [5, 3, 1], "head": {"hidden": 6}, "labels": ["x"]})
    assert net.config == ToyConfig(kernel_sizes=(5, 3, 1), head=HeadConfig(hidden=6), labels=("x",))
    assert net.training
    assert NAME in registered()


def test_config_dict_round_trip_is_json_like() -> None:
    config = ToyConfig(kernel_sizes=(7, 1), labels=("a", "b"))
    data = config_to_dict(config)
    assert data["kernel_sizes"] == [7, 1] and data["head"] == {"hidden": 8, "dropout": 0.0}
    assert config_from_dict(ToyConfig, data) == config


def test_build_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'no-such-model'.*test-registry-toy"):
        build("no-such-model", {})


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"n_featurez": 4}, r"unknown ToyConfig keys: \['n_featurez'\]"),
        ({"head": {"width": 3}}, r"unknown HeadConfig keys: \['width'\]"),
        ({"n_features": 0}, "n_features must be positive"),
        ({"n_features": np.int64(4)}, "JSON-like"),
        ({"head": 3}, "ToyConfig.head needs a mapping of HeadConfig fields, got 3"),
        ({"kernel_sizes": "3"}, "ToyConfig.kernel_sizes needs a list, got '3'"),
        (HeadConfig(), "takes a ToyConfig or a mapping"),
    ],
)
def test_build_rejects_bad_config(config: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        build(NAME, config)


def test_register_rejects_misuse() -> None:
    @dataclass
    class Mutable:
        x: int = 1

    with pytest.raises(TypeError, match="frozen"):
        register("test-registry-mutable", Mutable)
    with pytest.raises(ValueError, match="bad model name"):
        register("has space", ToyConfig)
    with pytest.raises(ValueError, match="taken by"):

        @register(NAME, ToyConfig)
        class Impostor(ToyNet):
            pass


def test_model_modules_are_imported_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cantata_test_lazy_model.py").write_text(
        textwrap.dedent(
            """
            from dataclasses import dataclass
            from torch import nn
            from cantata.models.registry import register

            @dataclass(frozen=True)
            class LazyConfig:
                width: int = 2

            @register("test-lazy-toy", LazyConfig)
            class Lazy(nn.Linear):
                def __init__(self, config: LazyConfig) -> None:
                    super().__init__(config.width, 1)
            """
        )
    )
    (tmp_path / "cantata_test_silent_module.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.MODEL_MODULES, "test-lazy-toy", "cantata_test_lazy_model")
    monkeypatch.setitem(registry.MODEL_MODULES, "test-silent", "cantata_test_silent_module")
    monkeypatch.setitem(registry.MODEL_MODULES, "test-missing", "cantata_test_no_such_module")
    assert {"test-lazy-toy", "test-silent"} <= set(registered())
    assert build("test-lazy-toy", {"width": 3}).in_features == 3
    with pytest.raises(ConfigError, match="did not register"):
        build("test-silent", {})
    with pytest.raises(ConfigError, match="importing cantata_test_no_such_module failed"):
        build("test-missing", {})


def test_save_load_round_trip_gives_identical_outputs(model: ToyNet, tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "toy.pt", model, name=NAME, config=model.config, meta=META)
    loaded, ckpt = load_checkpoint(path)
    features = torch.randn(2, 4, 11)
    model.eval()
    torch.testing.assert_close(loaded(features), model(features), rtol=0, atol=0)
    assert not loaded.training
    assert (ckpt.name, ckpt.format_version, ckpt.path) == (NAME, 1, path)
    assert ckpt.config == config_to_dict(model.config)
    assert {k: ckpt.meta[k] for k in META} == META
    assert ckpt.meta["code_version"] == __version__
    sha = ckpt.meta["git_sha"]
    assert sha is None or re.fullmatch(r"[0-9a-f]{40}", sha)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", ckpt.meta["saved_at"])


def test_halved_checkpoint_stores_float16_weights_and_loads_as_float32(tmp_path: Path) -> None:
    net = debug_separator()
    net.input_std.fill_(1e-9)  # a buffer float16 would flush to zero
    path = save_checkpoint(tmp_path / "sep.pt", net, name="separator", config=net.config,
                           meta=META)
    half = halve_checkpoint(path, tmp_path / "half.pt")
    stored, params = read_checkpoint_payload(half)["state_dict"], dict(net.named_parameters())
    assert {stored[k].dtype for k in params} == {torch.float16}
    for key, value in net.state_dict().items():
        if key not in params:
            assert stored[key].dtype == value.dtype and torch.equal(stored[key], value)
    loaded, ckpt = load_checkpoint(half)
    assert {p.dtype for p in loaded.parameters()} == {torch.float32}
    for key, value in params.items():
        torch.testing.assert_close(loaded.state_dict()[key], value.detach().half().float(),
                                   rtol=0, atol=0)
    assert ckpt.meta == read_checkpoint_payload(path)["meta"]


def test_directory_target_names_file_by_content_hash(model: ToyNet, tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path, model, name=NAME, config={}, meta={})
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert path.name == f"{NAME}-{digest[:8]}.pt"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left


def test_checkpoint_loads_with_weights_only(model: ToyNet, tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "toy.pt", model, name=NAME, config=model.config, meta=META)
    payload = torch.load(path, weights_only=True)
    assert set(payload) == {"format_version", "name", "config", "state_dict", "meta"}
    assert payload["state_dict"].keys() == model.state_dict().keys()


@pytest.mark.parametrize("meta", [{"path": Path("x")}, {"t": torch.zeros(1)}, {1: "int key"}])
def test_meta_must_be_json_like(model: ToyNet, tmp_path: Path, meta: dict) -> None:
    with pytest.raises(ConfigError, match="checkpoint meta"):
        save_checkpoint(tmp_path / "toy.pt", model, name=NAME, config=model.config, meta=meta)
    assert not list(tmp_path.iterdir())


def test_save_rejects_unregistered_name(model: ToyNet, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown model"):
        save_checkpoint(tmp_path / "x.pt", model, name="not-registered", config={}, meta={})


def test_corrupt_or_missing_file_raises_model_load_error(model: ToyNet, tmp_path: Path) -> None:
    good = save_checkpoint(tmp_path / "good.pt", model, name=NAME, config={}, meta={})
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    for path in (garbage, truncated):
        with pytest.raises(ModelLoadError, match=re.escape(str(path))):
            load_checkpoint(path)
    for path in (tmp_path / "missing.pt", tmp_path):
        with pytest.raises(ModelLoadError, match="not a file"):
            load_checkpoint(path)


def _resave(path: Path, **changes: object) -> Path:
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    torch.save(payload, path)
    return path


def test_wrong_format_raises_model_load_error(model: ToyNet, tmp_path: Path) -> None:
    cases = [
        ({"format_version": 2}, "format_version 2 is not 1"),
        ({"name": "no-such-model"}, "unknown model 'no-such-model'"),
        ({"config": {"bogus": 1}}, "unknown ToyConfig keys"),
        ({"meta": [1]}, "'meta' must be a dict"),
    ]
    for changes, match in cases:
        path = save_checkpoint(tmp_path / "c.pt", model, name=NAME, config={}, meta={})
        with pytest.raises(ModelLoadError, match=match):
            load_checkpoint(_resave(path, **changes))
    bare = tmp_path / "bare.pt"
    torch.save(model.state_dict(), bare)
    with pytest.raises(ModelLoadError, match=r"missing \['format_version', 'name', 'config'"):
        load_checkpoint(bare)
    pickled = tmp_path / "pickled.pt"
    torch.save(model, pickled)  # a pickled class: refused by weights_only
    with pytest.raises(ModelLoadError, match="not a readable checkpoint"):
        load_checkpoint(pickled)


def test_state_dict_mismatch_raises_model_load_error(model: ToyNet, tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", model, name=NAME, config={}, meta={})
    _resave(path, config=config_to_dict(ToyConfig(n_labels=2)))
    with pytest.raises(
        ModelLoadError, match="(?s)weights do not fit 'test-registry-toy'.*size mismatch"
    ):
        load_checkpoint(path)
