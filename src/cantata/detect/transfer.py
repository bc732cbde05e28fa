"""Transfer from speech to singing: move the bottom conv blocks of a speech detector.

The bottom blocks (closest to the input) learn general spectro-temporal patterns;
higher ones grow speech-specific. ``transfer`` copies blocks ``0 .. K-1`` of a
trained speech detector's front into a singing detector, in one of three modes:

- ``"fixed"``: copied and frozen (weights and batch-norm statistics);
- ``"finetune"``: copied, then trained with the rest;
- ``"none"``: nothing copied (the from-scratch baseline).
"""

from __future__ import annotations

from typing import Literal

from cantata.errors import ConfigError
from cantata.models.detector import SingingDetector, SpeechDetector

Mode = Literal["fixed", "finetune", "none"]
MODES = ("fixed", "finetune", "none")


def transfer(source: SpeechDetector, target: SingingDetector, *, n_layers: int | str,
             mode: Mode) -> int:
    """Copy the bottom ``n_layers`` front blocks (an int, or ``"all"``) into ``target``.

    The input normalisation statistics come along with the first block, since the
    copied filters were learnt on features normalised that way.

    Returns:
        The number of blocks copied.

    Raises:
        ConfigError: unknown mode, a bad layer count, or blocks whose shapes differ.
    """
    if mode not in MODES:
        raise ConfigError(f"transfer mode must be one of {MODES}, got {mode!r}")
    available = min(len(source.front.blocks), len(target.front.blocks))
    k = available if n_layers == "all" else int(n_layers)
    if mode == "none":
        return 0
    if not 1 <= k <= available:
        raise ConfigError(f"can move 1..{available} conv layers, asked for {n_layers}")
    for i in range(k):
        src, dst = source.front.blocks[i].state_dict(), target.front.blocks[i].state_dict()
        mismatch = [n for n in dst if src[n].shape != dst[n].shape]
        if mismatch:
            raise ConfigError(f"conv layer {i + 1} differs in shape between the speech and "
                              f"singing detectors ({', '.join(mismatch)}); use the same front")
        target.front.blocks[i].load_state_dict(src)
    target.front.input_mean.copy_(source.front.input_mean)
    target.front.input_std.copy_(source.front.input_std)
    if mode == "fixed":
        for block in target.front.blocks[:k]:
            block.requires_grad_(False)
        target.frozen_blocks = k
    return k
