"""Everything ``cantata serve`` can be told, in one frozen value."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cantata.serve.batching import BatchingConfig

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class ServeConfig:
    """Attributes:
        db: the catalog the API and the page show (None: no catalog routes' data).
        token: bearer token required on every route but ``/healthz`` (None: open; then
            only requests whose ``Host`` is this server's are answered).
        host, port: the address the server is bound to (``port`` None: any port): with no
            token, the ``Host`` header must name it or loopback, with that port (a DNS
            rebinding defence).
        allowed_hosts: more names the ``Host`` header may give, with any port (``"*"``:
            any name; for a reverse proxy or a LAN name).
        detect_model, separate_model: models behind ``/v1/detect`` and ``/v1/separate``.
        defects_model: model behind ``/v1/defects`` (None: the capability's default).
        tag_model: the tagger behind ``/v1/tag`` (None: the capability's default).
        restore_model: the restorer behind ``/v1/restore`` (None: the capability's default).
        batching: dynamic batching of ``/v1/detect`` and of any capability without its own
            ``<capability>_batching`` (``max_batch_size=1`` turns it off).
        separate_batching: the same for ``/v1/separate`` (a batch runs item by item).
        max_upload_mb: largest upload accepted (413 beyond).
        body_timeout_s: longest an upload may send nothing (408 and closed beyond).
        max_duration_s: longest audio accepted for analysis (413 beyond).
        timeout_s: longest a request waits for its result (504 beyond).
        results_dir: where separated stems are kept for download (a temporary folder
            by default); the ``keep_results`` most recent are kept.
    """

    db: Path | None = None
    token: str | None = None
    host: str = DEFAULT_HOST
    port: int | None = None
    allowed_hosts: tuple[str, ...] = ()
    detect_model: str = "singing"
    separate_model: str = "separator"
    defects_model: str | None = None
    tag_model: str | None = None
    restore_model: str | None = None
    batching: BatchingConfig = field(default_factory=BatchingConfig)
    separate_batching: BatchingConfig = field(
        default_factory=lambda: BatchingConfig(max_batch_size=4, max_wait_ms=5, max_queue=16))
    max_upload_mb: float = 100.0
    body_timeout_s: float = 30.0
    max_duration_s: float = 600.0
    timeout_s: float = 120.0
    results_dir: Path | None = None
    keep_results: int = 64

    def __post_init__(self) -> None:
        if not self.body_timeout_s > 0:
            raise ValueError(f"the body timeout must be > 0 s, not {self.body_timeout_s}")

    def host_allowed(self, name: str, port: int | None) -> bool:
        """Whether a request's ``Host`` (its name without brackets, and its port if given)
        names this server."""
        name = name.lower()
        extra = {h.lower().strip("[]") for h in self.allowed_hosts}
        if name in extra or "*" in extra:
            return True
        if name not in {*LOOPBACK_NAMES, self.host.lower().strip("[]")}:
            return False
        return self.port is None or (port or 80) == self.port

    def model_for(self, capability: str) -> str | None:
        """The model behind a capability's routes: its ``<capability>_model`` field, or
        None for the capability's default."""
        return getattr(self, f"{capability}_model", None)

    def batching_for(self, capability: str) -> BatchingConfig:
        """Batching of a capability's service: its ``<capability>_batching`` field, else
        :attr:`batching`."""
        return getattr(self, f"{capability}_batching", self.batching)
