"""Training recipes: one frozen, typed config per recipe, which runs itself.

A recipe (:class:`Recipe`) holds everything one training run needs: its data sources,
model, augmentation and the loop's :class:`~cantata.train.config.TrainConfig`, grouped in
nested dataclasses. ``recipe.fit(out_dir)`` builds the datasets and the model, fits the
input normalisation and runs :func:`cantata.train.fit`; the checkpoint keeps the resolved
recipe in ``meta["recipe"]``. Recipes are written as YAML files
(``configs/<capability>/<name>.yaml``, a ``recipe:`` key naming the recipe) and loaded with
:func:`load_recipe`, which takes overrides such as ``"train.lr=1e-4"``.

The recipes live by capability: :mod:`~cantata.train.recipes.detect` (speech and singing
detectors), :mod:`~cantata.train.recipes.separate`, :mod:`~cantata.train.recipes.embed`
(embedder, continuer); :data:`cantata.capabilities.CAPABILITIES` names them. This module
holds what they share. MIR-1K singers are split by singer, never by clip:
``TEST_SINGERS`` are left for the benchmark (never trained on, never used to pick a
checkpoint), ``VAL_SINGERS`` pick the checkpoint, and the rest (or a chosen few) train.

Example:
    >>> recipe = load_recipe("configs/detect/debug.yaml", ["train.max_steps=4"])  # doctest: +SKIP
    >>> recipe.fit("runs/debug").best_path  # doctest: +SKIP
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
import yaml

from cantata.capabilities import CAPABILITIES, load
from cantata.data.sources import load_instrumentals, split_benchmark
from cantata.data.sources.instrumentals import SAMPLE_PACKS
from cantata.errors import ConfigError
from cantata.models.registry import config_to_dict, load_checkpoint
from cantata.train.config import TrainConfig
from cantata.train.events import ProgressCallback
from cantata.train.loop import FitResult, fit
from cantata.train.recipes.schema import build, merge, parse_override, set_key
from cantata.train.task import Task

TEST_SINGERS = ("abjones", "bobon", "heycat")
VAL_SINGERS = ("davidson", "titon")
#: validation windows of the detectors and the separator
EVAL_WINDOW_S = 8.0
#: training items the input normalisation is fitted on
STATS_ITEMS = 64
#: the loop's settings unless a recipe says otherwise
DEFAULT_TRAIN = TrainConfig(max_steps=1500, batch_size=16, lr=1e-3, eval_every=250, patience=4,
                            seed=0, num_workers=2, lr_schedule="cosine")

Override = str | tuple[str, Any]
"""``"train.lr=1e-4"`` (the value read as YAML), or ``("train.lr", 1e-4)``."""


class Recipe(ABC):
    """Base of the recipes: each subclass is a frozen dataclass with a ``train`` field.

    Attributes:
        name: the recipe's name in YAML files (``recipe: separator``), also the registry
            name of the network it trains.
        capability: the capability it trains a model for.
    """

    name: ClassVar[str]
    capability: ClassVar[str]
    train: TrainConfig

    @abstractmethod
    def fit(self, out_dir: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None,
            command: str | None = None) -> FitResult:
        """Train into the run folder ``out_dir`` (resumed if it holds a run).

        Args:
            out_dir: run folder (see :func:`cantata.train.fit`).
            on_progress: called with each event of the loop.
            command: the command line that ran this, kept in the checkpoint for its card.

        Raises:
            ConfigError: the data or the model cannot be used as configured.
        """

    def to_dict(self) -> dict[str, Any]:
        """``{"recipe": name, **fields}``, JSON-like; :func:`build_recipe` reads it back."""
        return {"recipe": self.name, **config_to_dict(self)}


@dataclass(frozen=True)
class Synth:
    """Examples ``cantata data synth`` makes into ``OUT/synth`` before training (the
    debug recipes train on them; a rerun keeps the ones made).

    Attributes:
        examples: how many.
        seconds: length of each.
        sample_rate: of the files.
        seed: the set is a function of the seed.
    """

    examples: int = 4
    seconds: float = 8.0
    sample_rate: int = 16000
    seed: int = 0

    def make(self, kind: str, out_dir: str | os.PathLike[str]) -> str:
        """Make ``kind`` examples (``"song"``, ``"speech-mix"``); returns their folder."""
        from cantata.data.synth.factory import FactoryConfig, synthesize

        folder = Path(out_dir) / "synth" / kind
        hours = (self.examples - 0.5) * self.seconds / 3600  # rounds up to `examples`
        synthesize(kind, hours=hours, out_dir=folder, seed=self.seed,
                   config=FactoryConfig(sample_rate=self.sample_rate, example_s=self.seconds))
        return str(folder)


def with_synth(folders: Sequence[str], synth: Synth | None, kind: str,
               out_dir: str | os.PathLike[str]) -> list[str]:
    """``folders`` plus the folder of ``synth``'s examples, made now (if ``synth``)."""
    return [*folders, synth.make(kind, out_dir)] if synth is not None else list(folders)


