"""The overall grade, A (nothing wrong) to F (broken), with its reasons in plain words.

Each finding has a severity: the grade is the worst one (A when there is none). Loudness
against a delivery target is advice, never a fault of the recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

GRADES = "ABCDF"
#: findings' thresholds
CLIP_RUNS_MINOR, CLIP_RUNS_MAJOR = 1, 10
CLIP_SHARE_SERIOUS = 1e-3  # of the recording's samples
DC_MINOR, DC_MAJOR = 0.01, 0.05
PLR_LOW_DB = 8.0
TRUE_PEAK_OVER_DBTP = 0.0
MONO_LOSS_DB = -6.0
HEAD_SILENCE_S, TAIL_SILENCE_S = 2.0, 5.0
DEFECTS_GRADE = "C"  # what the defect detector's verdict costs a recording
MIN_LOUDNESS_S = 0.4  # one gating block: shorter recordings have no integrated loudness


@dataclass(frozen=True)
class Finding:
    """One reason: its grade (B minor, C notable, D serious, F broken) and its words."""

    grade: str
    text: str


def findings(facts: dict[str, Any]) -> list[Finding]:
    """What is wrong with a report's facts (the dict of :meth:`AssessReport.to_dict`),
    worst first."""
    out: list[Finding] = []
    add = out.append
    duration = facts["duration_s"] or 0.0
    if facts["truncated"]:
        add(Finding("F", "the file is cut short: it holds less audio than its header "
                         "promises, or its stream breaks off"))
    loud = facts["loudness"]
    if loud["integrated_lufs"] is None and (duration >= MIN_LOUDNESS_S
                                            or loud.get("sample_peak_dbfs") is None):
        add(Finding("F", "it is silent"))  # (under 400 ms, loudness is not measured)
    lossy = facts["lossy"]
    if lossy["transcoded"]:
        rate = f" at about {lossy['bitrate_class']}bit/s" if lossy["bitrate_class"] else ""
        why = (f"nothing above {facts['bandwidth_hz'] / 1000:.1f} kHz survives"
               if lossy.get("evidence") != "mdct_grid" else
               "the coefficients its encoder set to zero are still zero on its frame grid")
        add(Finding("C", f"it is a lossy {_codec(lossy['codec'])}{rate} saved again in a "
                         f"lossless format: {why}"))
    if facts["upsampled"]:
        add(Finding("C", f"it was upsampled: the content stops at "
                         f"{facts['bandwidth_hz'] / 1000:.1f} kHz"))
    if facts.get("padded"):
        add(Finding("B", f"its {facts['padded']['declared_bits']}-bit samples hold only "
                         f"{facts['padded']['used_bits']} bits of audio (padded)"))
    clip = facts["clipping"]
    if clip["runs"]:
        share = clip["seconds"] / duration if duration else 0.0
        grade = "D" if share >= CLIP_SHARE_SERIOUS else \
            "C" if clip["runs"] >= CLIP_RUNS_MAJOR else "B"
        add(Finding(grade, f"it is clipped: {clip['runs']} flat-topped runs, "
                           f"{1000 * clip['seconds']:.1f} ms in all"))
    tp = loud["true_peak_dbtp"]
    if tp is not None and tp > TRUE_PEAK_OVER_DBTP:
        add(Finding("B", f"its true peak is {tp:+.2f} dBTP: it will clip when converted to a "
                         "lossy format or resampled"))
    if loud.get("plr_db") is not None and loud["plr_db"] < PLR_LOW_DB:
        add(Finding("B", f"it is heavily limited: only {loud['plr_db']:.1f} dB between its "
                         "peaks and its loudness"))
    dc = abs(facts["dc_offset"])
    if dc >= DC_MINOR:
        add(Finding("C" if dc >= DC_MAJOR else "B",
                    f"it has a DC offset of {100 * dc:.1f} % of full scale"))
    st = facts["stereo"]
    if st.get("inverted"):
        add(Finding("C", "one channel's polarity is inverted: the bass cancels in mono"))
    elif st["mono_loss_db"] is not None and st["mono_loss_db"] < MONO_LOSS_DB:
        add(Finding("B", f"it loses {-st['mono_loss_db']:.1f} dB when folded down to mono"))
    if st.get("dual_mono"):
        add(Finding("B", "both channels are the same: a mono recording in a stereo file"))
    head, tail = facts["silence"]["head_s"], facts["silence"]["tail_s"]
    if head >= HEAD_SILENCE_S or tail >= TAIL_SILENCE_S:
        add(Finding("B", f"it has {head:.1f} s of silence at the start and {tail:.1f} s at "
                         "the end"))
    defects = facts.get("defects")
    if defects and defects.get("defective"):
        found = ", ".join(f"{n} {t}" for t, n in defects.get("types", {}).items() if n)
        add(Finding(DEFECTS_GRADE, f"the defect detector found {found or 'defects'}"))
    return sorted(out, key=lambda f: -GRADES.index(f.grade))


def grade(found: list[Finding]) -> str:
    """The worst finding's grade, A for none."""
    return max((f.grade for f in found), key=GRADES.index, default="A")


def target_advice(name: str, lufs: float, gain_db: float, *, limit: bool) -> str:
    """One line on what meeting a loudness target of ``lufs`` takes: ``gain_db`` of gain,
    and a limiter when the peaks would pass the target's ceiling."""
    way = "down" if gain_db < 0 else "up"
    return (f"for {name} ({lufs:g} LUFS) it needs {abs(gain_db):.1f} dB {way}"
            + (" and a limiter for its peaks" if limit else ""))


def _codec(name: str | None) -> str:
    return {"mp3": "MP3", "aac": "AAC", "vorbis": "Ogg Vorbis", "opus": "Opus"}.get(
        name or "", name or "codec")
