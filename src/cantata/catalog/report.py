"""The catalog-wide defects report: one self-contained HTML file and its histogram PNG.

It reads the ``defects`` results a scan stored (``regions``: one per event, labelled with
its type; ``summary``: ``{"defective", "score", "types", "events"}``) and writes counts
per type, the share of tracks defective, the worst tracks with links to their pages on
the server, and a histogram, embedded as a ``data:`` URI so the file needs nothing else.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cantata.catalog.db import Catalog
from cantata.catalog.quality import with_defects
from cantata.catalog.records import Track
from cantata.data.labels import DEFECT_TYPES
from cantata.errors import CantataError
from cantata.files import check_overwrite, write_bytes_atomic, write_text_atomic

ANALYZER = "defects"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
WORST = 25
HOW_TO = "cantata scan LIBRARY --analyzers defects"


@dataclass(frozen=True)
class TrackDefects:
    """One track's defects verdict.

    Attributes:
        id, path: the track.
        score: the verdict's score (the highest frame probability of any type).
        defective: it has at least one event.
        types: events per type.
    """

    id: int
    path: str
    score: float
    defective: bool
    types: dict[str, int]

    @property
    def events(self) -> int:
        return sum(self.types.values())


@dataclass(frozen=True)
class DefectStats:
    """The catalog's defects, counted.

    Attributes:
        tracks: tracks whose file is there and that decoded.
        analyzed: those with a ``defects`` result.
        defective: those the verdict calls defective.
        events: events per type, over the catalog (every type named).
        tracks_with: tracks with at least one event, per type.
        worst: the defective tracks, highest score first (at most ``worst``).
        scores: every analyzed track's score.
        models: the detector models the results came from.
    """

    tracks: int = 0
    analyzed: int = 0
    defective: int = 0
    events: dict[str, int] = field(default_factory=dict)
    tracks_with: dict[str, int] = field(default_factory=dict)
    worst: list[TrackDefects] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def track_defects(track: Track) -> TrackDefects | None:
    """A track's defects verdict, or None without a ``defects`` result."""
    result = track.results.get(ANALYZER)
    if result is None:
        return None
    types = {str(t): int(n) for t, n in (result.summary.get("types") or {}).items()}
    for region in result.regions:  # a type the summary does not name still counts
        types.setdefault(region.label, sum(r.label == region.label for r in result.regions))
    return TrackDefects(track.id, track.path, float(result.summary.get("score", 0.0)),
                        bool(result.summary.get("defective", bool(result.regions))), types)


def defect_stats(catalog: Catalog, *, worst: int = WORST) -> DefectStats:
    """Count the catalog's ``defects`` results (tracks that are there and decoded)."""
    tracks = [t for t in catalog.iter_tracks() if t.ok and not t.missing]
    found = [d for d in map(track_defects, tracks) if d is not None]
    types = _type_order(d.types for d in found)
    models = sorted({t.results[ANALYZER].model for t in tracks if ANALYZER in t.results})
    ranked = sorted((d for d in found if d.defective), key=lambda d: (-d.score, -d.events, d.id))
    return DefectStats(
        tracks=len(tracks), analyzed=len(found), defective=sum(d.defective for d in found),
        events={t: sum(d.types.get(t, 0) for d in found) for t in types},
        tracks_with={t: sum(d.types.get(t, 0) > 0 for d in found) for t in types},
        worst=ranked[:worst], scores=[d.score for d in found], models=models)


def _type_order(counts: Iterable[dict[str, int]]) -> list[str]:
    """The detector's types in their order, then any other type found, by name."""
    seen = {t for c in counts for t in c}
    return [*DEFECT_TYPES, *sorted(seen - set(DEFECT_TYPES))]


@dataclass(frozen=True)
class WrittenReport:
    """What :func:`write_report` wrote.

    Attributes:
        html: the report.
        png: its histogram (None when the catalog holds no ``defects`` results).
        stats: what it counted.
        quality: the ``assess`` grades it counted.
    """

    html: Path
    png: Path | None
    stats: DefectStats
    quality: QualityStats | None = None


