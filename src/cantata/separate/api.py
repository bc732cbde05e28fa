"""The separation API: load a separator once, split many songs into stems.

:class:`Separator` turns a file or a :class:`~cantata.types.Waveform` into
:class:`~cantata.types.Stems` at the input's own rate and channel count, or streams a
file of any length straight into one audio file per stem
(:meth:`Separator.separate_to_files`): decoding, separation
(:mod:`cantata.engine.overlap_add`) and writing proceed block by block, so a 1-hour song
never sits whole in memory.

With a gate (``Separator.from_pretrained(..., gate=True)``), the singing detector runs
first and the network is skipped where nobody sings (:mod:`.gating`).

The network hears every input at one level: the mixture is scaled so that its peak
sits at :data:`TARGET_PEAK` and the stems are scaled back (``normalize=False`` turns this
off), so separating ``c * x`` gives ``c`` times the stems of ``x``: a quietly mastered
song separates as well as a loud one.
"""

from __future__ import annotations

import logging
import os
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cantata import audio
from cantata.audio.save import (
    FORMATS,
    LOSSY_BITRATES,
    SUBTYPE_ALIASES,
    AudioWriter,
    open_writer,
    parse_bitrate,
)
from cantata.capabilities import capability, load, model_path
from cantata.engine.overlap_add import (
    EngineConfig,
    WindowSeparator,
    separate_array,
    separate_stream,
)
from cantata.errors import AudioSaveError, ConfigError
from cantata.files import check_overwrite, temp_beside
from cantata.separate.gating import GateConfig, SkipPlan
from cantata.types import Segment, Source, Stems, Waveform, as_source

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: the tiny random model for tests and offline smoke runs (P8)
DEBUG_NAME = "debug"
#: the singing detector a ``gate=True`` separator consults
DEFAULT_GATE_DETECTOR = "singing"
#: seconds decoded at a time when streaming a file
DECODE_BLOCK_S = 10.0
#: output sample formats by the CLI's ``--bits``
BITS = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}
#: the output formats :meth:`Separator.separate_to_files` writes
OUTPUT_FORMATS = ("wav", "flac", *LOSSY_BITRATES)
#: the default output names: ``<input stem>/<stem>.<format>``
DEFAULT_FILENAME = "{track}/{stem}.{ext}"
#: the keys of an output name template (as Demucs's ``--filename`` has them)
FILENAME_KEYS = ("track", "stem", "ext", "trackext")
#: the peak the input is scaled to before separation (-6 dBFS: the middle of the training
#: mixes' -12...0 dBFS peaks)
TARGET_PEAK = 0.5
#: the largest such gain (60 dB): near-silent input is not blown up further
MAX_GAIN = 1000.0
#: what :meth:`Separator.separate_to_files` does when stems would exceed full scale in an
#: integer or lossy output: scale all of a file's stems down by one gain (Demucs's default),
#: or clip the samples beyond it
CLIP_MODES = ("rescale", "clamp")
#: the peak of a rescaled file's loudest stem (Demucs's 1/1.01: room for encoders' overshoot)
RESCALE_PEAK = 1 / 1.01


def level_gain(peak: float) -> float:
    """The gain that brings an input peaking at ``peak`` to :data:`TARGET_PEAK` (at most
    :data:`MAX_GAIN`; 1 for silence or a non-finite peak)."""
    if not np.isfinite(peak) or peak <= 0.0:
        return 1.0
    return min(TARGET_PEAK / peak, MAX_GAIN)


class Detector(Protocol):
    """What gating needs of a detector (e.g. :class:`~cantata.detect.api.VoiceDetector`)."""

    def detect(self, src: PathLike | Waveform) -> list[Segment]: ...


