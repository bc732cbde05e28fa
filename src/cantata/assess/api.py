"""``Assessor``: one quality report per recording (``cantata assess``, the ``assess``
analyzer, ``POST /v1/assess``)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cantata.assess import bandwidth as bw
from cantata.assess import grade as grading
from cantata.assess import signal
from cantata.assess.loudness import Loudness, measure_loudness
from cantata.errors import AudioLoadError, CantataError
from cantata.types import Waveform

#: the rule set's identity (bump when a verdict changes meaning; 2: the codec frame grid)
VERSION = "2"
MODEL = "rules"
SALVAGE_FRAMES = 4096  # a file that breaks off mid-way is decoded this much at a time


@dataclass(frozen=True)
class Target:
    """A loudness norm: integrated loudness, tolerance and true-peak ceiling."""

    key: str
    name: str
    lufs: float
    tolerance_lu: float = 1.0
    ceiling_dbtp: float = -1.0


#: the named targets of ``--target``; a number is a target of that many LUFS
TARGETS = {
    "ebu": Target("ebu_r128", "EBU R128", -23.0, 0.5),
    "streaming": Target("streaming", "streaming", -14.0, 1.0),
}
DEFAULT_TARGET = "streaming"
#: codecs whose files can hide a lossy history (lossless, or companded PCM), by upper-cased
#: prefix of the FFmpeg or libsndfile name; LOSSY: files that are lossy themselves
LOSSLESS = ("PCM", "FLOAT", "DOUBLE", "FLAC", "ALAC", "WAVPACK", "APE", "TTA", "ALAW", "ULAW",
            "DPCM", "DWVW")
LOSSY = {"MP3": "mp3", "MPEG_LAYER_III": "mp3", "AAC": "aac", "VORBIS": "vorbis",
         "OPUS": "opus", "WMA": "wma"}


def parse_target(spec: str) -> Target:
    """A ``--target``: ``ebu``, ``streaming`` or a loudness in LUFS such as ``-16``.

    Raises:
        CantataError: anything else.
    """
    if spec in TARGETS:
        return TARGETS[spec]
    try:
        lufs = float(spec.removesuffix("LUFS").strip())
    except ValueError:
        lufs = math.nan
    if not math.isfinite(lufs) or not -70 < lufs < 0:
        raise CantataError(f"--target: {spec!r} is not ebu, streaming or a loudness in LUFS "
                           "between -70 and 0 (e.g. -16)")
    return Target(f"{lufs:g}_lufs", "the target", lufs)


@dataclass(frozen=True)
class AssessReport:
    """Everything :meth:`Assessor.assess` found in one recording.

    Attributes:
        duration_s, sample_rate, channels: the decoded audio.
        codec: the file's codec ("" for a waveform).
        bandwidth: spectrum facts and the lossy/upsampled verdicts.
        lossy_file: the file itself is lossy (MP3, AAC ...): its shelf is its own.
        padded: (declared bits, used bits) of a padded integer file, or None.
        loudness: the meter's facts.
        targets: the loudness targets reported (the chosen one first).
        clipping, dc_offset, stereo: signal facts.
        silence_s: (head, tail) seconds of silence.
        truncated: the header promises more audio than the file holds, or the stream
            breaks off (a cut Ogg file, whose last page is cut or missing).
        pcm_hash: hash of the audio as 16-bit PCM (same content, same hash).
        duplicates: other inputs or tracks with the same or nearly the same content.
        defects: the defect detector's summary, when known.
    """

    duration_s: float
    sample_rate: int
    channels: int
    codec: str
    bandwidth: bw.Bandwidth
    lossy_file: str | None
    padded: tuple[int, int] | None
    loudness: Loudness
    targets: tuple[Target, ...]
    clipping: signal.Clipping
    dc_offset: float
    stereo: signal.Stereo
    silence_s: tuple[float, float]
    truncated: bool
    pcm_hash: str
    duplicates: tuple[dict[str, Any], ...] = ()
    defects: dict[str, Any] | None = None

    def with_context(self, *, duplicates: list[dict[str, Any]] | None = None,
                     defects: dict[str, Any] | None = None) -> AssessReport:
        """The report with duplicates and the defects summary joined (grade redone)."""
        return replace(self, duplicates=tuple(duplicates if duplicates is not None
                                              else self.duplicates),
                       defects=defects if defects is not None else self.defects)

    def to_dict(self, file: str) -> dict[str, Any]:
        """The issue's JSON object of one input (non-finite levels as None)."""
        b, loud = self.bandwidth, self.loudness
        if self.lossy_file is not None:
            lossy = {"transcoded": False, "codec": self.lossy_file,
                     "bitrate_class": None, "confidence": None, "evidence": None}
        else:
            lossy = {"transcoded": b.transcoded, "codec": b.codec,
                     "bitrate_class": b.bitrate_class, "confidence": round(b.confidence, 3),
                     "evidence": b.evidence}
        out: dict[str, Any] = {
            "file": file, "duration_s": round(self.duration_s, 3),
            "bandwidth_hz": round(b.bandwidth_hz), "lossy": lossy,
            "upsampled": b.upsampled and self.lossy_file is None,
            "upsampled_from_hz": b.upsampled_from if self.lossy_file is None else None,
            "padded": None if self.padded is None else
            {"declared_bits": self.padded[0], "used_bits": self.padded[1]},
            "loudness": {
                "integrated_lufs": _r(loud.integrated_lufs), "range_lu": _r(loud.range_lu),
                "true_peak_dbtp": _r(loud.true_peak_dbtp),
                "sample_peak_dbfs": _r(loud.sample_peak_dbfs), "plr_db": _r(loud.plr_db),
                "targets": {t.key: self._target(t) for t in self.targets}},
            "clipping": {"runs": self.clipping.runs,
                         "seconds": round(self.clipping.seconds, 4),
                         "worst_s": round(self.clipping.worst_s, 4)},
            "dc_offset": round(self.dc_offset, 6),
            "stereo": {"correlation": _r(self.stereo.correlation, 3),
                       "mono_loss_db": _r(self.stereo.mono_loss_db),
                       "dual_mono": self.stereo.dual_mono, "inverted": self.stereo.inverted},
            "silence": {"head_s": round(self.silence_s[0], 2),
                        "tail_s": round(self.silence_s[1], 2)},
            "truncated": self.truncated,
            "pcm_hash": self.pcm_hash,
            "duplicates": [dict(d) for d in self.duplicates],
            "defects": self.defects,
        }
        found = grading.findings(out)
        out["grade"] = grading.grade(found)
        out["reasons"] = [f.text for f in found] + self._advice()
        return out

    def _target(self, t: Target) -> dict[str, Any]:
        lufs = self.loudness.integrated_lufs
        if not math.isfinite(lufs):
            return {"ok": False, "gain_db": None}
        gain = t.lufs - lufs
        ok = abs(gain) <= t.tolerance_lu and self.loudness.true_peak_dbtp <= t.ceiling_dbtp
        return {"ok": bool(ok), "gain_db": round(gain, 1)}

    def _advice(self) -> list[str]:
        """The chosen target's advice (the first), when it is not met."""
        t = self.targets[0]
        lufs = self.loudness.integrated_lufs
        if not math.isfinite(lufs) or self._target(t)["ok"]:
            return []
        gain = t.lufs - lufs
        peak = self.loudness.true_peak_dbtp
        if abs(gain) <= t.tolerance_lu:
            return [f"for {t.name} its true peak ({peak:+.1f} dBTP) must come down to "
                    f"{t.ceiling_dbtp:g} dBTP: it needs a limiter"]
        return [grading.target_advice(t.name, t.lufs, gain,
                                      limit=peak + gain > t.ceiling_dbtp)]


