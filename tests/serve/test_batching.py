"""The dynamic batcher: batch size and wait limits, the bounded queue, errors per item."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cantata.serve.batching import BatchingConfig, DynamicBatcher, QueueFullError


def run(coro):
    return asyncio.run(coro)


async def started(fn, **config):
    sizes: list[int] = []
    batcher = DynamicBatcher(fn, BatchingConfig(**config),
                             on_batch=lambda size, seconds: sizes.append(size))
    await batcher.start()
    return batcher, sizes


def test_concurrent_items_share_batches_of_at_most_max_size():
    async def main():
        batcher, sizes = await started(lambda xs: [x * 10 for x in xs], max_batch_size=4,
                                       max_wait_ms=50)
        out = await asyncio.gather(*(batcher.submit(i) for i in range(10)))
        await batcher.stop()
        return out, sizes

    out, sizes = run(main())
    assert out == [i * 10 for i in range(10)]  # each caller gets its own output
    assert sizes == [4, 4, 2]


def test_a_lone_item_waits_at_most_max_wait():
    async def main():
        batcher, sizes = await started(lambda xs: xs, max_batch_size=8, max_wait_ms=30)
        start = time.perf_counter()
        await batcher.submit("x")
        waited = time.perf_counter() - start
        await batcher.stop()
        return waited, sizes

    waited, sizes = run(main())
    assert sizes == [1] and 0.025 <= waited < 1.0


def test_batch_size_one_turns_batching_off():
    async def main():
        batcher, sizes = await started(lambda xs: xs, max_batch_size=1, max_wait_ms=50)
        await asyncio.gather(*(batcher.submit(i) for i in range(3)))
        await batcher.stop()
        return sizes

    assert run(main()) == [1, 1, 1]


def test_a_full_queue_refuses_at_once():
    release = threading.Event()

    def slow(xs):
        release.wait(5)
        return xs

    async def main():
        batcher, _ = await started(slow, max_batch_size=1, max_wait_ms=0, max_queue=2)
        first = asyncio.create_task(batcher.submit(0))
        await asyncio.sleep(0.05)  # the first is running; two may wait
        waiting = [asyncio.create_task(batcher.submit(i)) for i in (1, 2)]
        await asyncio.sleep(0.01)
        assert batcher.depth == 2
        with pytest.raises(QueueFullError, match="2 requests already waiting"):
            await batcher.submit(3)
        release.set()
        out = await asyncio.gather(first, *waiting)
        await batcher.stop()
        return out

    assert run(main()) == [0, 1, 2]


def test_errors_reach_only_their_callers():
    def fn(xs):
        if "boom" in xs and len(xs) == 1:
            raise RuntimeError("the whole batch failed")
        return [ValueError(f"bad {x}") if x == "bad" else x.upper() for x in xs]

    async def main():
        batcher, _ = await started(fn, max_batch_size=4, max_wait_ms=20)
        out = await asyncio.gather(batcher.submit("a"), batcher.submit("bad"),
                                   batcher.submit("b"), return_exceptions=True)
        with pytest.raises(RuntimeError, match="whole batch"):
            await batcher.submit("boom")
        await batcher.stop()
        return out

    a, bad, b = run(main())
    assert (a, b) == ("A", "B") and isinstance(bad, ValueError)


def test_a_caller_that_gave_up_is_skipped():
    seen: list[list[int]] = []

    def fn(xs):
        seen.append(list(xs))
        time.sleep(0.05)
        return xs

    async def main():
        batcher, _ = await started(fn, max_batch_size=1, max_wait_ms=0)
        first = asyncio.create_task(batcher.submit(1))
        await asyncio.sleep(0.01)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(batcher.submit(2), 0.01)  # gives up while 1 runs
        await first
        await asyncio.sleep(0.1)
        await batcher.stop()

    run(main())
    assert seen == [[1]]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        BatchingConfig(max_batch_size=0)