@dataclass(frozen=True)
class StemFiles(Mapping[str, Path]):
    """The files :meth:`Separator.separate_to_files` wrote: a mapping stem name -> path.

    Attributes:
        paths: stem name -> file written (``DIR/<input stem>/<stem>.<ext>``).
        input: the file separated.
        sample_rate: rate of the input and of every stem file.
        n_channels: channels of the input and of every stem file.
        duration_s: length of the input (and of every stem file).
        skipped_s: seconds where the network was skipped (gated mode).
        rescale_gain: the gain every stem was scaled by so that none clips (1.0: none).
        clipped_samples: stem samples clipped at full scale (``clip_mode="clamp"``).
    """

    paths: dict[str, Path]
    input: str
    sample_rate: int
    n_channels: int
    duration_s: float
    skipped_s: float = 0.0
    rescale_gain: float = 1.0
    clipped_samples: int = 0

    def __getitem__(self, stem: str) -> Path:
        return self.paths[stem]

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


class Separator:
    """A vocal / accompaniment separator with its windowing and optional gate.

    Example:
        >>> separator = Separator.from_pretrained("separator")            # doctest: +SKIP
        >>> stems = separator.separate("song.mp3")                        # doctest: +SKIP
        >>> stems["vocals"].samples.shape                                 # doctest: +SKIP
        (2, 10584000)
        >>> separator.separate_to_files("song.mp3", "stems/")             # doctest: +SKIP
        StemFiles(paths={'vocals': PosixPath('stems/song/vocals.wav'), ...}, ...)
    """

    def __init__(self, backend: WindowSeparator, *, name: str = "",
                 detector: Detector | None = None, gate_config: GateConfig | None = None,
                 engine: EngineConfig | None = None, normalize: bool = True) -> None:
        """Wrap a window separator.

        Args:
            backend: maps one window (channels, time) to (stems, channels, time), e.g. a
                :class:`~cantata.separate.spectral.SpectralSeparator`.
            name: what the model was loaded as (for messages).
            detector: the singing detector of gated mode; None separates everything.
            gate_config: what gated mode skips; default :class:`GateConfig`.
            engine: windowing; default :class:`EngineConfig`, its hop aligned to the
                network's frame grid (:func:`frame_period_s`).
            normalize: scale each input to a peak of :data:`TARGET_PEAK` before
                separating it, and the stems back (see the module docstring).
        """
        self.backend, self.name, self.detector = backend, name, detector
        self.normalize = normalize
        self.gate_config = gate_config or GateConfig()
        self.engine = (engine or EngineConfig()).aligned(frame_period_s(backend))
        if detector is not None and self.gate_config.bypass_stem not in self.stems:
            raise ConfigError(f"gating needs a {self.gate_config.bypass_stem!r} stem; "
                              f"{name or 'the separator'} has {list(self.stems)}")

    @classmethod
    def from_pretrained(cls, name_or_path: PathLike = "separator", *, mask: str | None = None,
                        wiener: int = 0, gate: bool | str | Detector | None = None,
                        engine: EngineConfig | None = None,
                        gate_config: GateConfig | None = None,
                        normalize: bool = True) -> Separator:
        """Load a shipped model by name (``cantata models``), ``"debug"``, or a checkpoint.

        Args:
            name_or_path: ``"separator"`` (shipped), ``"debug"`` (tiny, random) or a path.
            mask: None for the model's own masks, ``"irm"`` for real [0, 1] masks from any
                model, or the kind it predicts (see :func:`load_backend`).
            wiener: iterations of multichannel Wiener filtering of the masked stems (0:
                none).
            gate: True (the shipped singing detector), a detector name or path, or a
                detector object: skip the network where it finds no singing.
            engine, gate_config: windowing and gating settings.
            normalize: separate every input at one peak level (see the class).

        Raises:
            ModelLoadError: unknown name, missing weights, or a bad checkpoint.
            ConfigError: ``mask`` does not match the checkpoint.
        """
        backend = load_backend(name_or_path, mask=mask, wiener=wiener)
        return cls(backend, name=str(name_or_path), detector=resolve_gate(gate),
                   gate_config=gate_config, engine=engine, normalize=normalize)

    @property
    def stems(self) -> tuple[str, ...]:
        """Names of the stems the model puts out, e.g. ``("vocals", "accompaniment")``."""
        return tuple(self.backend.stems)

    def separate(self, src: Source, sr: int | None = None, *, sample_rate: int | None = None,
                 on_progress: Callable[[float], None] | None = None) -> Stems:
        """Split a file, a waveform or an array into stems, held in memory.

        Args:
            src: an audio file (any format :func:`cantata.audio.load` reads), a Waveform,
                or an array ``y`` in any layout :class:`~cantata.types.Waveform` accepts.
            sr: the array's sample rate (librosa's name; ``sample_rate=`` is the same).
            on_progress: called with the seconds of audio finished, window by window.

        Returns:
            :class:`~cantata.types.Stems`: every stem at the input's rate and channel count
            and exactly as long as the input.

        Raises:
            AudioLoadError: the file cannot be read.
        """
        src = as_source(src, sr, sample_rate=sample_rate)
        wav = src if isinstance(src, Waveform) else audio.load(src)
        plan = self._plan(src, wav.duration_s, wav.sample_rate)
        gain = level_gain(float(np.abs(wav.samples).max(initial=0.0))) if self.normalize \
            else 1.0
        out = separate_array(self.backend, wav.samples * np.float32(gain),
                             sample_rate=wav.sample_rate, config=self.engine, gate=plan,
                             on_progress=on_progress) / np.float32(gain)
        stems = {name: Waveform(out[i], wav.sample_rate) for i, name in enumerate(self.stems)}
        return Stems(stems, wav.sample_rate, input=None if isinstance(src, Waveform)
                     else os.fspath(src), skipped_s=plan.skipped_s if plan else 0.0)

    def output_paths(self, path: PathLike, out_dir: PathLike, *,
                     stems: Sequence[str] | None = None, format: str = "wav",
                     filename: str = DEFAULT_FILENAME,
                     track: str | None = None) -> dict[str, Path]:
        """Where :meth:`separate_to_files` writes: ``out_dir/<filename>``, by default
        ``out_dir/<input stem>/<stem>.<format>``.

        Args:
            filename: a template of :data:`FILENAME_KEYS` (see :func:`expand_filename`).
            track: the ``{track}`` name (default: the input's name without its suffix).

        Raises:
            ConfigError: an unknown stem, format or template key.
        """
        if format not in OUTPUT_FORMATS:
            raise ConfigError(f"output format must be one of {list(OUTPUT_FORMATS)}, "
                              f"got {format!r}")
        source = Path(path)
        keys = {"track": source.stem if track is None else track,
                "trackext": source.suffix.lstrip("."), "ext": format}
        return {stem: Path(out_dir) / expand_filename(filename, stem=stem, **keys)
                for stem in self._check_stems(stems)}

    def separate_to_files(self, path: PathLike, out_dir: PathLike, *,
                          stems: Sequence[str] | None = None, format: str = "wav",
                          bits: str = "16", overwrite: bool = False,
                          on_progress: Callable[[float], None] | None = None,
                          bitrate: str | None = None, filename: str = DEFAULT_FILENAME,
                          track: str | None = None, clip_mode: str = "rescale") -> StemFiles:
        """Separate a file of any length into ``out_dir/<input stem>/<stem>.<format>``
        (or where ``filename`` says: :meth:`output_paths`).

        The file is decoded, separated and written block by block (bounded memory); with
        ``normalize``, a first pass decodes it to find its peak.
        Each stem goes to a temporary file in the destination folder that is renamed into
        place when complete, so no half-written stem ever carries the real name.

        Args:
            path: the audio file.
            out_dir: the folder that receives the ``<input stem>/`` folder.
            stems: which stems to write (default: all the model's).
            format: ``"wav"``, ``"flac"``, or lossy: ``"mp3"``, ``"ogg"``, ``"opus"``,
                ``"m4a"`` (encoded block by block too; see :func:`cantata.audio.save.open_writer`).
            bits: ``"16"``, ``"24"`` or ``"32f"`` (32-bit float, wav only; lossy formats
                ignore it). Integer and lossy formats cannot hold samples beyond full scale:
                see ``clip_mode``. Float keeps every stem at the input's level.
            overwrite: replace existing stem files; otherwise they are an error, raised
                before any work.
            on_progress: called with the seconds of audio finished, window by window.
            bitrate: of a lossy format, e.g. ``"320k"`` (default: the format's own, in
                :data:`~cantata.audio.save.LOSSY_BITRATES`).
            filename, track: the output names' template and ``{track}`` (:meth:`output_paths`).
            clip_mode: when stems would exceed full scale in an integer or lossy output,
                ``"rescale"`` scales all of them down by one gain to fit (their relative
                levels stay exact; the stems are held as float in temporary files beside
                the outputs until the gain is known), ``"clamp"`` clips them. Either way a
                warning names the input, its peak and the gain or the samples clipped.

        Returns:
            :class:`StemFiles`, a mapping stem name -> path written, with the input's rate,
            channels, duration, the seconds skipped by the gate and the gain or clipping.

        Raises:
            AudioLoadError: the input cannot be read.
            AudioSaveError: ``format`` cannot hold ``bits``, or writing failed.
            OutputExistsError: a stem file exists and ``overwrite`` is false.
            ConfigError: an unknown stem, format or clip mode.
        """
        if clip_mode not in CLIP_MODES:
            raise ConfigError(f"clip_mode must be one of {list(CLIP_MODES)}, got {clip_mode!r}")
        dests = self.output_paths(path, out_dir, stems=stems, format=format,
                                  filename=filename, track=track)
        _, subtype = output_subtype(format, bits)
        if format in LOSSY_BITRATES and bitrate is not None:
            parse_bitrate(bitrate)  # a bad one fails before any work
        for dest in dests.values():
            check_overwrite(dest, overwrite)
        header = audio.info(path)
        plan = self._plan(path, header.duration_s, header.sample_rate)
        peak = file_peak(path) if self.normalize else None
        gain = np.float32(level_gain(peak) if peak is not None else 1.0)
        blocks = (block.samples * gain
                  for block in audio.stream(path, block_s=DECODE_BLOCK_S))
        out = separate_stream(self.backend, blocks, sample_rate=header.sample_rate,
                              config=self.engine, gate=plan, on_progress=on_progress)
        index = [self.stems.index(stem) for stem in dests]
        n_samples, fit, n_over = _write_stems(
            (block[index] / gain for block in out), dests, clip_mode=clip_mode,
            sample_rate=header.sample_rate, n_channels=header.n_channels, format=format,
            subtype=subtype, bitrate=bitrate)
        if n_over:
            _warn_level(path, file_peak(path) if peak is None else peak, fit, n_over)
        return StemFiles(dests, os.fspath(path), header.sample_rate, header.n_channels,
                         n_samples / header.sample_rate, plan.skipped_s if plan else 0.0,
                         rescale_gain=fit, clipped_samples=n_over if fit == 1.0 else 0)

    def _plan(self, src: PathLike | Waveform, duration_s: float,
              sample_rate: int) -> SkipPlan | None:
        if self.detector is None:
            return None
        segments = self.detector.detect(src)
        return SkipPlan.from_segments(segments, duration_s=duration_s, sample_rate=sample_rate,
                                      config=self.gate_config)

    def _check_stems(self, stems: Sequence[str] | None) -> tuple[str, ...]:
        if stems is None:
            return self.stems
        unknown = [s for s in stems if s not in self.stems]
        if unknown or not stems or len(set(stems)) != len(stems):
            raise ConfigError(f"stems must be distinct names among {list(self.stems)}, got "
                              f"{list(stems)}")
        return tuple(stems)