class Assessor:
    """Measures a recording's quality: rule-based, nothing to load.

    Example:
        >>> report = Assessor().assess("song.flac")                  # doctest: +SKIP
        >>> report.to_dict("song.flac")["grade"]                     # doctest: +SKIP
        'B'
    """

    name = MODEL

    def __init__(self, *, target: str = DEFAULT_TARGET) -> None:
        chosen = parse_target(target)
        self.targets = (chosen, *(t for t in TARGETS.values() if t.key != chosen.key))

    @classmethod
    def from_pretrained(cls, name_or_path: str | None = None, *,
                        target: str = DEFAULT_TARGET) -> Assessor:
        """The rule set (the template's constructor): ``None`` or ``"rules"``.

        Raises:
            CantataError: any other name (there are no trained models).
        """
        if name_or_path not in (None, MODEL):
            raise CantataError(f"assess: unknown model {name_or_path!r} (available: {MODEL})")
        return cls(target=target)

    def assess(self, src: str | os.PathLike[str] | Waveform, *,
               file: str | os.PathLike[str] | None = None) -> AssessReport:
        """Assess a file (decoded whole) or a waveform; ``file``: the file a waveform was
        decoded from, whose header gives its codec, bit depth and promised length. A file
        whose data breaks off (a cut FLAC) is assessed as far as it decodes, and truncated.

        Raises:
            AudioLoadError: the file cannot be decoded.
            CantataError: no audio samples.
        """
        from cantata import audio
        from cantata.audio.stats import is_truncated

        if isinstance(src, Waveform) and file is None:
            return self.measure(src)
        header = audio.info(file if file is not None else src)  # type: ignore[arg-type]
        broken = False
        if isinstance(src, Waveform):
            wav = src
        else:
            try:
                wav = audio.load(src)
            except AudioLoadError as err:  # a cut FLAC: keep what decodes before the cut
                wav, broken = _salvage(src, err), True
        decoded = replace(header, duration_s=wav.duration_s)
        return self.measure(wav, codec=header.codec,
                            truncated=broken or is_truncated(decoded))

    def measure(self, wav: Waveform, *, codec: str = "", truncated: bool = False
                ) -> AssessReport:
        """Assess decoded audio; ``codec``: the file's (its lossy history and bit depth)."""
        x, rate = wav.samples, wav.sample_rate
        if x.shape[1] == 0:
            raise CantataError("no audio samples to assess")
        bits = _declared_bits(codec)
        padded = bw.padded_bits(x, bits)
        return AssessReport(
            duration_s=wav.duration_s, sample_rate=rate, channels=wav.n_channels, codec=codec,
            bandwidth=bw.analyse(x, rate, grid=_lossy(codec) is None),
            lossy_file=_lossy(codec),
            padded=None if padded is None else (bits or 0, padded),
            loudness=measure_loudness(x, rate), targets=self.targets,
            clipping=signal.clipping(x, rate), dc_offset=signal.dc_offset(x),
            stereo=signal.stereo(x), silence_s=signal.silence(x, rate), truncated=truncated,
            pcm_hash=signal.pcm_hash(x))


