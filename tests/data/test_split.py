"""Splits keep every group (singer, speaker) on one side."""

from __future__ import annotations

import pytest

from cantata.data.records import Example
from cantata.data.split import split_by_group
from cantata.errors import ConfigError


def clips(groups: dict[str, int]) -> list[Example]:
    return [Example(id=f"{g}_{i}", audio=f"{g}_{i}.wav", duration_s=10.0, group=g)
            for g, n in groups.items() for i in range(n)]


def test_fraction_split_keeps_groups_whole_and_is_seeded():
    examples = clips({"amy": 13, "bug": 4, "fdps": 5, "jmzen": 5, "stool": 4, "tammy": 1})
    train, valid = split_by_group(examples, validation=0.25, seed=3)
    assert not {ex.group for ex in train} & {ex.group for ex in valid}
    assert len(train) + len(valid) == len(examples)
    assert sum(ex.duration_s for ex in valid) >= 0.25 * 320
    again = split_by_group(examples, validation=0.25, seed=3)[1]
    assert [ex.id for ex in again] == [ex.id for ex in valid]
    other_seeds = {tuple(sorted({e.group for e in split_by_group(examples, validation=0.25,
                                                               seed=s)[1]})) for s in range(10)}
    assert len(other_seeds) > 1


def test_named_groups():
    train, valid = split_by_group(clips({"a": 2, "b": 3, "c": 1}), validation=["b"])
    assert {ex.group for ex in valid} == {"b"} and len(train) == 3


@pytest.mark.parametrize("validation", [["nobody"], 0.0, 1.5, ["a", "b"]])
def test_bad_splits(validation):
    with pytest.raises(ConfigError):
        split_by_group(clips({"a": 2, "b": 3}), validation=validation)