def output_subtype(format: str, bits: str) -> tuple[str, str]:
    """(libsndfile format, subtype) for ``format`` (wav, flac) and ``bits`` (16, 24, 32f);
    a lossy format (mp3, ogg, opus, m4a) ignores ``bits``: (its name, ``"PCM_16"``).

    Raises:
        AudioSaveError: the format cannot hold that sample format (flac and 32f).
        ConfigError: unknown format or bits.
    """
    suffix = f".{format}"
    if format not in OUTPUT_FORMATS:
        raise ConfigError(f"output format must be one of {list(OUTPUT_FORMATS)}, "
                          f"got {format!r}")
    subtype = BITS.get(bits) or SUBTYPE_ALIASES.get(bits, bits).upper()
    if subtype not in BITS.values():
        raise ConfigError(f"bits must be one of {list(BITS)}, got {bits!r}")
    if format in LOSSY_BITRATES:
        return format, "PCM_16"
    fmt, allowed = FORMATS[suffix]
    if subtype not in allowed:
        names = [b for b, s in BITS.items() if s in allowed]
        raise AudioSaveError(f"*{suffix}", f"{format} cannot hold {subtype} samples "
                                           f"(use bits {' or '.join(names)}, or wav)")
    return fmt, subtype


def check_filename(template: str) -> None:
    """Refuse a ``--filename`` template with a key not in :data:`FILENAME_KEYS`, no key
    at all, or a name that leaves the output folder.

    Raises:
        ConfigError: naming the template and the problem.
    """
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template)
                  if field is not None]
    except ValueError as err:
        raise ConfigError(f"--filename: bad template {template!r} ({err})") from err
    for field in fields:
        if field not in FILENAME_KEYS:
            raise ConfigError(f"--filename: unknown key {{{field}}} (keys: "
                              f"{', '.join(FILENAME_KEYS)})")
    name = Path(template)
    if not template.strip() or name.is_absolute() or ".." in name.parts:
        raise ConfigError(f"--filename: {template!r} must be a relative name inside the "
                          "output folder")


