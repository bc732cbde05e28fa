"""Real encoder damage for the ``codec`` defect: FFmpeg encoders through PyAV (and GSM).

Every function takes and returns float samples (channels, time) at the clip's rate, the
output aligned sample for sample with the input (the encoder's delay is found by
cross-correlation with an undamaged decode and removed), so the caller pastes exactly
the stretch it labels.

- :func:`roundtrip`: encode and decode (very low bitrate MP3/AAC, Opus at 6 kbit/s);
- :func:`gsm_roundtrip`: GSM 06.10 through the ``ffmpeg`` command (libgsm, which PyAV's
  own FFmpeg lacks);
- :func:`corrupt_roundtrip`: flip bytes in the encoded frames of a stretch, decode back.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

import numpy as np

from cantata.audio import resample
from cantata.errors import ConfigError
from cantata.types import Waveform

#: (encoder, decoder) of each codec name used in the defect parameters.
CODECS = {"mp3": ("libmp3lame", "mp3float"), "aac": ("aac", "aac"),
          "opus": ("libopus", "libopus")}
#: Sample rates each encoder takes (the first that is <= the input's wins, else the last).
RATES = {"mp3": (48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000),
         "aac": (48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000),
         "opus": (48000, 24000, 16000, 12000, 8000)}
MAX_DELAY = 8192


def codec_rate(codec: str, rate: int, *, at_most: int | None = None) -> int:
    """The rate ``codec`` encodes ``rate`` audio at (<= ``at_most`` when given)."""
    limit = min(rate, at_most) if at_most else rate
    fitting = [r for r in RATES[codec] if r <= limit]
    return fitting[0] if fitting else RATES[codec][-1]


def roundtrip(x: np.ndarray, rate: int, *, codec: str, bit_rate: int,
              codec_sr: int, mono: bool = False) -> np.ndarray:
    """``x`` (channels, time) encoded with ``codec`` at ``bit_rate`` b/s and decoded back."""
    src = _prepare(x, rate, codec_sr, mono)
    packets, extradata = _encode(src, codec_sr, codec, bit_rate)
    decoded = _decode(packets, codec, codec_sr, src.shape[0], extradata)
    return _back(decoded, x, rate, codec_sr)


def corrupt_roundtrip(x: np.ndarray, rate: int, *, codec: str, bit_rate: int,
                      span: tuple[int, int], flips: int, seed: int) -> np.ndarray:
    """Decode of ``x`` with ``flips`` random bytes flipped in each frame over ``span``.

    Args:
        span: (start, end) samples of ``x`` whose frames are corrupted.
        flips: bytes flipped per corrupted frame.
        seed: the positions and values of the flips.
    """
    codec_sr = codec_rate(codec, rate)
    src = _prepare(x, rate, codec_sr, mono=False)
    packets, extradata = _encode(src, codec_sr, codec, bit_rate)
    clean = _decode(packets, codec, codec_sr, src.shape[0], extradata)
    lag = _lag(resample(Waveform(clean, codec_sr), rate).samples, x)
    frame = clean.shape[1] / max(1, len(packets))
    first = int((span[0] * codec_sr / rate + lag * codec_sr / rate) // frame)
    last = int(-(-(span[1] * codec_sr / rate + lag * codec_sr / rate) // frame))
    rng = np.random.default_rng(seed)
    damaged = [_flip(p, flips, rng) if first <= i < last else p for i, p in enumerate(packets)]
    decoded = _decode(damaged, codec, codec_sr, src.shape[0], extradata)
    out = resample(Waveform(decoded, codec_sr), rate).samples
    return _shift(np.clip(out, -1.0, 1.0), lag, x.shape[1])


@lru_cache(maxsize=1)
def gsm_available() -> bool:
    """Whether the ``ffmpeg`` command can encode GSM (libgsm)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return False
    listing = subprocess.run([ffmpeg, "-hide_banner", "-encoders"], capture_output=True,
                             text=True, check=False)
    return "libgsm" in listing.stdout


def gsm_roundtrip(x: np.ndarray, rate: int) -> np.ndarray:
    """``x`` through a GSM 06.10 phone line (8 kHz mono, 13 kbit/s), back at ``rate``."""
    if not gsm_available():
        raise ConfigError("GSM needs the ffmpeg command with libgsm (apt-get install ffmpeg)")
    src = _prepare(x, rate, 8000, mono=True)
    pcm = np.clip(src[0], -1.0, 1.0).astype("<f4").tobytes()
    raw = ["-f", "f32le", "-ar", "8000", "-ac", "1"]
    gsm = _ffmpeg([*raw, "-i", "pipe:0", "-c:a", "libgsm", "-f", "gsm", "pipe:1"], pcm)
    back = _ffmpeg(["-f", "gsm", "-i", "pipe:0", *raw, "pipe:1"], gsm)
    decoded = np.frombuffer(back, "<f4")[np.newaxis, :].astype(np.float32)
    return _back(decoded, x, rate, 8000)


