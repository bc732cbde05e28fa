"""Writing audio files atomically, never overwriting unless asked."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from cantata.errors import AudioSaveError
from cantata.files import atomic_output, exists_problem
from cantata.types import Waveform

log = logging.getLogger(__name__)

#: Output formats by suffix, and the sample formats each accepts.
FORMATS = {".wav": ("WAV", {"PCM_16", "PCM_24", "FLOAT"}), ".flac": ("FLAC", {"PCM_16", "PCM_24"})}
#: Short names accepted for ``subtype`` (the CLI's ``--bits``).
SUBTYPE_ALIASES = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT", "float": "FLOAT"}


def save(
    path: str | os.PathLike[str],
    wav: Waveform,
    *,
    subtype: str = "PCM_16",
    overwrite: bool = False,
) -> Path:
    """Write a waveform to ``path``; the suffix picks the format (.wav or .flac).

    The file is written to a temporary name in the same folder and renamed into
    place, so a reader never sees a half-written file and a crash leaves no debris
    under the real name.

    Args:
        path: destination, ``.wav`` or ``.flac``.
        wav: samples (channels, time).
        subtype: ``"PCM_16"`` (or ``"16"``), ``"PCM_24"`` (``"24"``), or ``"FLOAT"``
            (``"32f"``, wav only). Integer formats clip samples outside [-1, 1].
        overwrite: replace an existing file; without it an existing file is an error.

    Returns:
        The path written.

    Raises:
        AudioSaveError: unknown suffix or subtype, file exists, non-finite samples,
            or the folder is not writable.
    """
    dest = Path(path)
    fmt, subtype = _resolve_format(dest, subtype)
    if dest.exists() and not overwrite:
        raise AudioSaveError(dest, exists_problem("overwrite=True"))
    samples = _checked_samples(dest, wav, subtype)
    tmp = None
    try:
        with (atomic_output(dest, overwrite=True, parents=False) as tmp,
              tmp.open("wb") as handle):
            sf.write(handle, samples.T, wav.sample_rate, subtype=subtype, format=fmt)
    except (OSError, sf.LibsndfileError) as err:
        if tmp is None:
            raise AudioSaveError(dest, f"cannot write in {dest.parent} ({err.strerror})") from err
        raise AudioSaveError(dest, f"write failed ({err})") from err
    return dest


def _resolve_format(dest: Path, subtype: str) -> tuple[str, str]:
    suffix = dest.suffix.lower()
    if suffix not in FORMATS:
        raise AudioSaveError(dest, f"unsupported output format {suffix!r} (use .wav or .flac)")
    fmt, allowed = FORMATS[suffix]
    subtype = SUBTYPE_ALIASES.get(subtype, subtype).upper()
    if subtype not in allowed:
        raise AudioSaveError(dest, f"{suffix} cannot hold {subtype} (use one of {sorted(allowed)})")
    return fmt, subtype


def _checked_samples(dest: Path, wav: Waveform, subtype: str) -> np.ndarray:
    samples = wav.samples
    if not np.isfinite(samples).all():
        raise AudioSaveError(dest, "samples contain NaN or Inf")
    if subtype != "FLOAT":
        peak = float(np.abs(samples).max(initial=0.0))
        if peak > 1.0:
            log.warning("%s: clipping %s samples above full scale (peak %.2f)", dest,
                        int((np.abs(samples) > 1.0).sum()), peak)
            samples = np.clip(samples, -1.0, 1.0)
    return samples