@dataclass(frozen=True)
class SongData:
    """Songs to learn singing from.

    Attributes:
        mir1k: a MIR-1K-style folder: training singers are mixed on the fly.
        train_singers: MIR-1K singers to train on (None: all but validation and test).
        songs: folders of songs with stems and a manifest (``cantata data synth song``).
        instrumentals: folders of vocal-free music; ``"debian"``: the installed Debian game
            soundtracks (the detection benchmark's test tracks are always left out).
        synth: synthetic songs made for the run, added to ``songs``.
    """

    mir1k: str | None = None
    train_singers: tuple[str, ...] | None = None
    songs: tuple[str, ...] = ()
    instrumentals: tuple[str, ...] = ()
    synth: Synth | None = None


def recipe_names(capability: str | None = None) -> list[str]:
    """The recipes of ``capability`` (of every capability if None)."""
    return [name for cap in CAPABILITIES.values() if capability in (None, cap.name)
            for name in cap.recipes]


def recipe_class(name: str) -> type[Recipe]:
    """The recipe class called ``name`` (as the capability registry declares it).

    Raises:
        ConfigError: no such recipe (the message lists them).
    """
    for cap in CAPABILITIES.values():
        if name in cap.recipes:
            return load(cap.recipes[name])
    raise ConfigError(f"unknown recipe {name!r}; known: {', '.join(recipe_names())}")


def build_recipe(data: Mapping[str, Any], overrides: Iterable[Override] = (), *,
                 source: str = "recipe") -> Recipe:
    """The recipe ``data["recipe"]`` from its fields in ``data`` and ``overrides`` (later
    ones win), over the recipe's defaults.

    Raises:
        ConfigError: no or an unknown recipe name, an unknown key (the message lists the
            known ones) or a bad value.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("recipe"), str):
        raise ConfigError(f"{source}: needs a 'recipe:' key naming the recipe (one of "
                          f"{', '.join(recipe_names())})")
    cls = recipe_class(data["recipe"])
    tree = merge(config_to_dict(cls()), {k: v for k, v in data.items() if k != "recipe"})
    for override in overrides:
        key, value = parse_override(override) if isinstance(override, str) else override
        set_key(tree, key, value)
    return build(cls, tree)


def read_recipe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The mapping a recipe YAML file holds.

    Raises:
        ConfigError: unreadable, not YAML, or not a mapping with a ``recipe`` key.
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read the recipe ({err})") from err
    if not isinstance(data, dict) or not isinstance(data.get("recipe"), str):
        raise ConfigError(f"{path}: needs a 'recipe:' key naming the recipe (one of "
                          f"{', '.join(recipe_names())})")
    return data


def load_recipe(path: str | os.PathLike[str], overrides: Iterable[Override] = (), *,
                capability: str | None = None) -> Recipe:
    """The recipe a YAML file describes, with ``overrides`` applied.

    Args:
        path: ``configs/<capability>/<name>.yaml``: ``recipe: NAME`` and the fields.
        overrides: ``"key=value"`` strings (dotted keys into nested groups, values read as
            YAML: ``train.lr=1e-4``, ``data.songs=[a, b]``) or ``(key, value)`` pairs.
        capability: if given, the recipe must be one of this capability's.

    Raises:
        ConfigError: see :func:`read_recipe` and :func:`build_recipe`; or a recipe of
            another capability.
    """
    data = read_recipe(path)
    if capability is not None and data["recipe"] not in recipe_names(capability):
        raise ConfigError(f"{path}: recipe {data['recipe']!r} does not train a {capability!r} "
                          f"model (its recipes: {', '.join(recipe_names(capability))})")
    return build_recipe(data, overrides, source=str(path))


@dataclass(frozen=True)
class SingerSplit:
    """MIR-1K clips split by singer: ``train`` and ``val`` clips; singer names."""

    train: list[Any]
    val: list[Any]
    train_singers: list[str]
    val_singers: list[str]
    test_singers: list[str]

    def describe(self) -> dict[str, Any]:
        """The split for a checkpoint's ``meta["data"]``."""
        return {"train_singers": self.train_singers, "val_singers": self.val_singers,
                "test_singers": self.test_singers, "train_clips": len(self.train)}


