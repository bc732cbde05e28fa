"""Restoration: declicking (detection and AR interpolation) and denoising (a causal CRNN
mask on the STFT, streaming).

``cantata.restore`` is both this package and a function: ``cantata.restore("take.wav")``
returns the restored :class:`~cantata.types.Waveform` of a file or waveform with the
shipped restorer. For control (strength, one model load for many files, files out, live
streams), use :class:`AudioRestorer`. Modules: :mod:`~cantata.restore.declick`
(numpy/scipy), :mod:`~cantata.restore.streaming` (the stateful denoiser),
:mod:`~cantata.restore.api` and :mod:`~cantata.restore.metrics`.
"""

from __future__ import annotations

import sys
from typing import Any

from cantata._callable import CallablePackage


def __getattr__(name: str) -> Any:  # lazy: importing the package does not load torch
    if name in ("AudioRestorer", "restore"):
        from cantata.restore import api

        return getattr(api, name)
    raise AttributeError(f"module 'cantata.restore' has no attribute {name!r}")


class _Package(CallablePackage):
    FUNCTION = "cantata.restore.api:restore"


sys.modules[__name__].__class__ = _Package
