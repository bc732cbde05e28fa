"""The one feature pipeline of Cantata: STFT, log-mel, MFCC and chroma in torch.

Every model stores its :class:`FeatureConfig` beside its weights (``config.to_dict()``)
and rebuilds a :class:`FeatureExtractor` from it, so inference computes exactly the
features the model was trained on. The results match librosa 0.11 within the tolerances
stated in ``tests/features``; librosa itself is not needed.
"""

from __future__ import annotations

from cantata.features.config import FeatureConfig
from cantata.features.extract import FeatureExtractor, extract
from cantata.features.mel import mel_filterbank
from cantata.features.stft import istft, stft

__all__ = ["FeatureConfig", "FeatureExtractor", "extract", "istft", "mel_filterbank", "stft"]
