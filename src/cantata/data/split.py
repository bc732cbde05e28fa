"""Train / validation splits by group (singer, speaker, song) — never by clip.

Clips of one singer share a voice, a microphone and often a song; a split by clip
lets a model score on voices it has already heard. Every split here keeps each
group whole on one side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from cantata.data.records import Example
from cantata.errors import ConfigError


def split_by_group(
    examples: Sequence[Example], *, validation: float | Sequence[str], seed: int = 0
) -> tuple[list[Example], list[Example]]:
    """Split examples into (train, validation) with every group on one side only.

    Args:
        examples: records with ``group`` set (singer, speaker, song).
        validation: the groups to hold out, by name; or a fraction of the total
            duration, filled with whole groups drawn in a seeded random order.
        seed: order in which groups are drawn for a fractional split.

    Raises:
        ConfigError: unknown group names, a fraction outside (0, 1), or a side left empty.
    """
    by_group: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_group[ex.group].append(ex)
    held = _held_out(by_group, validation, seed)
    train = [ex for ex in examples if ex.group not in held]
    valid = [ex for ex in examples if ex.group in held]
    if not train or not valid:
        raise ConfigError(f"split by group leaves a side empty ({len(by_group)} groups: "
                          f"{', '.join(sorted(by_group))})")
    return train, valid


def _held_out(by_group: dict[str, list[Example]], validation: float | Sequence[str],
              seed: int) -> set[str]:
    if not isinstance(validation, float | int):
        unknown = set(validation) - set(by_group)
        if unknown:
            raise ConfigError(f"unknown group(s) {sorted(unknown)}; groups: {sorted(by_group)}")
        return set(validation)
    if not 0 < validation < 1:
        raise ConfigError(f"validation fraction must be within (0, 1), got {validation}")
    total = sum(ex.duration_s for group in by_group.values() for ex in group)
    order = np.random.default_rng(seed).permutation(sorted(by_group))
    held: set[str] = set()
    held_s = 0.0
    for group in order:
        if held_s >= validation * total:
            break
        held.add(str(group))
        held_s += sum(ex.duration_s for ex in by_group[str(group)])
    return held
