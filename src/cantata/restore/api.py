"""Restoring recordings: declicking (AR interpolation) then denoising (the restorer's mask).

:class:`AudioRestorer` holds the model and the settings; :meth:`AudioRestorer.restore`
returns a restored :class:`~cantata.types.Waveform` at the input's rate and channel count,
exactly as long as the input; :meth:`AudioRestorer.restore_to_file` writes it atomically.
Audio at another rate than the model's is resampled to it for the mask and back.
``cantata.restore(src)`` is the one-call form.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cantata import audio
from cantata.capabilities import capability, load, model_path
from cantata.errors import ConfigError, ModelLoadError
from cantata.files import check_overwrite
from cantata.models.registry import load_checkpoint
from cantata.models.restorer import MaskCRNN
from cantata.restore.declick import DeclickConfig, declick
from cantata.restore.streaming import DEFAULT_FLOOR_DB, DEFAULT_STRENGTH, StreamingDenoiser
from cantata.types import Source, Waveform, as_source

PathLike = str | os.PathLike[str]
#: what ``--format`` accepts, and the ``--bits`` each takes
OUTPUT_FORMATS = {"wav": ("16", "24", "32f"), "flac": ("16", "24")}
_SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}


@dataclass(frozen=True)
class RestoreReport:
    """What one restoration did: the clicks filled and the model that denoised (None: no
    denoising)."""

    clicks: int
    model: str | None


class AudioRestorer:
    """Declick and denoise recordings.

    Example:
        >>> restorer = AudioRestorer.from_pretrained("restorer")        # doctest: +SKIP
        >>> clean = restorer.restore("phone-recording.wav")             # doctest: +SKIP
        >>> restorer.restore_to_file("take.flac", "restored/take.flac")  # doctest: +SKIP
        RestoreReport(clicks=3, model='restorer')

    Args:
        model: the mask network (None: no denoising).
        name: what the model was loaded as (for reports).
        denoise, declick: which steps run.
        strength: 0 leaves the audio alone, 1 applies the mask as trained, more removes
            more noise with more artefacts (see :func:`~cantata.restore.streaming.mask_gain`).
        floor_db: the most any bin is attenuated.
        declick_config: how clicks are found and filled.
    """

    def __init__(self, model: MaskCRNN | None, *, name: str = "", denoise: bool = True,
                 declick: bool = True, strength: float = DEFAULT_STRENGTH,
                 floor_db: float = DEFAULT_FLOOR_DB,
                 declick_config: DeclickConfig | None = None) -> None:
        if denoise and model is None:
            raise ConfigError("denoising needs a restorer model")
        if not 0 <= strength <= 4:
            raise ConfigError(f"strength must be within 0..4, got {strength}")
        if floor_db > 0:
            raise ConfigError(f"floor_db must be <= 0, got {floor_db}")
        self.model, self.name = model, name
        self.denoise, self.declick = denoise, declick
        self.strength, self.floor_db = strength, floor_db
        self.declick_config = declick_config or DeclickConfig()

    @classmethod
    def from_pretrained(cls, name_or_path: PathLike | None = None, *, denoise: bool = True,
                        declick: bool = True, strength: float | None = None,
                        floor_db: float = DEFAULT_FLOOR_DB) -> AudioRestorer:
        """Load a shipped restorer by name, ``"debug"`` (tiny, random) or a checkpoint
        (default: the shipped default). Without ``denoise`` no model is loaded. ``strength``
        None: the model's own, calibrated on its validation pairs (``meta["strength"]``;
        1 for a model without one).

        Raises:
            ModelLoadError: unknown name, missing weights, or not a restorer checkpoint.
        """
        if not denoise:
            return cls(None, denoise=False, declick=declick,
                       strength=DEFAULT_STRENGTH if strength is None else strength,
                       floor_db=floor_db)
        cap = capability("restore")
        name = os.fspath(name_or_path) if name_or_path is not None else cap.default_model
        calibrated = DEFAULT_STRENGTH
        if name in cap.debug:
            model = load(cap.debug[name])()
        else:
            path = model_path(name, "restore")
            model, checkpoint = load_checkpoint(path)
            if not isinstance(model, MaskCRNN):
                raise ModelLoadError(f"{path}: a {checkpoint.name!r} checkpoint, not a restorer")
            calibrated = float(checkpoint.meta.get("strength", DEFAULT_STRENGTH))
        return cls(model.eval(), name=name, denoise=True, declick=declick,
                   strength=calibrated if strength is None else strength, floor_db=floor_db)

    def streamer(self, channels: int = 1) -> StreamingDenoiser:
        """A live denoiser at the model's rate (``reset()`` between streams).

        Raises:
            ConfigError: this restorer does not denoise.
        """
        if self.model is None:
            raise ConfigError("live restoration needs the denoiser")
        return StreamingDenoiser(self.model, channels=channels, strength=self.strength,
                                 floor_db=self.floor_db)

    def restore(self, src: Source, sr: int | None = None, *, sample_rate: int | None = None
                ) -> Waveform:
        """A file, a Waveform or an array (``sr`` its rate), restored; same rate, channels
        and length as the input.

        Raises:
            AudioLoadError: the file cannot be read.
        """
        return self.restore_with_report(src, sr, sample_rate=sample_rate)[0]

    def restore_with_report(self, src: Source, sr: int | None = None, *,
                            sample_rate: int | None = None) -> tuple[Waveform, RestoreReport]:
        """:meth:`restore` and what it did."""
        src = as_source(src, sr, sample_rate=sample_rate)
        wav = src if isinstance(src, Waveform) else audio.load(src)
        x, clicks = wav.samples, 0
        if self.declick:
            x, clicks = declick(x, wav.sample_rate, self.declick_config)
        if self.denoise and self.model is not None:
            x = self._denoise(x, wav.sample_rate)
        return Waveform(x, wav.sample_rate), RestoreReport(clicks, self.name if self.denoise
                                                           else None)

    def _denoise(self, x: np.ndarray, rate: int) -> np.ndarray:
        assert self.model is not None
        model_rate = self.model.config.sample_rate
        y = x if rate == model_rate else audio.resample(Waveform(x, rate), model_rate).samples
        y = self.streamer(y.shape[0]).process_all(y)
        if rate != model_rate:
            y = audio.resample(Waveform(y, model_rate), rate).samples
        n = x.shape[1]
        return np.pad(y[:, :n], ((0, 0), (0, max(0, n - y.shape[1])))).astype(np.float32)

    def restore_to_file(self, path: PathLike, dest: PathLike, *, bits: str = "16",
                        overwrite: bool = False) -> RestoreReport:
        """Restore a file into ``dest`` (``.wav`` or ``.flac``: the format) at its rate and
        channels, written to a temporary name and renamed into place.

        Raises:
            AudioLoadError: the input cannot be read.
            OutputExistsError: ``dest`` exists and ``overwrite`` is false (checked first).
            ConfigError: an unknown format, or bits the format cannot hold.
        """
        dest = Path(dest)
        subtype = output_subtype(dest.suffix.lstrip("."), bits)
        check_overwrite(dest, overwrite)
        wav, report = self.restore_with_report(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        audio.save(dest, wav, subtype=subtype, overwrite=overwrite)
        return report


def output_subtype(format: str, bits: str) -> str:
    """The libsndfile subtype of ``bits`` in ``format``.

    Raises:
        ConfigError: an unknown format, or bits it cannot hold.
    """
    if format not in OUTPUT_FORMATS:
        raise ConfigError(f"format must be one of {list(OUTPUT_FORMATS)}, got {format!r}")
    if bits not in OUTPUT_FORMATS[format]:
        raise ConfigError(f"{format} takes bits {list(OUTPUT_FORMATS[format])}, got {bits!r}")
    return _SUBTYPES[bits]


def restore(src: Source, sr: int | None = None, *, sample_rate: int | None = None,
            model: str | None = None, denoise: bool = True, declick: bool = True,
            strength: float | None = None) -> Waveform:
    """A recording declicked and denoised, at its rate and channel count.

    Args:
        src: an audio file, a :class:`~cantata.types.Waveform`, or an array of samples
            (``sr`` its rate).
        model: a shipped restorer's name, a checkpoint or ``"debug"`` (default: the
            shipped default).
        denoise, declick: which steps run.
        strength: see :class:`AudioRestorer` (None: the model's calibrated strength).

    Example:
        >>> y, sr = soundfile.read("noisy.wav")          # doctest: +SKIP
        >>> cantata.restore(y, sr=sr).samples.shape      # doctest: +SKIP
        (2, 441000)
    """
    key = (model, denoise, declick, strength)
    if key not in _RESTORERS:
        _RESTORERS[key] = AudioRestorer.from_pretrained(model, denoise=denoise, declick=declick,
                                                        strength=strength)
    return _RESTORERS[key].restore(src, sr, sample_rate=sample_rate)


_RESTORERS: dict[tuple[str | None, bool, bool, float | None], AudioRestorer] = {}
