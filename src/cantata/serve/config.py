"""Everything ``cantata serve`` can be told, in one frozen value."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cantata.serve.batching import BatchingConfig

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


@dataclass(frozen=True)
class ServeConfig:
    """Attributes:
        db: the catalog the API and the page show (None: no catalog routes' data).
        token: bearer token required on every route but ``/healthz`` (None: open).
        detect_model, separate_model: models behind ``/v1/detect`` and ``/v1/separate``.
        batching: dynamic batching of ``/v1/detect`` and of any capability without its own
            ``<capability>_batching`` (``max_batch_size=1`` turns it off).
        separate_batching: the same for ``/v1/separate`` (a batch runs item by item).
        max_upload_mb: largest upload accepted (413 beyond).
        max_duration_s: longest audio accepted for analysis (413 beyond).
        timeout_s: longest a request waits for its result (504 beyond).
        results_dir: where separated stems are kept for download (a temporary folder
            by default); the ``keep_results`` most recent are kept.
    """

    db: Path | None = None
    token: str | None = None
    detect_model: str = "singing"
    separate_model: str = "separator"
    batching: BatchingConfig = field(default_factory=BatchingConfig)
    separate_batching: BatchingConfig = field(
        default_factory=lambda: BatchingConfig(max_batch_size=4, max_wait_ms=5, max_queue=16))
    max_upload_mb: float = 100.0
    max_duration_s: float = 600.0
    timeout_s: float = 120.0
    results_dir: Path | None = None
    keep_results: int = 64

    def model_for(self, capability: str) -> str | None:
        """The model behind a capability's routes: its ``<capability>_model`` field, or
        None for the capability's default."""
        return getattr(self, f"{capability}_model", None)

    def batching_for(self, capability: str) -> BatchingConfig:
        """Batching of a capability's service: its ``<capability>_batching`` field, else
        :attr:`batching`."""
        return getattr(self, f"{capability}_batching", self.batching)
