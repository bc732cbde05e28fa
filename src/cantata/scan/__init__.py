"""The catalog-wide scan: find a library's audio, run analyzers on it, fill the catalog.

``scan(root, catalog, specs)`` does it all; backends run the same :class:`Worker` here
(in-process or a process pool) or on a Ray cluster.
"""

from cantata.scan.plan import Job, Plan, discover, plan
from cantata.scan.runner import BACKENDS, ScanSummary, default_files_dir, scan
from cantata.scan.worker import Outcome, Worker

__all__ = ["BACKENDS", "Job", "Outcome", "Plan", "ScanSummary", "Worker", "default_files_dir",
           "discover", "plan", "scan"]