def expand_filename(template: str, **keys: str) -> Path:
    """The relative output path of one stem: ``template`` (:data:`FILENAME_KEYS`) filled in.

    Example:
        >>> expand_filename("{track}/{stem}.{ext}", track="song", stem="vocals", ext="wav",
        ...                 trackext="mp3")
        PosixPath('song/vocals.wav')

    Raises:
        ConfigError: see :func:`check_filename`.
    """
    check_filename(template)
    return Path(template.format(**keys))


class _StemWriters:
    """One incremental writer per stem, to temporary files renamed into place on success."""

    def __init__(self, dests: Mapping[str, Path], *, sample_rate: int, n_channels: int,
                 format: str, subtype: str, bitrate: str | None = None) -> None:
        self.dests, self.subtype = dict(dests), subtype
        self.settings = dict(sample_rate=sample_rate, n_channels=n_channels, format=format,
                             subtype=subtype, bitrate=bitrate)
        self.files: list[tuple[Path, Path, AudioWriter]] = []
        self.n_samples = self.n_clipped = 0

    def __enter__(self) -> _StemWriters:
        try:
            for dest in self.dests.values():
                dest.parent.mkdir(parents=True, exist_ok=True)
                tmp = temp_beside(dest)
                self.files.append((tmp, dest, open_writer(tmp, **self.settings)))
        except OSError as err:
            self._discard()
            raise AudioSaveError(dest, f"cannot write ({err})") from err
        except AudioSaveError as err:
            self._discard()
            raise AudioSaveError(dest, err.problem) from err
        return self

    def write(self, block: np.ndarray) -> None:
        """Append (stems, channels, time) to the stem files, in ``dests`` order."""
        if self.subtype != "FLOAT":
            over = np.abs(block) > 1.0
            if over.any():
                self.n_clipped += int(over.sum())
                block = np.clip(block, -1.0, 1.0)
        for (_, dest, handle), samples in zip(self.files, block, strict=True):
            try:
                handle.write(samples)
            except AudioSaveError as err:
                raise AudioSaveError(dest, err.problem) from err
        self.n_samples += block.shape[2]

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if error is not None:
            self._discard()
            return
        try:
            for tmp, dest, handle in self.files:
                handle.close()
                os.replace(tmp, dest)
        except OSError as err:
            self._discard()
            raise AudioSaveError(dest, f"write failed ({err})") from err
        except AudioSaveError as err:
            self._discard()
            raise AudioSaveError(dest, err.problem) from err

    def _discard(self) -> None:
        for tmp, _, handle in self.files:
            handle.discard()
            tmp.unlink(missing_ok=True)


