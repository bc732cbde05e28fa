"""Write compressed formats libsndfile cannot (mp3, m4a/aac, opus, wma) with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from cantata.types import Waveform

#: suffix -> (PyAV codec, sample format the encoder takes, sample rate it needs or None)
CODECS = {
    ".mp3": ("libmp3lame", "fltp", None),
    ".m4a": ("aac", "fltp", None),
    ".opus": ("libopus", "flt", 48000),
    ".wma": ("wmav2", "fltp", None),
}
LAYOUTS = {1: "mono", 2: "stereo"}


def write_compressed(path: str | Path, wav: Waveform, *, bit_rate: int = 128_000) -> Path:
    """Encode ``wav`` (1 or 2 channels) into the format named by the suffix."""
    path = Path(path)
    codec, sample_format, needed_rate = CODECS[path.suffix.lower()]
    if needed_rate is not None and wav.sample_rate != needed_rate:
        raise ValueError(f"{codec} needs {needed_rate} Hz, got {wav.sample_rate}")
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=wav.sample_rate,
                                      layout=LAYOUTS[wav.n_channels])
        stream.bit_rate = bit_rate
        step = 1024
        for start in range(0, wav.n_samples, step):
            chunk = wav.samples[:, start:start + step]
            if sample_format == "flt":
                chunk = chunk.T.reshape(1, -1)  # packed: (1, time * channels)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=sample_format,
                                               layout=LAYOUTS[wav.n_channels])
            frame.sample_rate, frame.pts = wav.sample_rate, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