def write_report(catalog: Catalog, dest: str | os.PathLike[str], *, overwrite: bool = False,
                 base_url: str = DEFAULT_BASE_URL, worst: int = WORST) -> WrittenReport:
    """Write the report to ``dest`` (HTML) and its histogram beside it (``.png``), atomically.

    Raises:
        OutputExistsError: either file exists and ``overwrite`` is false (nothing written).
        CantataError: ``dest`` is named ``.png`` (the histogram's name).
    """
    dest = Path(dest)
    png_path = dest.with_suffix(".png")
    if dest.suffix.lower() == ".png":
        raise CantataError(f"{dest}: the report is an HTML file; name it .html (its histogram "
                           f"is written beside it as .png)")
    check_overwrite(dest, overwrite)
    check_overwrite(png_path, overwrite)
    stats = defect_stats(catalog, worst=worst)
    png = histogram_png(stats) if stats.analyzed else None
    quality = quality_stats(catalog, worst=worst)
    page = render_html(stats, png, base_url=base_url, catalog=str(catalog.path),
                       quality=quality)
    if png is not None:
        write_bytes_atomic(png_path, png, overwrite=overwrite)
    write_text_atomic(dest, page, overwrite=overwrite)
    return WrittenReport(dest, png_path if png is not None else None, stats, quality)


