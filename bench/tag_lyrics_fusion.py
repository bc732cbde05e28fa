"""Lyrics fusion for tagging, measured: audio alone, lyrics alone, late and joint fusion.

Usage:
    python bench/tag_lyrics_fusion.py AUDIO_RUN [--clips 240] [--record]

A task where the lyrics carry signal, built honestly from parts with known truth: clips of
``cantata.data.synth.tag_clips`` (tags ``tone``, ``high``, ``noise``, ``beat``: in the
audio only) each get a lyric of three generated lines, about the night for a random half of
them (tag ``night``: in the lyrics only), about everyday things otherwise; the words of the
two topics overlap (both use the same frames and many of the same words), so ``night`` is
not a keyword lookup. A sixth tag, ``lullaby``, needs both: a night lyric over a clip
without ``beat``. Two disjoint sets are made (seeds 2 and 3): one fits the heads, one
tests.

Representations: the audio is the trained tagger ``AUDIO_RUN``'s penultimate layer averaged
over the clip's chunks (it never trained on ``night``); the lyrics are ``wordllama``'s 256-d
embedding (``pip install 'cantata[lyrics]'``; weights in the wheel, loaded offline). Per tag a
logistic head is fitted on the first set for: audio alone, lyrics alone, **late fusion** (the
mean of the two heads' probabilities) and **joint fusion** (one head over the concatenated,
standardised embeddings). The table gives each tag's ROC-AUC on the test set; ``--record``
writes it into docs/tagging.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _report import machine, markers, record
from cantata.data.synth.tag_clips import write_tag_clips
from cantata.errors import CantataError
from cantata.tag import Tagger
from cantata.tag.labels import read_labels
from cantata.tag.postprocess import roc_auc

DOC = Path(__file__).resolve().parents[1] / "docs" / "tagging.md"
TOPIC = "night"
#: a tag needing both: a night lyric (lyrics) over music without a beat (audio)
BOTH = "lullaby"
SUBJECTS = ("we", "you and I", "the children", "my brother", "the neighbours", "she", "they")
NIGHT = ("walked under the moon", "counted the stars", "waited for the dawn",
         "listened to the owls", "lit a candle in the dark", "watched the street lamps glow",
         "could not sleep at midnight", "dreamed until the sky grew pale")
DAY = ("walked to the market", "painted the kitchen door", "waited for the bus",
       "listened to the radio", "lit the stove for lunch", "watched the boats in the harbour",
       "could not find the keys", "planted beans in the garden")
ENDINGS = ("again and again", "for a while", "without a word", "as the time went by",
           "and then we sang", "like the year before")


def lyric(night: bool, rng: np.random.Generator) -> str:
    """Three lines; a night lyric has two night lines of three, an everyday one none."""
    night_lines = {int(i) for i in rng.choice(3, 2, replace=False)} if night else set()
    lines = []
    for i in range(3):
        pool = NIGHT if i in night_lines else DAY
        lines.append(f"{rng.choice(SUBJECTS)} {rng.choice(pool)} {rng.choice(ENDINGS)}")
    return "\n".join(lines)


def dataset(folder: Path, clips: int, seed: int, tagger: Tagger, encoder) -> tuple:
    """(audio embeddings, lyric embeddings, targets (clips, tags), tag names)."""
    labels = write_tag_clips(folder, clips=clips, seconds=2.0, seed=seed)
    items = read_labels(labels).items
    rng = np.random.default_rng(seed + 100)
    night = rng.random(len(items)) < 0.5
    texts = [lyric(bool(n), rng) for n in night]
    tags = ("tone", "high", "noise", "beat", TOPIC, BOTH)
    targets = np.array([[t in item.tags for t in tags[:4]]
                        + [bool(n), bool(n) and "beat" not in item.tags]
                        for item, n in zip(items, night, strict=True)], bool)
    audio = np.stack([penultimate(tagger, item.audio) for item in items])
    return audio, np.asarray(encoder.embed(texts), np.float64), targets, tags


def penultimate(tagger: Tagger, path: str) -> np.ndarray:
    """The tagger's dense layer's output, averaged over the recording's chunks."""
    found: list[np.ndarray] = []
    hook = tagger.model.dense.register_forward_hook(
        lambda _m, _i, out: found.append(out.detach().numpy()))
    try:
        tagger.tag(path)
    finally:
        hook.remove()
    return np.concatenate(found).mean(axis=0)


def fit_heads(x: np.ndarray, y: np.ndarray, steps: int = 300) -> tuple:
    """Per-tag logistic heads (one linear layer, L2 1e-3) on standardised ``x``; returns a
    function giving probabilities."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    xt = torch.tensor((x - mean) / std, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32)
    head = torch.nn.Linear(x.shape[1], y.shape[1])
    opt = torch.optim.Adam(head.parameters(), lr=0.05, weight_decay=1e-3)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(head(xt), yt).backward()
        opt.step()

    def predict(z: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.sigmoid(head(torch.tensor((z - mean) / std,
                                                   dtype=torch.float32))).numpy()
    return predict


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("audio_run", help="a trained tagger (run folder or checkpoint)")
    p.add_argument("--clips", type=int, default=240, help="clips per set (default 240)")
    p.add_argument("--record", action="store_true", help="write the table into docs/tagging.md")
    args = p.parse_args(argv)
    torch.manual_seed(0)
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError:
        print("tag_lyrics_fusion: needs wordllama: pip install 'cantata[lyrics]'", file=sys.stderr)
        return 2
    run = Path(args.audio_run)
    try:
        tagger = Tagger.from_pretrained(run / "best.pt" if run.is_dir() else run)
    except CantataError as err:
        print(f"tag_lyrics_fusion: {err}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    encoder = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    with tempfile.TemporaryDirectory() as tmp:
        a_fit, t_fit, y_fit, tags = dataset(Path(tmp) / "fit", args.clips, 2, tagger, encoder)
        a_test, t_test, y_test, _ = dataset(Path(tmp) / "test", args.clips, 3, tagger, encoder)
    audio, text = fit_heads(a_fit, y_fit), fit_heads(t_fit, y_fit)
    joint = fit_heads(np.hstack([a_fit, t_fit]), y_fit)
    scores = {"audio alone": audio(a_test), "lyrics alone": text(t_test),
              "late fusion (mean)": (audio(a_test) + text(t_test)) / 2,
              "joint fusion (concat)": joint(np.hstack([a_test, t_test]))}
    lines = ["| scored by | " + " | ".join(tags) + " | mean |",
             "|---|" + "---:|" * (len(tags) + 1)]
    for name, s in scores.items():
        aucs = [roc_auc(s[:, i], y_test[:, i]) for i in range(len(tags))]
        cells = [f"{a:.3f}" if a is not None else "n/a" for a in aucs]
        mean = np.mean([a for a in aucs if a is not None])
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean:.3f} |")
    note = (f"ROC-AUC on {args.clips} test clips ({int(y_test[:, -2].sum())} {TOPIC}, "
            f"{int(y_test[:, -1].sum())} {BOTH}); heads "
            f"fitted on {args.clips} others; audio: {run}; {time.perf_counter() - start:.0f} s "
            f"in all; {machine()}")
    table = "\n".join(lines)
    print(table + "\n\n" + note)
    if args.record:
        begin, end = markers("tag-lyrics")
        record(DOC, "tag-lyrics", f"{begin}\n{table}\n\n{note}\n{end}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
