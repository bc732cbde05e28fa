"""Does the separation depend on how loud the input is? Held-out clips at several peak levels.

Usage:
    python bench/separation_level.py [--model separator] [--clips 40] [--threads 1]
                                     [--record docs/separation.md]

The held-out MIR-1K singers' 0 dB mixes (as in ``separation_eval.py``, which puts them at a
peak of -6 dBFS) are scaled to peaks from -30 to 0 dBFS and separated through the
``Separator`` API twice: as shipped (each input scaled to a -6 dBFS peak before the network
and the stems scaled back) and with ``normalize=False`` (the network hears the level as
given). The true stems are scaled alike; BSS Eval v4 medians and SI-SDR as in
``separation_eval.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np

from _report import machine, markers, record
from cantata.separate.api import Separator
from cantata.types import Waveform
from separation_eval import _limit_threads, mir1k_items, score_item

MARK_BEGIN, MARK_END = markers("separation_level")
PEAKS_DBFS = (-30.0, -24.0, -18.0, -12.0, -6.0, 0.0)


def report(model: str, mir1k: str, clips: int) -> str:
    items = mir1k_items(mir1k, clips)
    systems = {"normalised (default)": Separator.from_pretrained(model),
               "as given (`normalize=False`)": Separator.from_pretrained(model, normalize=False)}
    rows = []
    for peak_dbfs in PEAKS_DBFS:
        cells = []
        for separator in systems.values():
            scores = []
            for item in items:
                gain = 10 ** (peak_dbfs / 20) / float(np.abs(item.mix).max())
                scaled = replace(item, mix=item.mix * gain, vocals=item.vocals * gain,
                                 accompaniment=item.accompaniment * gain)
                stems = separator.separate(Waveform(scaled.mix, scaled.sample_rate))
                scores.append(score_item(scaled, {k: stems[k].samples for k in
                                                  ("vocals", "accompaniment")}))
            med = np.nanmedian(np.array(scores), axis=0)
            cells.append(f"{med[0]:.2f} / {med[1]:.2f}")
        rows.append(f"| {peak_dbfs:+.0f} dBFS | " + " | ".join(cells) + " |")
    return "\n".join([
        MARK_BEGIN,
        f"### Separation by input level, dB ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/separation_level.py --model {model} --clips {clips}`: {len(items)} "
        "clips of the held-out MIR-1K singers, 0 dB mixes scaled to each peak; vocals SDR / "
        "SI-SDR.",
        "",
        "| mixture peak | " + " | ".join(systems) + " |",
        "|---|" + "---:|" * len(systems),
        *rows,
        MARK_END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="separator")
    parser.add_argument("--mir1k", default=str(Path(__file__).parents[2] / "shared" / "data" /
                                                "mir1k"))
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    with _limit_threads(args.threads):
        section = report(args.model, args.mir1k, args.clips)
    print(section)
    if args.record:
        record(args.record, "separation_level", section)


if __name__ == "__main__":
    main()
