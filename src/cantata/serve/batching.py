"""Dynamic batching: concurrent requests to one model gathered into one forward pass.

The knobs are those of TF Serving, Triton and Ray Serve: a batch runs when it holds
``max_batch_size`` items or when its first item has waited ``max_wait_ms``; at most
``max_queue`` items wait, beyond which :meth:`DynamicBatcher.submit` refuses at once
(the server answers 503 with Retry-After). Batches run one at a time on a worker
thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Out = TypeVar("Out")


class QueueFullError(Exception):
    """The batcher's queue is full: try again later."""


@dataclass(frozen=True)
class BatchingConfig:
    """Attributes:
        max_batch_size: most items in one forward pass (1 turns batching off).
        max_wait_ms: longest a batch's first item waits for company.
        max_queue: most items waiting; more are refused with :class:`QueueFullError`.
    """

    max_batch_size: int = 32
    max_wait_ms: float = 10.0
    max_queue: int = 256

    def __post_init__(self) -> None:
        if self.max_batch_size < 1 or self.max_queue < 1 or self.max_wait_ms < 0:
            raise ValueError(f"bad batching settings: {self}")


class DynamicBatcher(Generic[Item, Out]):
    """Gathers :meth:`submit` calls into calls of ``run(items) -> outputs``.

    ``run`` returns one output per item, in order; an output that is an exception is
    raised to that item's caller only. ``on_batch(size, seconds)`` and
    ``on_queue(depth)`` report to metrics.
    """

    def __init__(self, run: Callable[[list[Item]], Sequence[Out | BaseException]],
                 config: BatchingConfig, *,
                 on_batch: Callable[[int, float], None] | None = None,
                 on_queue: Callable[[int], None] | None = None) -> None:
        self.run, self.config = run, config
        self.on_batch, self.on_queue = on_batch, on_queue
        self._waiting: deque[tuple[Item, asyncio.Future[Out]]] = deque()
        self._arrived: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="cantata-model")

    @property
    def depth(self) -> int:
        """Items waiting for a batch."""
        return len(self._waiting)

    async def start(self) -> None:
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True)

    async def submit(self, item: Item) -> Out:
        """The output for ``item``, computed in some batch.

        Raises:
            QueueFullError: ``max_queue`` items are already waiting.
        """
        assert self._arrived is not None, "start() the batcher first"
        if len(self._waiting) >= self.config.max_queue:
            raise QueueFullError(f"{self.config.max_queue} requests already waiting")
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._arrived.set()
        self._report_depth()
        return await future

    async def _loop(self) -> None:
        assert self._arrived is not None
        loop = asyncio.get_running_loop()
        while True:
            while not self._waiting:
                self._arrived.clear()
                await self._arrived.wait()
            batch = [self._waiting.popleft()]
            deadline = loop.time() + self.config.max_wait_ms / 1000
            while len(batch) < self.config.max_batch_size:
                if self._waiting:
                    batch.append(self._waiting.popleft())
                    continue
                left = deadline - loop.time()
                if left <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), left)
                except TimeoutError:
                    break
            self._report_depth()
            live = [(item, f) for item, f in batch if not f.cancelled()]  # timed-out callers
            if not live:
                continue
            start = time.perf_counter()
            try:
                outputs = await loop.run_in_executor(self._executor, self.run,
                                                     [item for item, _ in live])
            except Exception as err:  # the whole batch failed: every caller hears why
                outputs = [err] * len(live)
            if self.on_batch is not None:
                self.on_batch(len(live), time.perf_counter() - start)
            for (_, future), output in zip(live, outputs, strict=True):
                if future.cancelled():
                    continue
                if isinstance(output, BaseException):
                    future.set_exception(output)
                else:
                    future.set_result(output)

    def _report_depth(self) -> None:
        if self.on_queue is not None:
            self.on_queue(self.depth)