def _write_stems(blocks: Iterator[np.ndarray], dests: Mapping[str, Path], *, clip_mode: str,
                 **settings: Any) -> tuple[int, float, int]:
    """Write separated blocks (stems, channels, time) to ``dests`` (``settings``: those of
    :class:`_StemWriters`), rescaled or clamped to full scale (``clip_mode``).

    Returns:
        (samples per stem written, the gain applied, samples that were beyond full scale).
    """
    if clip_mode == "rescale" and settings["subtype"] != "FLOAT":
        return _write_rescaled(blocks, dests, **settings)
    with _StemWriters(dests, **settings) as writers:
        for block in blocks:
            writers.write(block)
    return writers.n_samples, 1.0, writers.n_clipped


def _write_rescaled(blocks: Iterator[np.ndarray], dests: Mapping[str, Path],
                    **settings: Any) -> tuple[int, float, int]:
    """:func:`_write_stems` by way of float copies: once the loudest sample of all stems is
    known, every stem is written scaled by the one gain that brings it to
    :data:`RESCALE_PEAK` (or as it is, when nothing exceeds full scale)."""
    spill = _FloatSpill(dests, sample_rate=settings["sample_rate"],
                        n_channels=settings["n_channels"])
    try:
        for block in blocks:
            spill.write(block)
        gain = RESCALE_PEAK / spill.peak if spill.n_over else 1.0
        with _StemWriters(dests, **settings) as writers:
            for block in spill.blocks():
                writers.write(block * np.float32(gain))
    finally:
        spill.remove()
    return writers.n_samples, gain, spill.n_over


