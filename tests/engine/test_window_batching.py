"""The one group-by-length-and-batch: every item's result exactly once, in order."""

from __future__ import annotations

import numpy as np
import pytest

from cantata.engine.batching import iter_batches, run_batches
from cantata.errors import ConfigError, ShapeError


class Recorder:
    """A "network" on lists of arrays of one length: each item's sum; records its batches."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __call__(self, items: list[np.ndarray]) -> list[float]:
        assert len({len(x) for x in items}) == 1, "a batch mixes lengths"
        self.batches.append([len(x) for x in items])
        return [float(x.sum()) for x in items]


def windows(seed: int, n: int = 60) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(int(k)) for k in rng.choice([3, 5, 8, 13], size=n)]


@pytest.mark.parametrize("batch_size", [1, 2, 7, 100])
def test_each_result_once_in_order(batch_size):
    items = windows(batch_size)
    run = Recorder()
    out = run_batches(items, run, key=len, batch_size=batch_size)
    assert out == [float(x.sum()) for x in items]
    assert max(len(b) for b in run.batches) <= batch_size
    # as few calls as the lengths allow: ceil(count / batch_size) per length
    counts = np.bincount([len(x) for x in items])
    assert len(run.batches) == sum(-(-int(c) // batch_size) for c in counts if c)


def test_groups_follow_first_appearance():
    run = Recorder()
    items = [np.ones(n) for n in (5, 3, 5, 3, 8, 5)]
    assert run_batches(items, run, key=len, batch_size=2) == [5.0, 3.0, 5.0, 3.0, 8.0, 5.0]
    assert run.batches == [[5, 5], [5], [3, 3], [8]]


def test_empty_and_bad_arguments():
    assert run_batches([], Recorder(), key=len, batch_size=4) == []
    with pytest.raises(ConfigError):
        run_batches([np.ones(2)], Recorder(), key=len, batch_size=0)
    with pytest.raises(ShapeError):
        run_batches([np.ones(2), np.ones(2)], lambda items: [0.0], key=len, batch_size=2)


def test_stream_equals_whole_and_reads_at_most_one_batch_ahead():
    items = windows(3, n=25)
    pulled = []

    def stream():
        for i, x in enumerate(items):
            pulled.append(i)
            yield x

    seen = 0
    for item, result in iter_batches(stream(), Recorder(), key=len, batch_size=4):
        assert item is items[seen] and result == float(items[seen].sum())
        seen += 1
        assert len(pulled) - seen < 4
    assert seen == len(items)
    with pytest.raises(ConfigError):
        next(iter_batches(iter(items), Recorder(), key=len, batch_size=0))