def _ffmpeg(args: list[str], data: bytes) -> bytes:
    done = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", *args], input=data,
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise ConfigError(f"ffmpeg failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _prepare(x: np.ndarray, rate: int, codec_sr: int, mono: bool) -> np.ndarray:
    """(channels, time) at the codec's rate, mono if asked (at most stereo)."""
    wav = Waveform(x[:2], rate)
    if mono:
        wav = wav.to_mono()
    return resample(wav, codec_sr).samples


def _back(decoded: np.ndarray, x: np.ndarray, rate: int, codec_sr: int) -> np.ndarray:
    """The decode at the clip's rate, aligned to ``x``, as many channels as ``x``."""
    out = resample(Waveform(decoded, codec_sr), rate).samples
    out = _shift(out, _lag(out, x), x.shape[1])
    if out.shape[0] != x.shape[0]:
        out = np.repeat(out[:1], x.shape[0], axis=0)
    return np.clip(out, -1.0, 1.0)


def _encode(src: np.ndarray, rate: int, codec: str, bit_rate: int) -> tuple[list[bytes], bytes]:
    """Packets (bytes) of ``src`` (channels, time) and the encoder's extradata."""
    import av

    ctx = av.CodecContext.create(CODECS[codec][0], "w")
    layout = "mono" if src.shape[0] == 1 else "stereo"
    fmt = _sample_format(ctx)
    ctx.sample_rate, ctx.layout, ctx.format, ctx.bit_rate = rate, layout, fmt, bit_rate
    ctx.open()
    size = ctx.frame_size or 1024
    packets = []
    for i in range(0, src.shape[1], size):
        chunk = np.zeros((src.shape[0], size), np.float32)
        piece = src[:, i:i + size]
        chunk[:, :piece.shape[1]] = piece
        frame = av.AudioFrame.from_ndarray(_as_format(chunk, fmt), format=fmt, layout=layout)
        frame.sample_rate, frame.pts = rate, i
        packets += [bytes(p) for p in ctx.encode(frame)]
    packets += [bytes(p) for p in ctx.encode(None)]
    return packets, bytes(ctx.extradata or b"")


def _sample_format(ctx: object) -> str:
    offered = [f.name for f in (ctx.codec.audio_formats or ())]  # type: ignore[attr-defined]
    for fmt in ("fltp", "flt", "s16"):
        if fmt in offered:
            return fmt
    raise ConfigError(f"no usable sample format among {offered}")


def _as_format(chunk: np.ndarray, fmt: str) -> np.ndarray:
    clipped = np.clip(chunk, -1.0, 1.0)
    if fmt == "fltp":
        return np.ascontiguousarray(clipped)
    packed = clipped.T.reshape(1, -1)
    if fmt == "flt":
        return np.ascontiguousarray(packed)
    return np.ascontiguousarray((packed * 32767).astype(np.int16))


def _decode(packets: list[bytes], codec: str, rate: int, n_channels: int,
            extradata: bytes) -> np.ndarray:
    """Float samples (channels, time); a packet the decoder rejects becomes silence."""
    import av

    ctx = av.CodecContext.create(CODECS[codec][1], "r")
    ctx.sample_rate, ctx.layout = rate, "mono" if n_channels == 1 else "stereo"
    if extradata:
        ctx.extradata = extradata
    blocks, last = [], 0
    for data in [*packets, None]:
        try:
            frames = ctx.decode(av.Packet(data) if data is not None else None)
        except (av.FFmpegError, ValueError):
            frames = []
            blocks.append(np.zeros((n_channels, last), np.float32))
        for frame in frames:
            block = _planar(frame.to_ndarray(), n_channels)
            blocks.append(block)
            last = block.shape[1]
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((n_channels, 0), np.float32)


def _planar(a: np.ndarray, n_channels: int) -> np.ndarray:
    """A decoded frame as float (channels, time), whatever its sample format."""
    if np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.float32) / float(np.iinfo(a.dtype).max)
    if a.shape[0] != n_channels:  # packed: (1, time * channels)
        a = a.reshape(-1, n_channels).T
    return a.astype(np.float32)


def _lag(decoded: np.ndarray, x: np.ndarray) -> int:
    """Samples by which ``decoded`` trails ``x`` (0..MAX_DELAY), by cross-correlation."""
    a, b = decoded.mean(axis=0), x.mean(axis=0)
    n = min(len(a), len(b) + MAX_DELAY)
    size = 1 << int(np.ceil(np.log2(max(2, n + len(b)))))
    corr = np.fft.irfft(np.fft.rfft(a[:n], size) * np.conj(np.fft.rfft(b, size)), size)
    return int(np.argmax(corr[:MAX_DELAY + 1]))


def _shift(out: np.ndarray, lag: int, n: int) -> np.ndarray:
    """``out`` advanced by ``lag`` samples, cut or zero-padded to ``n``."""
    out = out[:, lag:lag + n]
    return np.pad(out, ((0, 0), (0, n - out.shape[1])))


def _flip(packet: bytes, flips: int, rng: np.random.Generator) -> bytes:
    """``packet`` with ``flips`` bytes at random positions replaced by random values."""
    data = bytearray(packet)
    if data:
        where = rng.integers(0, len(data), size=flips)
        data_values = rng.integers(0, 256, size=flips)
        for i, v in zip(where, data_values, strict=True):
            data[i] = int(v) if int(v) != data[i] else data[i] ^ 0xFF
    return bytes(data)