class _FloatSpill:
    """Stems as 32-bit float in temporary files beside their destinations (a killed run's
    are swept like any ``.part`` file), with their peak and the samples beyond full scale."""

    def __init__(self, dests: Mapping[str, Path], *, sample_rate: int, n_channels: int) -> None:
        self.paths: list[Path] = []
        self.writers: list[AudioWriter] = []
        self.peak, self.n_over = 0.0, 0
        try:
            for dest in dests.values():
                dest.parent.mkdir(parents=True, exist_ok=True)
                self.paths.append(temp_beside(dest))
                self.writers.append(open_writer(self.paths[-1], format="wav", subtype="FLOAT",
                                                sample_rate=sample_rate, n_channels=n_channels))
        except OSError as err:
            self.remove()
            raise AudioSaveError(dest, f"cannot write ({err})") from err
        except AudioSaveError:
            self.remove()
            raise

    def write(self, block: np.ndarray) -> None:
        """Append (stems, channels, time)."""
        magnitude = np.abs(block)
        self.peak = max(self.peak, float(magnitude.max(initial=0.0)))
        self.n_over += int(np.count_nonzero(magnitude > 1.0))
        for writer, samples in zip(self.writers, block, strict=True):
            writer.write(samples)

    def blocks(self) -> Iterator[np.ndarray]:
        """Finish the files and read them back, (stems, channels, time) a block at a time."""
        for writer in self.writers:
            writer.close()
        streams = [audio.stream(p, block_s=DECODE_BLOCK_S) for p in self.paths]
        for parts in zip(*streams, strict=True):
            yield np.stack([part.samples for part in parts])

    def remove(self) -> None:
        """Delete the files (raises nothing)."""
        for writer in self.writers:
            writer.discard()
        for path in self.paths:
            path.unlink(missing_ok=True)


def _warn_level(path: PathLike, peak: float, gain: float, n_over: int) -> None:
    """Say that the stems of ``path`` (peaking at ``peak``) were rescaled or clipped."""
    level = f"{os.fspath(path)}: peak {20 * np.log10(max(peak, 1e-10)):+.1f} dBFS:"
    if gain < 1.0:
        log.warning("%s %d stem samples would exceed full scale; all stems rescaled by "
                    "%.1f dB to fit (--bits 32f keeps the level, --clip-mode clamp clips "
                    "instead)", level, n_over, 20 * np.log10(gain))
    else:
        log.warning("%s clipped %d stem samples at full scale (--clip-mode rescale scales "
                    "the stems to fit, --bits 32f keeps the level)", level, n_over)


