"""Analyzers behind dynamic batchers: what the analysis routes submit to."""

from __future__ import annotations

from pathlib import Path

from cantata.analyzers import Analyzer, AnalyzerSpec, TrackAudio, build
from cantata.catalog import Result
from cantata.serve.batching import BatchingConfig, DynamicBatcher
from cantata.serve.metrics import Metrics


class AnalyzerService:
    """One analyzer (model loaded once) and the batcher that feeds it.

    Attributes:
        spec: which analyzer and model.
        batcher: ``await service.batcher.submit(TrackAudio)`` -> :class:`Result`.
    """

    def __init__(self, spec: AnalyzerSpec, batching: BatchingConfig, metrics: Metrics, *,
                 files_dir: Path | None = None) -> None:
        self.spec = spec
        self.analyzer: Analyzer = build(spec, files_dir=files_dir)
        name = spec.name
        self.batcher: DynamicBatcher[TrackAudio, Result] = DynamicBatcher(
            self.analyzer.analyze, batching,
            on_batch=lambda size, seconds: metrics.observe_batch(name, size, seconds),
            on_queue=metrics.queue_depth.labels(name).set)
        metrics.queue_depth.labels(name).set(0)
        self.rejected = metrics.rejected.labels(name)
