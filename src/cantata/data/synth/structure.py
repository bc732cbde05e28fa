"""Song structure: which stretches of a synthetic song have voice, backing, or nothing.

Real songs are not wall-to-wall singing: they have instrumental intros and breaks,
a cappella passages and silences. A plan of sections decides, per stretch of time,
whether the vocal line is sung and whether the accompaniment plays; the stems are
then gated by it, and the labels follow from the gated stems.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cantata.data.synth.score import Note

#: section kind -> (vocals sung, accompaniment plays)
SECTION_KINDS = {
    "intro": (False, True),
    "verse": (True, True),
    "break": (False, True),
    "a_cappella": (True, False),
    "silence": (False, False),
    "outro": (False, True),
}
FADE_S = 0.05


@dataclass(frozen=True)
class Section:
    kind: str
    start_s: float
    end_s: float

    @property
    def vocals(self) -> bool:
        return SECTION_KINDS[self.kind][0]

    @property
    def accompaniment(self) -> bool:
        return SECTION_KINDS[self.kind][1]


def plan_sections(rng: np.random.Generator, *, duration_s: float) -> list[Section]:
    """Draw a plan: optional intro, verses with breaks / a cappella / silences, optional outro."""
    outro_s = rng.uniform(1.5, 4.0) if rng.random() < 0.4 else 0.0
    parts: list[tuple[str, float]] = []
    if rng.random() < 0.7:
        parts.append(("intro", rng.uniform(1.5, 5.0)))
    while sum(length for _, length in parts) < duration_s - outro_s:  # fill the body
        parts.append(("verse", rng.uniform(6.0, 14.0)))
        roll = rng.random()
        if roll < 0.35:
            parts.append(("break", rng.uniform(1.5, 5.0)))
        elif roll < 0.5:
            parts.append(("a_cappella", rng.uniform(2.0, 5.0)))
        elif roll < 0.62:
            parts.append(("silence", rng.uniform(0.4, 1.5)))
    body_s = duration_s - outro_s
    sections, t = [], 0.0
    for kind, length in parts:
        if t >= body_s:
            break
        sections.append(Section(kind, t, min(t + length, body_s)))
        t = sections[-1].end_s
    if outro_s:
        sections.append(Section("outro", body_s, duration_s))
    return sections


def sung_notes(melody: Sequence[Note], sections: Sequence[Section]) -> list[Note]:
    """The notes that fall wholly inside sections where the vocals are sung."""
    sung = [s for s in sections if s.vocals]
    return [n for n in melody
            if any(s.start_s <= n.start_s and n.end_s <= s.end_s for s in sung)]


def accompaniment_gain(sections: Sequence[Section], *, n_samples: int,
                       sample_rate: int) -> np.ndarray:
    """Gain curve (time,) that is 1 where the accompaniment plays, 0 elsewhere, with fades."""
    gain = np.zeros(n_samples, np.float32)
    for s in sections:
        if s.accompaniment:
            gain[round(s.start_s * sample_rate):round(s.end_s * sample_rate)] = 1.0
    fade = max(1, round(FADE_S * sample_rate))
    kernel = np.ones(fade, np.float32) / fade
    return np.convolve(gain, kernel, mode="same").astype(np.float32)
