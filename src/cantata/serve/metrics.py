"""The server's Prometheus metrics: requests, latency, batch sizes, queue depth."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class Metrics:
    """One registry per app (so tests and several apps in one process do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("cantata_requests_total", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("cantata_request_seconds", "HTTP request latency",
                                 ["method", "route"], buckets=LATENCY_BUCKETS,
                                 registry=self.registry)
        self.batch_size = Histogram("cantata_batch_size", "items per forward pass",
                                    ["model"], buckets=BATCH_BUCKETS, registry=self.registry)
        self.batch_seconds = Histogram("cantata_batch_seconds", "seconds per batch",
                                       ["model"], buckets=LATENCY_BUCKETS,
                                       registry=self.registry)
        self.queue_depth = Gauge("cantata_queue_depth", "requests waiting for a batch",
                                 ["model"], registry=self.registry)
        self.rejected = Counter("cantata_rejected_total", "requests refused: queue full",
                                ["model"], registry=self.registry)

    def observe_batch(self, model: str, size: int, seconds: float) -> None:
        self.batch_size.labels(model).observe(size)
        self.batch_seconds.labels(model).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition format."""
        return generate_latest(self.registry)
