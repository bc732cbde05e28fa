"""Live detection: audio arrives in blocks, "singing started / stopped" events come out.

:class:`StreamingDetector` keeps its state explicitly (P5): a rolling window of the
latest audio and the debouncing state. Every block, the (causal) model is run over
the window and the frames that became final are fed to a debouncer: an onset is
declared once the probability stayed above ``threshold_on`` for ``min_on_s``, an
offset once it stayed below ``threshold_off`` for ``min_off_s``. Each event carries
the time the change happened (the start of the run's first frame, half a hop before its
centre: frame i is centred on ``i * hop``) and the stream time at which it was declared;
their difference is the detection latency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cantata.detect.api import VoiceDetector


@dataclass(frozen=True)
class LiveEvent:
    """A change of state of one label.

    Attributes:
        kind: ``"started"`` or ``"stopped"``.
        label: e.g. ``"vocal"``.
        time_s: stream time at which the change happened.
        declared_s: stream time of the audio received when it was declared.
    """

    kind: str
    label: str
    time_s: float
    declared_s: float

    @property
    def latency_s(self) -> float:
        return self.declared_s - self.time_s


class StreamingDetector:
    """Block-by-block detection of one label with a (preferably causal) detector.

    Example:
        >>> detector = VoiceDetector.from_pretrained("singing-causal")  # doctest: +SKIP
        >>> live = StreamingDetector(detector)                            # doctest: +SKIP
        >>> for block in blocks:                                    # doctest: +SKIP
        ...     for event in live.push(block):
        ...         print(event.kind, event.time_s)
    """

    def __init__(self, detector: VoiceDetector, *, label: str = "vocal", window_s: float = 3.0,
                 threshold_on: float = 0.5, threshold_off: float = 0.4, min_on_s: float = 0.1,
                 min_off_s: float = 0.12) -> None:
        self.detector, self.label = detector, label
        self.row = detector.labels.index(label)
        rate, hop = detector.features.sample_rate, detector.features.hop_length
        self.window = round(window_s * rate)
        self.lookahead_frames = -(-detector.features.n_fft // (2 * hop))  # frames still padded
        self.threshold_on, self.threshold_off = threshold_on, threshold_off
        self.min_on, self.min_off = max(1, round(min_on_s * rate / hop)), \
            max(1, round(min_off_s * rate / hop))
        self.reset()

    def reset(self) -> None:
        """Forget everything: a new stream starts at time 0."""
        self.buffer = np.zeros(0, np.float32)
        self.received = 0  # samples received in total
        self.next_frame = 0  # first frame not yet debounced
        self.active = False
        self.run_start = 0  # first frame of the current run towards a change
        self.run_length = 0

    @property
    def hop_s(self) -> float:
        return self.detector.hop_s

    def push(self, block: np.ndarray) -> list[LiveEvent]:
        """Feed mono samples at the detector's rate; returns the events they complete."""
        self.buffer = np.concatenate([self.buffer, block.astype(np.float32)])[-self.window:]
        self.received += len(block)
        hop = self.detector.features.hop_length
        first = (self.received - len(self.buffer) + hop - 1) // hop  # first whole frame held
        offset = first * hop - (self.received - len(self.buffer))
        probs = self.detector.probs_of(self.buffer[offset:])[self.row]
        final = max(0, len(probs) - self.lookahead_frames)  # frames whose window is complete
        events = []
        for j in range(max(0, self.next_frame - first), final):
            event = self._debounce(first + j, float(probs[j]))
            if event is not None:
                events.append(event)
        self.next_frame = max(self.next_frame, first + final)
        return events

    def _debounce(self, frame: int, prob: float) -> LiveEvent | None:
        toward_change = prob < self.threshold_off if self.active else prob > self.threshold_on
        if not toward_change:
            self.run_length = 0
            return None
        if self.run_length == 0:
            self.run_start = frame
        self.run_length += 1
        if self.run_length < (self.min_off if self.active else self.min_on):
            return None
        self.active, self.run_length = not self.active, 0
        rate = self.detector.features.sample_rate
        return LiveEvent("started" if self.active else "stopped", self.label,
                         max(0.0, (self.run_start - 0.5) * self.hop_s), self.received / rate)
