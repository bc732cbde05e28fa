"""Music quality assessment: one report per recording (``cantata assess``).

Bandwidth and lossy history (:mod:`~cantata.assess.bandwidth`), loudness
(:mod:`~cantata.assess.loudness`), signal problems (:mod:`~cantata.assess.signal`),
duplicates (:mod:`~cantata.assess.duplicates`) and an overall grade with its reasons
(:mod:`~cantata.assess.grade`), behind :class:`Assessor`.
"""

from cantata.assess.api import TARGETS, Assessor, AssessReport, parse_target

__all__ = ["TARGETS", "AssessReport", "Assessor", "parse_target"]
