"""Running many windows through a network: windows of one length share a forward pass.

The one "group by length, then batch" of Cantata: detection batches its stitched windows
across files, embedding its segments, separation its full windows. Grouping changes
nothing but the speed: each item's result is the one it would get alone (up to the
network's own batch invariance).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

from cantata.errors import ConfigError, ShapeError

Item = TypeVar("Item")
Result = TypeVar("Result")
#: Runs one batch of items with one key; returns one result per item, in order.
BatchFn = Callable[[list[Item]], Sequence[Result]]


def run_batches(items: Sequence[Item], run: BatchFn[Item, Result], *,
                key: Callable[[Item], Hashable], batch_size: int) -> list[Result]:
    """Each item's result, in the items' order; items of one key run ``batch_size`` at a time.

    Groups are formed in order of each key's first appearance, and items within a group
    keep their order, so the batches (and therefore the results) are deterministic.

    Args:
        items: e.g. windows of audio or features, of any lengths.
        run: maps a list of items of one key (at most ``batch_size``) to their results.
        key: what items must share to be batched, usually their length.
        batch_size: the most items per call of ``run`` (>= 1).

    Returns:
        ``run``'s result for every item, exactly once, in order.

    Raises:
        ConfigError: ``batch_size`` < 1.
        ShapeError: ``run`` returned the wrong number of results.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    groups: dict[Hashable, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(key(item), []).append(i)
    out: list[Result | None] = [None] * len(items)
    for indices in groups.values():
        for start in range(0, len(indices), batch_size):
            group = indices[start:start + batch_size]
            results = run([items[i] for i in group])
            if len(results) != len(group):
                raise ShapeError(f"a batch of {len(group)} items gave {len(results)} results")
            for i, result in zip(group, results, strict=True):
                out[i] = result
    return out  # type: ignore[return-value]  # every slot was filled


def iter_batches(items: Iterable[Item], run: BatchFn[Item, Result], *,
                 key: Callable[[Item], Hashable],
                 batch_size: int) -> Iterator[tuple[Item, Result]]:
    """:func:`run_batches` over a stream: takes ``batch_size`` items at a time (bounded
    memory), groups them by key, and yields ``(item, result)`` in the items' order."""
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
    it = iter(items)
    while chunk := list(islice(it, batch_size)):
        yield from zip(chunk, run_batches(chunk, run, key=key, batch_size=batch_size),
                       strict=True)