def file_peak(path: PathLike) -> float:
    """The largest absolute sample of an audio file, decoded block by block."""
    return max((float(np.abs(block.samples).max(initial=0.0))
                for block in audio.stream(path, block_s=DECODE_BLOCK_S)), default=0.0)


def load_backend(name_or_path: PathLike, *, mask: str | None = None,
                 wiener: int = 0) -> WindowSeparator:
    """The window separator for a shipped name, ``"debug"`` or a checkpoint path.

    Args:
        name_or_path: ``"separator"``, ``"debug"`` or a checkpoint file.
        mask: None (the model's own masks); ``"irm"`` (real masks in [0, 1] from any model,
            keeping the mixture's phase); or the kind the model predicts. For ``"debug"``
            it picks the kind the tiny model predicts.
        wiener: iterations of multichannel Wiener filtering of the masked stems (0: none;
            see :mod:`cantata.separate.wiener`).

    Raises:
        ModelLoadError: unknown name, missing weights, or a bad checkpoint.
        ConfigError: ``mask`` is neither None, ``"irm"`` nor the model's own kind.
    """
    name = os.fspath(name_or_path)
    if name == DEBUG_NAME:
        from cantata.models.separator import debug_separator
        from cantata.separate.spectral import SpectralSeparator

        return SpectralSeparator(debug_separator(mask or "irm"), wiener=wiener)
    path = model_path(name, "separate")
    from cantata.separate.spectral import SpectralSeparator

    return SpectralSeparator.from_checkpoint(path, mask=mask, wiener=wiener)


def frame_period_s(backend: WindowSeparator) -> float:
    """Seconds between the network's frames (STFT hop x downsampling in time) of a
    :class:`~cantata.separate.spectral.SpectralSeparator`; 0 for another separator."""
    features = getattr(backend, "features", None)
    config = getattr(getattr(backend, "model", None), "config", None)
    if features is None:
        return 0.0
    stride = getattr(config, "total_stride", (1, 1))[1]
    return features.hop_length * stride / features.sample_rate


def resolve_gate(gate: bool | str | Detector | None) -> Detector | None:
    """The detector of gated mode: None/False (none), True (the shipped singing
    detector), a detector name or checkpoint path, or a detector object.

    Names are loaded through the capability registry's ``detect`` API, so separation does
    not import detection: the detector is injected.
    """
    if gate is None or gate is False:
        return None
    if gate is True or isinstance(gate, str | os.PathLike):
        detector_api = load(capability("detect").api)
        return detector_api.from_pretrained(DEFAULT_GATE_DETECTOR if gate is True else gate)
    if not callable(getattr(gate, "detect", None)):
        raise ConfigError(f"gate must be a bool, a detector name or a detector, got {gate!r}")
    return gate


def separate(src: Source, sr: int | None = None, *, sample_rate: int | None = None,
             model: str = "separator") -> Stems:
    """Vocals and accompaniment of a recording, with a shipped model (loaded once per name).

    Args:
        src: an audio file, a :class:`~cantata.types.Waveform`, or an array ``y`` of
            samples: (time,), (channels, time), or (time, channels) as ``soundfile.read``
            gives it; integer PCM is scaled to [-1, 1).
        sr: the array's sample rate (librosa's name; ``sample_rate=`` is the same).
        model: ``"separator"``, a checkpoint path, or ``"debug"``.

    Returns:
        :class:`~cantata.types.Stems`, a mapping stem name -> Waveform at the input's rate
        and channel count.

    Example:
        >>> y, sr = soundfile.read("song.wav")           # doctest: +SKIP
        >>> stems = cantata.separate(y, sr=sr)           # doctest: +SKIP
        >>> list(stems), stems["vocals"].samples.shape   # doctest: +SKIP
        (['vocals', 'accompaniment'], (2, 10584000))
    """
    return _cached(model).separate(src, sr, sample_rate=sample_rate)


_SEPARATORS: dict[str, Separator] = {}


def _cached(name: str) -> Separator:
    if name not in _SEPARATORS:
        _SEPARATORS[name] = Separator.from_pretrained(name)
    return _SEPARATORS[name]