def split_singers(clips: Sequence[Any], *, train_singers: Sequence[str] | None = None,
                  test_singers: Sequence[str] = TEST_SINGERS,
                  may_train_on_validation: bool = False) -> SingerSplit:
    """Split MIR-1K clips (``group`` = singer) by singer.

    ``train_singers`` default to all but ``VAL_SINGERS`` and ``test_singers``; the
    validation singers not trained on validate. Test singers are never trained on, nor
    are validation singers unless ``may_train_on_validation`` (a final fit).

    Raises:
        ConfigError: held-out singers named to train on, or no clip of the chosen singers.
    """
    held = set(test_singers) | (set() if may_train_on_validation else set(VAL_SINGERS))
    chosen = [str(s) for s in train_singers] if train_singers else \
        sorted({str(ex.group) for ex in clips} - set(VAL_SINGERS) - set(test_singers))
    if set(chosen) & held:  # str() above: numpy strings do not unpickle
        raise ConfigError(f"data.train_singers: {sorted(set(chosen) & held)} are held out"
                          + (" for testing" if may_train_on_validation else ""))
    train = [ex for ex in clips if ex.group in chosen]
    if not train:
        raise ConfigError(f"data.train_singers: no MIR-1K clips of singers {chosen}")
    val_singers = [s for s in VAL_SINGERS if s not in chosen]
    return SingerSplit(train, [ex for ex in clips if ex.group in val_singers], chosen,
                       val_singers, [str(s) for s in test_singers])


def training_instrumentals(roots: Sequence[str | Path]) -> list[Any]:
    """Vocal-free examples from folders (``"debian"``: the installed Debian game soundtracks,
    whole tracks, not the sample packs), without the detection benchmark's test tracks."""
    debian = [r for r in roots if str(r) == "debian"]
    folders = [r for r in roots if str(r) != "debian"]
    try:  # read once: it probes (and warns about) every file
        installed = load_instrumentals()
    except ConfigError:  # no Debian soundtracks: nothing of the benchmark to hold out
        if debian:
            raise
        installed = []
    examples = ([ex for ex in installed if ex.group not in SAMPLE_PACKS]
                if debian else []) + (load_instrumentals(folders) if folders else [])
    held = {Path(ex.audio).resolve() for ex in split_benchmark(installed)[1]}
    kept = [ex for ex in examples if Path(ex.audio).resolve() not in held]
    if not kept:
        raise ConfigError(f"no instrumentals left in {', '.join(map(str, roots))} once the "
                          "benchmark's test tracks are held out")
    return kept


def fit_input_stats(target: Any, data: Sequence[Any], features: Callable[[Any], torch.Tensor],
                    *, n_items: int = STATS_ITEMS) -> None:
    """Set a model's per-band input normalisation from a few training items.

    Args:
        target: has ``set_input_stats(mean, std)`` (a separator, a detector's front).
        data: training items; the first ``n_items`` are read.
        features: item -> the model's input features, (bands, frames).
    """
    with torch.no_grad():
        stacked = torch.cat([features(data[i]) for i in range(min(n_items, len(data)))], dim=-1)
    target.set_input_stats(stacked.mean(dim=-1), stacked.std(dim=-1))


def run(recipe: Recipe, model: torch.nn.Module, task: Task, train_data: Any, val_data: Any, *,
        out_dir: str | os.PathLike[str], model_config: Any, meta: Mapping[str, Any],
        command: str | None, on_progress: ProgressCallback | None) -> FitResult:
    """:func:`cantata.train.fit` under ``recipe.train``, the checkpoint named after the
    recipe and its meta holding ``command`` and the resolved recipe (``meta["recipe"]``)."""
    meta = {**meta, "command": command, "recipe": recipe.to_dict()}
    return fit(model, task, train_data, val_data, recipe.train, out_dir=out_dir,
               checkpoint_name=recipe.name, model_config=model_config, meta=meta,
               on_progress=on_progress)


_ModelT = TypeVar("_ModelT", bound=torch.nn.Module)


def init_model(path: str, model_cls: type[_ModelT], *, key: str, kind: str) -> _ModelT:
    """The trained network a recipe starts from (config key ``key``), checked to be a
    ``model_cls`` (``kind`` names it in the error).

    Raises:
        ConfigError: the checkpoint holds another kind of network.
        ModelLoadError: not a readable checkpoint.
    """
    model, checkpoint = load_checkpoint(path)
    if not isinstance(model, model_cls):
        raise ConfigError(f"{key}: {path} is a {checkpoint.name!r} checkpoint, not a {kind}")
    return model