def histogram_png(stats: DefectStats) -> bytes:
    """A PNG: events per type (bars, and tracks with the type) and the songs' scores."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    names = list(stats.events)
    at = range(len(names))
    left.bar([i - 0.2 for i in at], [stats.events[t] for t in names], 0.4, label="events",
             color="#c2410c")
    left.bar([i + 0.2 for i in at], [stats.tracks_with[t] for t in names], 0.4,
             label="tracks", color="#2f6fdb")
    left.set_xticks(list(at), names, rotation=30, ha="right")
    left.set_title("defects per type", loc="left")
    left.legend(frameon=False)
    right.hist(stats.scores, bins=20, range=(0.0, 1.0), color="#5b6b80")
    right.axvline(0.5, color="#c2410c", lw=1, ls="--")
    right.set_title("song scores (0.5: the decision threshold)", loc="left")
    right.set_xlabel("score")
    right.set_ylabel("tracks")
    for ax in (left, right):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format="png")
    plt.close(fig)
    return buffer.getvalue()


CSS = """
body { margin: 0 auto; max-width: 1100px; padding: 1rem 1.5rem;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #dde2e8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: #2f6fdb; text-decoration: none; } .muted { color: #6b7480; }
.headline { font-size: 1.1rem; } img { max-width: 100%; }
code { background: #f0f2f5; padding: 0 .25rem; border-radius: 3px; }
"""


def render_html(stats: DefectStats, png: bytes | None, *, base_url: str = DEFAULT_BASE_URL,
                catalog: str = "", quality: QualityStats | None = None) -> str:
    """The report as one HTML document: inline CSS, the PNG as a ``data:`` URI; with
    ``quality``, the ``assess`` grades section after the defects."""
    body = _overview(stats) + (_types_table(stats) + _histogram(png)
                               + _worst_table(stats, base_url.rstrip("/"))
                               if stats.analyzed else _nothing())
    if quality is not None:
        body += _quality_section(quality, base_url.rstrip("/"))
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>Cantata defects report</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>Defects in {_e(catalog)}</h1>\n{body}</body>\n</html>\n")


def _overview(stats: DefectStats) -> str:
    share = stats.defective / stats.analyzed if stats.analyzed else 0.0
    models = f" (model {_e(', '.join(stats.models))})" if stats.models else ""
    headline = (f'<p class="headline"><b>{stats.defective} of {stats.analyzed}</b> tracks '
                f"checked are defective: <b>{share:.0%}</b>.</p>\n") if stats.analyzed else ""
    return (f'{headline}<p class="muted">{stats.tracks} tracks in the catalog, '
            f"{stats.analyzed} with defects results{models}.</p>\n")


def _nothing() -> str:
    return (f"<p>This catalog holds no defects results: run <code>{_e(HOW_TO)}</code> to "
            f"check its tracks for defects, then write this report again.</p>\n")


def _types_table(stats: DefectStats) -> str:
    rows = "".join(f'<tr><td>{_e(t)}</td><td class="num">{n}</td>'
                   f'<td class="num">{stats.tracks_with[t]}</td></tr>\n'
                   for t, n in stats.events.items())
    total = sum(stats.events.values())
    return ("<h2>Defects per type</h2>\n<table>\n<tr><th>type</th><th class=\"num\">events"
            "</th><th class=\"num\">tracks</th></tr>\n"
            f'{rows}<tr><th>all</th><th class="num">{total}</th>'
            f'<th class="num">{stats.defective}</th></tr>\n</table>\n')


def _histogram(png: bytes | None) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return (f'<h2>Histogram</h2>\n<img alt="defect events per type and song scores" '
            f'src="data:image/png;base64,{data}">\n')


def _worst_table(stats: DefectStats, base_url: str) -> str:
    if not stats.worst:
        return "<h2>Worst tracks</h2>\n<p>No track was found defective.</p>\n"
    types = [t for t, n in stats.events.items() if n]
    head = "".join(f'<th class="num">{_e(t)}</th>' for t in types)
    rows = "".join(_worst_row(d, types, base_url) for d in stats.worst)
    return (f"<h2>Worst tracks</h2>\n<p class=\"muted\">The {len(stats.worst)} defective "
            f"tracks with the highest scores; each links to its page on the server.</p>\n"
            f'<table>\n<tr><th>track</th><th class="num">score</th><th class="num">events'
            f"</th>{head}</tr>\n{rows}</table>\n")


def _worst_row(d: TrackDefects, types: list[str], base_url: str) -> str:
    counts = "".join(f'<td class="num">{d.types.get(t, 0) or ""}</td>' for t in types)
    link = f"{base_url}/tracks/{d.id}"
    return (f'<tr><td><a href="{_e(link)}">{_e(d.path)}</a></td>'
            f'<td class="num">{d.score:.2f}</td><td class="num">{d.events}</td>{counts}</tr>\n')


@dataclass(frozen=True)
class QualityStats:
    """The catalog's ``assess`` results, counted.

    Attributes:
        analyzed: tracks (there, decoded) with an ``assess`` result.
        grades: tracks per grade, A to F.
        findings: tracks with each finding (transcoded, upsampled, clipped, too loud ...).
        worst: (id, path, grade, reasons) of the worst graded tracks, worst first.
    """

    analyzed: int = 0
    grades: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    worst: list[tuple[int, str, str, list[str]]] = field(default_factory=list)


def quality_stats(catalog: Catalog, *, worst: int = WORST) -> QualityStats:
    """Count the catalog's ``assess`` results (tracks that are there and decoded), graded
    with their ``defects`` results."""
    found = [(t, s) for t in catalog.iter_tracks() if t.ok and not t.missing
             and (s := with_defects(t)) is not None]
    grades = {g: sum(s.get("grade") == g for _, s in found) for g in "ABCDF"}
    checks = {
        "lossy file saved as lossless": lambda s: s["lossy"]["transcoded"],
        "upsampled": lambda s: s["upsampled"],
        "clipped": lambda s: s["clipping"]["runs"] > 0,
        "louder than -13 LUFS": lambda s: (s["loudness"]["targets"]["streaming"]["gain_db"]
                                           or 0) < -1.0,
        "true peak over 0 dBTP": lambda s: (s["loudness"]["true_peak_dbtp"] or -99) > 0,
        "truncated": lambda s: s["truncated"],
    }
    counts = {name: sum(bool(check(s)) for _, s in found) for name, check in checks.items()}
    ranked = sorted(found, key=lambda ts: (-"ABCDF".index(ts[1].get("grade", "A")), ts[0].id))
    bad = [(t.id, t.path, s["grade"], list(s.get("reasons", []))) for t, s in ranked
           if s.get("grade", "A") != "A"]
    return QualityStats(len(found), grades, counts, bad[:worst])


def _quality_section(q: QualityStats, base_url: str) -> str:
    if not q.analyzed:
        return ("<h2>Quality</h2>\n<p>This catalog holds no quality results: run "
                "<code>cantata scan LIBRARY --analyzers assess</code>.</p>\n")
    grades = "".join(f'<td class="num">{q.grades[g]}</td>' for g in q.grades)
    head = "".join(f'<th class="num">{g}</th>' for g in q.grades)
    findings = "".join(f'<tr><td>{_e(k)}</td><td class="num">{n}</td></tr>\n'
                       for k, n in q.findings.items())
    rows = "".join(f'<tr><td><a href="{_e(f"{base_url}/tracks/{tid}")}">{_e(path)}</a></td>'
                   f"<td>{_e(grade)}</td><td>{_e('; '.join(reasons))}</td></tr>\n"
                   for tid, path, grade, reasons in q.worst)
    worst = (f"<table>\n<tr><th>track</th><th>grade</th><th>reasons</th></tr>\n{rows}"
             f"</table>\n" if rows else "<p>Every track assessed is graded A.</p>\n")
    return (f"<h2>Quality</h2>\n<p class=\"muted\">{q.analyzed} tracks assessed "
            f"(<code>cantata assess</code>; grades A best to F broken).</p>\n"
            f"<table>\n<tr>{head}</tr>\n<tr>{grades}</tr>\n</table>\n"
            f"<h2>Quality findings</h2>\n<table>\n<tr><th>finding</th>"
            f'<th class="num">tracks</th></tr>\n{findings}</table>\n'
            f"<h2>Worst graded tracks</h2>\n{worst}")


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


__all__ = ["DEFAULT_BASE_URL", "DefectStats", "QualityStats", "TrackDefects", "WrittenReport",
           "defect_stats", "histogram_png", "quality_stats", "render_html", "track_defects",
           "write_report"]
