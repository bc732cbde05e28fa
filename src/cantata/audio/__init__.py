"""Audio in and out: decoding, streaming, resampling, saving, loudness."""

from cantata.audio.io import SNDFILE_SUFFIXES, AudioInfo, count_audio_streams, info, load, stream
from cantata.audio.loudness import LoudnessMeter, integrated_loudness
from cantata.audio.resample import StreamResampler, resample
from cantata.audio.save import save
from cantata.audio.stats import AudioStats, measure

__all__ = [
    "SNDFILE_SUFFIXES", "AudioInfo", "AudioStats", "LoudnessMeter", "StreamResampler",
    "count_audio_streams", "info",
    "integrated_loudness", "load", "measure", "resample", "save", "stream",
]