def _salvage(path: str | os.PathLike[str], err: AudioLoadError) -> Waveform:
    """The audio of a file libsndfile stops decoding part-way (a FLAC cut short loses
    sync), read :data:`SALVAGE_FRAMES` at a time up to the failure.

    Raises:
        AudioLoadError: ``err``, when not even the first frames decode.
    """
    import soundfile as sf

    blocks: list[np.ndarray] = []
    try:
        with sf.SoundFile(os.fspath(path)) as f:
            rate = int(f.samplerate)
            while len(data := f.read(SALVAGE_FRAMES, dtype="float32", always_2d=True)):
                blocks.append(data.T)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    if not blocks:
        raise err
    return Waveform(np.concatenate(blocks, axis=1), rate)


def _declared_bits(codec: str) -> int | None:
    """24 for ``PCM_24``, ``pcm_s24le`` ..., None for float or lossy codecs."""
    upper = codec.upper()
    for bits in (32, 24, 16, 8):
        if upper.startswith(("PCM", "FLAC")) and str(bits) in upper:
            return bits
    return None


def _lossy(codec: str) -> str | None:
    """The lossy codec a file holds, by its header, or None (lossless or unknown)."""
    upper = codec.upper()
    if not upper or upper.startswith(LOSSLESS):
        return None
    return next((name for key, name in LOSSY.items() if upper.startswith(key)), None)


def _r(x: float | None, digits: int = 2) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)
