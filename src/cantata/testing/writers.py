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


def write_search_library(folder: str | Path, *, sample_rate: int = 16000,
                         noise_suffix: str = ".flac") -> Path:
    """Three tracks of plainly different sounds for query-by-example tests: ``tones.wav``
    (220, 330, 440 Hz, 3 s each), ``sweeps.wav`` (six 1.5 s chirps) and ``noise`` (8 s);
    returns the folder."""
    import soundfile as sf

    from cantata.testing.signals import chirp, noise, sine

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sf.write(str(folder / "tones.wav"), np.concatenate(
        [sine(f, duration_s=3).samples[0] for f in (220, 330, 440)]), sample_rate)
    sf.write(str(folder / "sweeps.wav"), np.tile(chirp(duration_s=1.5).samples[0], 6),
             sample_rate)
    sf.write(str(folder / f"noise{noise_suffix}"),
             noise(duration_s=8, amplitude=0.2, seed=4).samples[0], sample_rate)
    return folder
