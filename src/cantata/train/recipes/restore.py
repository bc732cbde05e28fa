"""The restorer recipe: the causal CRNN mask model on clean/noisy pairs.

After training, the default strength of the best checkpoint is chosen on the validation
pairs (:func:`~cantata.restore.calibration.calibrate_strength`).

Pairs come as folders: ``cantata data synth noisy`` output (a ``manifest.jsonl`` of
examples with ``clean`` and ``noisy`` stems), or your own recordings as ``DIR/clean/`` and
``DIR/noisy/`` holding files of the same relative names. They are split by source track
(``group``), never by clip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from cantata import audio
from cantata.data.records import MANIFEST_NAME, Example, read_manifest
from cantata.data.sources._files import audio_files
from cantata.data.split import split_by_group
from cantata.errors import ConfigError
from cantata.models.registry import build
from cantata.models.restorer import MaskCRNN, RestorerConfig
from cantata.restore.calibration import calibrate_strength
from cantata.train.config import TrainConfig
from cantata.train.events import ProgressCallback
from cantata.train.lineage import lineage_of
from cantata.train.loop import FitResult
from cantata.train.recipes import (
    DEFAULT_TRAIN,
    Recipe,
    Synth,
    fit_input_stats,
    init_model,
    run,
)
from cantata.train.tasks.restore import FixedPairs, NoisyPairs, RestoreTask


@dataclass(frozen=True)
class RestoreSynth:
    """Pairs made for the run (the debug recipe trains on them; a rerun keeps the ones
    made): synthetic songs (``OUT/synth/song``) with synthetic noise (``OUT/synth/noisy``).

    Attributes:
        songs: the clean music.
        clips: how many pairs.
        clip_s: length of each.
    """

    songs: Synth = Synth(examples=3, seconds=6.0)
    clips: int = 8
    clip_s: float = 2.0

    def make(self, out_dir: str | os.PathLike[str], sample_rate: int) -> str:
        """Make the songs, then the pairs; returns the pairs' folder."""
        from cantata.data.synth.noisy import NoisySetConfig, synthesize_noisy

        songs = self.songs.make("song", out_dir)
        folder = Path(out_dir) / "synth" / "noisy"
        config = NoisySetConfig(music=(songs,), example_s=self.clip_s, sample_rate=sample_rate,
                                p_phone=0.0)
        synthesize_noisy(hours=(self.clips - 0.5) * self.clip_s / 3600, out_dir=folder,
                         seed=self.songs.seed, config=config)
        return str(folder)


@dataclass(frozen=True)
class RestoreData:
    """The pairs to learn from.

    Attributes:
        pairs: folders of pairs (see the module docstring).
        synth: pairs made for the run, added to ``pairs``.
        segment_s: training crops.
        val_window_s: validation uses the first this-many seconds of each pair.
        validation: the fraction of the material, in whole source tracks, that validates.
    """

    pairs: tuple[str, ...] = ()
    synth: RestoreSynth | None = None
    segment_s: float = 3.0
    val_window_s: float = 6.0
    validation: float = 0.1


