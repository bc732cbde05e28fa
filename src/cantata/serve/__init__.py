"""Serving: the HTTP API with dynamic batching, and the web page to browse the catalog."""

from cantata.serve.batching import BatchingConfig, DynamicBatcher, QueueFullError
from cantata.serve.config import ServeConfig

__all__ = ["BatchingConfig", "DynamicBatcher", "QueueFullError", "ServeConfig", "create_app"]


def create_app(config: ServeConfig):  # noqa: ANN201 (lazy: FastAPI loads on first use)
    from cantata.serve.app import create_app as build

    return build(config)
