"""Lyrics alignment on synthetic songs whose word times are known exactly.

Usage:
    python bench/lyrics_align.py SONGS_DIR [SONGS_DIR ...] [--limit N] [--model debug]
        [--language xx] [--method agnostic|sphinx]

``SONGS_DIR``: the output of ``cantata data synth song`` (``manifest.jsonl``; each song's
``meta.voice.words`` holds [start_s, end_s, text] of every sung word). The lyrics text of a
song is its words, a new line where the singer pauses (over :data:`LINE_GAP_S`) or after
:data:`LINE_WORDS` words, in the song's language; ``--line-words N``: a new line every N
words wherever the pauses are (line breaks that tell the aligner nothing). Rows, all from
one run:

- ``aligned``: ``cantata.lyrics`` end to end on the mixture (separator, singing detector,
  syllable aligner);
- ``spread``: the baseline: the same lyrics' syllables spread evenly over the same
  detected singing regions;
- ``aligned, true stem``: the aligner alone on the true vocal stem with the true singing
  regions (its ceiling: what separation and detection cost);
- with ``--method sphinx`` (English songs only; the others are skipped): ``sphinx``, the
  ``aligned`` result refined by PocketSphinx's forced alignment in the same separated stem
  (what ``cantata lyrics align --method sphinx`` does), and ``sphinx, true stem``, the
  ``aligned, true stem`` result refined in the true stem.

``--language xx``: only the songs sung in that language.

Prints mean and median absolute error of line starts and word starts, the share of line
starts within 0.5 s and 1 s, and speed (audio seconds per wall second, end to end and
of the aligner alone).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from cantata import audio
from cantata.lyrics.align import align, spread
from cantata.lyrics.api import LyricsAligner
from cantata.lyrics.nuclei import RATE, evidence
from cantata.lyrics.sphinx import is_english, sphinx_aligner
from cantata.lyrics.text import parse_lyrics

LINE_GAP_S = 0.25
LINE_WORDS = 8


def lyrics_of(words: list[list], every: int = 0) -> tuple[str, list[list[list]]]:
    """The lyrics text of sung words, and its lines' words: a line per phrase, or (``every``)
    a line of every ``every`` words."""
    lines: list[list[list]] = [[words[0]]]
    for prev, word in zip(words, words[1:], strict=False):
        if (len(lines[-1]) >= every if every else
                word[0] - prev[1] > LINE_GAP_S or len(lines[-1]) >= LINE_WORDS):
            lines.append([])
        lines[-1].append(word)
    return "\n".join(" ".join(w[2] for w in line) for line in lines), lines


def errors(timed: list, truth: list[list[list]]) -> tuple[list[float], list[float]]:
    """Absolute start errors of lines and of words."""
    lines = [abs(t.start - line[0][0]) for t, line in zip(timed, truth, strict=True)]
    words = [abs(w.start - true[0]) for t, line in zip(timed, truth, strict=True)
             for w, true in zip(t.words, line, strict=True)]
    return lines, words


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("songs", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="songs per folder (0: all)")
    parser.add_argument("--model", default=None, help="'debug' for the tiny random models")
    parser.add_argument("--line-words", type=int, default=0, metavar="N",
                        help="a line every N words, wherever the pauses are (default: a line "
                             "per sung phrase)")
    parser.add_argument("--language", metavar="XX", help="only the songs in this language")
    parser.add_argument("--method", choices=("agnostic", "sphinx"), default="agnostic",
                        help="sphinx: also PocketSphinx's forced alignment (English songs)")
    args = parser.parse_args()
    aligner = LyricsAligner.from_pretrained(args.model)
    sphinx = sphinx_aligner() if args.method == "sphinx" else None
    names = ["aligned", "spread", "aligned, true stem"]
    names += ["sphinx", "sphinx, true stem"] if sphinx else []
    rows: dict[str, dict[str, list[float]]] = {k: {"line": [], "word": []} for k in names}
    audio_s = wall_s = align_s = sphinx_s = 0.0
    n_songs = 0
    for folder in args.songs:
        items = [json.loads(x) for x in (folder / "manifest.jsonl").read_text().splitlines()]
        for item in items[: args.limit or None]:
            voice = item["meta"].get("voice") or {}
            words = [w for w in voice.get("words", []) if w[0] < item["duration_s"] - 0.2]
            if not words:
                continue
            text, truth = lyrics_of(words, args.line_words)
            language = voice.get("language")
            if (args.language and language != args.language
                    or sphinx and not is_english(language)):
                continue
            t0 = time.perf_counter()
            result = aligner.align(folder / item["audio"], text, language=language)
            wall_s += time.perf_counter() - t0
            audio_s += item["duration_s"]
            n_songs += 1
            lines = parse_lyrics(text, language)
            baseline = spread(lines, result.singing, item["duration_s"])
            stem = audio.resample(audio.load(folder / item["stems"]["vocals"]).to_mono(), RATE)
            t0 = time.perf_counter()
            ev = evidence(stem.samples[0], RATE)
            true_regions = [(a, b) for a, b, label in item["regions"] if label == "vocal"]
            ceiling = align(lines, ev, true_regions)
            align_s += time.perf_counter() - t0
            timings = {"aligned": result.lines, "spread": baseline,
                       "aligned, true stem": ceiling}
            if sphinx:
                wav = audio.load(folder / item["audio"])
                sep = audio.resample(aligner.separator.separate(wav)["vocals"].to_mono(), RATE)
                t0 = time.perf_counter()
                timings["sphinx"] = sphinx.refine(sep.samples[0], result.lines,
                                                  result.singing)[0]
                sphinx_s += time.perf_counter() - t0
                timings["sphinx, true stem"] = sphinx.refine(stem.samples[0], ceiling,
                                                             true_regions)[0]
            for name, timed in timings.items():
                line_err, word_err = errors(timed, truth)
                rows[name]["line"] += line_err
                rows[name]["word"] += word_err
            print(f"{item['id']}: {len(truth)} lines, line-start median error "
                  f"{np.median(errors(result.lines, truth)[0]):.2f} s "
                  f"(spread {np.median(errors(baseline, truth)[0]):.2f} s)", flush=True)
    n_lines = len(rows["aligned"]["line"])
    n_words = len(rows["aligned"]["word"])
    print(f"\n{n_songs} songs, {audio_s:.0f} s of audio, {n_lines} lines, {n_words} words; "
          f"models: {aligner.name}; lines: "
          f"{f'every {args.line_words} words' if args.line_words else 'sung phrases'}")
    print("| method | line start mean / median (s) | lines within 0.5 s / 1 s "
          "| word start mean / median (s) | words within 0.5 s |")
    print("|---|---|---|---|---|")
    for name, errs in rows.items():
        line, word = np.array(errs["line"]), np.array(errs["word"])
        print(f"| {name} | {line.mean():.2f} / {np.median(line):.2f} | "
              f"{100 * (line <= 0.5).mean():.0f} % / {100 * (line <= 1.0).mean():.0f} % | "
              f"{word.mean():.2f} / {np.median(word):.2f} | {100 * (word <= 0.5).mean():.0f} % |")
    print(f"\nspeed: end to end {audio_s / wall_s:.1f}x real time; the aligner alone (syllable "
          f"evidence + dynamic program) {audio_s / align_s:.0f}x real time"
          + (f"; PocketSphinx's forced alignment alone {audio_s / sphinx_s:.0f}x real time"
             if sphinx else ""))


if __name__ == "__main__":
    main()