@dataclass(frozen=True)
class RestorerRecipe(Recipe):
    """The restorer.

    Attributes:
        data: the pairs.
        model: the network (its ``mask`` is the target: ``irm`` or ``psm``).
        init: a restorer checkpoint of the same architecture to start from (its weights and
            input normalisation), e.g. to train on at a lower learning rate or towards
            another mask target (``model.mask``).
        compress: exponent of the magnitudes the loss compares.
        suppression_weight: how much more the loss counts a bin masked below its target
            (music removed) than above it (noise left): above 1 the model learns to leave
            music alone at the cost of more residual noise.
        train: the loop's settings.
    """

    name: ClassVar[str] = "restorer"
    capability: ClassVar[str] = "restore"
    data: RestoreData = RestoreData()
    model: RestorerConfig = RestorerConfig()
    init: str | None = None
    compress: float = 0.3
    suppression_weight: float = 1.0
    train: TrainConfig = DEFAULT_TRAIN

    def __post_init__(self) -> None:
        if not 0 < self.compress <= 1:
            raise ConfigError(f"compress must be within (0, 1], got {self.compress}")
        if self.suppression_weight <= 0:
            raise ConfigError("suppression_weight must be positive, got "
                              f"{self.suppression_weight}")
        if self.data.segment_s * self.model.sample_rate < self.model.n_fft:
            raise ConfigError("data.segment_s is shorter than one STFT window")

    def fit(self, out_dir: str | os.PathLike[str], *, on_progress: ProgressCallback | None = None,
            command: str | None = None) -> FitResult:
        """See :meth:`Recipe.fit`."""
        folders = list(self.data.pairs)
        if self.data.synth is not None:
            folders.append(self.data.synth.make(out_dir, self.model.sample_rate))
        if not folders:
            raise ConfigError("no training data: set data.pairs (folders made by `cantata data "
                              "synth noisy`, or with clean/ and noisy/ subfolders) or "
                              "data.synth")
        examples = [ex for folder in folders for ex in load_pairs(folder)]
        fit_set, val_set = split_by_group(examples, validation=self.data.validation,
                                          seed=self.train.seed)
        rate = self.model.sample_rate
        train_data = NoisyPairs(fit_set, sample_rate=rate, segment_s=self.data.segment_s,
                                length=self.train.max_steps * self.train.batch_size,
                                seed=self.train.seed)
        val_data = FixedPairs(val_set, sample_rate=rate, window_s=self.data.val_window_s)
        model: MaskCRNN = build("restorer", self.model)
        if self.init is None:
            fit_input_stats(model, train_data, lambda item: _log_power(model, item["noisy"]))
        else:
            source = init_model(self.init, MaskCRNN, key="init", kind="restorer")
            if replace(source.config, mask=self.model.mask) != self.model:  # a new target is fine
                raise ConfigError(f"init: {self.init} is a restorer of another architecture "
                                  f"({source.config})")
            model.load_state_dict(source.state_dict())
        meta = {"sample_rate": rate, "mask": self.model.mask, "compress": self.compress,
                "suppression_weight": self.suppression_weight,
                "latency_s": self.model.latency_s, "init": self.init,
                "lineage": lineage_of(self.init),
                "data": {"pairs": folders, "train_pairs": len(fit_set), "val_pairs": len(val_set),
                         "train_tracks": len({ex.group for ex in fit_set}),
                         "val_tracks": len({ex.group for ex in val_set})}}
        result = run(self, model, RestoreTask(self.compress, self.suppression_weight),
                     train_data, val_data,
                     out_dir=out_dir, model_config=self.model, meta=meta, command=command,
                     on_progress=on_progress)
        calibrate_strength(result.best_path, [(item["noisy"].numpy(), item["clean"].numpy())
                                              for item in val_data])
        return result


def _log_power(model: MaskCRNN, x: Any) -> Any:
    """The model's unnormalised input of one waveform, (freq, frames)."""
    import torch

    c = model.config
    spec = torch.stft(x, c.n_fft, c.hop_length, window=torch.hann_window(c.n_fft),
                      center=False, return_complex=True)
    return model.log_power(spec.abs())


def load_pairs(folder: str | os.PathLike[str]) -> list[Example]:
    """The clean/noisy pairs of a folder (see the module docstring).

    Raises:
        ConfigError: no pairs, or a noisy file without its clean one.
    """
    root = Path(folder)
    if (root / MANIFEST_NAME).is_file():
        pairs = [ex for ex in read_manifest(root) if {"clean", "noisy"} <= set(ex.stems)]
    elif (root / "clean").is_dir() and (root / "noisy").is_dir():
        pairs = _folder_pairs(root)
    else:
        raise ConfigError(f"{root}: neither a {MANIFEST_NAME} of pairs nor clean/ and noisy/ "
                          "subfolders")
    if not pairs:
        raise ConfigError(f"{root}: no clean/noisy pairs")
    return pairs


def _folder_pairs(root: Path) -> list[Example]:
    clean = {p.relative_to(root / "clean").with_suffix(""): p
             for p in audio_files(root / "clean")}
    pairs = []
    for noisy in audio_files(root / "noisy"):
        key = noisy.relative_to(root / "noisy").with_suffix("")
        if key not in clean:
            raise ConfigError(f"{noisy}: no clean file of the same name in {root / 'clean'}")
        info = audio.info(noisy)
        pairs.append(Example(id=str(key), audio=str(noisy),
                             stems={"clean": str(clean[key]), "noisy": str(noisy)},
                             duration_s=info.duration_s, sample_rate=info.sample_rate,
                             group=str(key), source=root.name))
    return pairs

