"""Vocal / accompaniment separation quality: BSS Eval v4 (museval-compatible) and SI-SDR.

Usage:
    python bench/separation_eval.py [--models separator,separator+gate,separator+wiener]
                                    [--mir1k ../shared/data/mir1k]
                                    [--songs N] [--stereo N] [--wet N] [--limit N]
                                    [--musdb DIR]
                                    [--record docs/separation.md]

Sets:
  (a) held-out MIR-1K singers (recipes.TEST_SINGERS less any a ``--models`` checkpoint
      records as trained on), 16 kHz mono, each clip mixed at 0 dB (vocals and
      accompaniment scaled to equal energy before summing);
  (b) held-out synthetic songs (a fresh factory seed no model was trained on), 16 kHz mono,
      mixed as the factory mixes them;
  (c) stereo at 44.1 kHz (``--stereo N`` clips): held-out MIR-1K vocals in the centre of
      excerpts of held-out Debian game soundtracks, real stereo productions (a stand-in
      for (e), which it is not: the vocals are 16 kHz karaoke takes, dry and centred);
  (d) wet vocals (``--wet N`` clips): the clips of (a) with the vocals played through an
      algorithmic reverb, its tail part of the vocal stem, as in a produced song;
  (e) professional stereo mixes: MUSDB18 test tracks (30 s from the middle of each, 44.1 kHz
      stereo) when ``--musdb`` names a copy; the developer data has no such multitrack set.
Systems: the mixture and half the mixture as estimates, HPSS, REPET-SIM, the oracle ratio
masks (upper bounds that see the true stems), and every ``--models`` entry through
``cantata.separate.api.Separator``. Scores: BSS Eval v4 SDR / SIR / SAR per 1 s window, the
median over a clip's windows (silent windows ignored), then the median over clips; SI-SDR
per clip, then the median over clips. Beside each vocals SDR median, its 95 % clip-bootstrap
interval; with several ``--models``, each against the first on the same clips (paired: the
mean per-clip difference is far more precise than a difference of medians); and each
model's median per held-out MIR-1K singer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from _report import machine, markers, record
from cantata import audio
from cantata.data.augment import snr_gain
from cantata.data.sources import load_mir1k, load_musdb, read_stems
from cantata.data.synth.factory import FactoryConfig, synthesize
from cantata.separate.baselines import (
    half_mixture,
    hpss_baseline,
    mixture_baseline,
    oracle_irm,
    repet_sim,
)
from cantata.separate.metrics import bss_eval, frame_median, si_sdr
from cantata.train.recipes import TEST_SINGERS
from cantata.types import Waveform

MARK_BEGIN, MARK_END = markers("separation_eval")
RATE = 16000
SONG_SEED = 9999  # the factory seed of bench/svd_eval.py's held-out songs; no model trains on it
EXCERPT_S = 30.0
STEREO_RATE = 44100
STEREO_SEED = 44100  # offsets into the held-out soundtracks of the stereo set
STEREO_SET = "held-out vocals over held-out stereo soundtracks, 44.1 kHz, 0 dB"
WET_SEED = 16000  # rooms of the wet-vocals set
WET_SET = "MIR-1K held-out singers, wet vocals, 0 dB"
STEMS = ("vocals", "accompaniment")
COLUMNS = ("vocals SDR", "vocals SI-SDR", "vocals SIR", "vocals SAR", "acc. SDR", "acc. SI-SDR")
BOOTSTRAP = 2000  # resamples of a set's clips for the interval of a median


@dataclass(frozen=True)
class Item:
    """One clip: the mixture and its true stems, each (channels, time) float32; ``group``
    is its singer where known."""

    name: str
    mix: np.ndarray
    vocals: np.ndarray
    accompaniment: np.ndarray
    sample_rate: int
    group: str = ""


System = Callable[[Item], dict[str, np.ndarray]]


def evenly(items: list, limit: int | None) -> list:
    """``limit`` items spread evenly over ``items`` (all of them when None or enough)."""
    if limit is None or limit >= len(items):
        return items
    return [items[i] for i in np.unique(np.linspace(0, len(items) - 1, limit).round()
                                        .astype(int))]


def mix_0db(vocals: np.ndarray, accompaniment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both stems scaled to equal energy, the pair then scaled so that the mix peaks at 0.5."""
    n = min(vocals.shape[-1], accompaniment.shape[-1])
    v, a = vocals[:, :n], accompaniment[:, :n]
    v = v / (np.sqrt(np.mean(v**2)) + 1e-9)
    a = a / (np.sqrt(np.mean(a**2)) + 1e-9)
    gain = 0.5 / max(float(np.abs(v + a).max()), 1e-9)
    return (gain * v).astype(np.float32), (gain * a).astype(np.float32)


def held_out_singers(models: list[str]) -> tuple[str, ...]:
    """``TEST_SINGERS`` less the MIR-1K singers any of ``models`` (names or checkpoints,
    ``+`` options allowed) records as trained on (``cantata train separator
    --test-singers`` can free test singers for training)."""
    from cantata.models.registry import read_checkpoint_payload
    from cantata.separate.api import model_path

    trained = set()
    for model in models:
        path = model_path(model.split("+")[0], "separate")
        if path.is_file():
            data = read_checkpoint_payload(path)["meta"].get("data") or {}
            trained.update(data.get("train_singers") or [])
    singers = tuple(s for s in TEST_SINGERS if s not in trained)
    if not singers:
        raise SystemExit(f"every held-out MIR-1K singer {list(TEST_SINGERS)} was trained on "
                         "by one of the models")
    return singers


def mir1k_items(root: str, limit: int | None,
                singers: tuple[str, ...] = TEST_SINGERS) -> list[Item]:
    examples = evenly([ex for ex in load_mir1k(root) if ex.group in singers], limit)
    items = []
    for ex in examples:
        stems = {k: w.to_mono().samples for k, w in read_stems(ex, sample_rate=RATE).items()}
        v, a = mix_0db(stems["vocals"], stems["accompaniment"])
        items.append(Item(ex.id, v + a, v, a, RATE, ex.group))
    return items


def stereo_items(mir1k: str, limit: int | None,
                 singers: tuple[str, ...] = TEST_SINGERS) -> list[Item]:
    """Held-out MIR-1K vocals in the centre of held-out stereo soundtracks, 44.1 kHz, 0 dB.

    Clip i's vocals (upsampled, the same in both channels) go over an excerpt of as long of
    the benchmark's held-out Debian soundtrack i mod 40 (real stereo productions no
    training recipe reads), from a seeded offset, resampled to 44.1 kHz stereo. The
    vocals have no energy above 8 kHz, so both stems get the -80 dB noise floor of
    :func:`song_items` (BSS Eval's filter fit needs it).
    """
    from cantata.data.sources import load_instrumentals, split_benchmark

    tracks = split_benchmark(load_instrumentals())[1]
    rng = np.random.default_rng(STEREO_SEED)
    examples = evenly([ex for ex in load_mir1k(mir1k) if ex.group in singers], limit)
    items = []
    for i, ex in enumerate(examples):
        vocals = read_stems(ex, sample_rate=STEREO_RATE)["vocals"].to_mono().samples
        track = tracks[i % len(tracks)]
        length_s = vocals.shape[-1] / STEREO_RATE
        offset = rng.uniform(0.1, 0.9) * max(0.0, track.duration_s - length_s)
        backing = audio.load(track.audio, sample_rate=STEREO_RATE, offset_s=offset,
                             duration_s=length_s).samples
        if backing.shape[0] == 1:
            backing = np.repeat(backing, 2, axis=0)
        v, a = mix_0db(np.repeat(vocals, 2, axis=0), backing[:2])
        v, a = (_noise_floor(x, -80.0, rng) for x in (v, a))
        items.append(Item(f"{ex.id}+{Path(track.audio).stem}", v + a, v, a, STEREO_RATE))
    return items


def wet_items(mir1k: str, limit: int | None,
              singers: tuple[str, ...] = TEST_SINGERS) -> list[Item]:
    """Held-out MIR-1K clips with reverberant vocals, 16 kHz mono, 0 dB.

    Each clip's vocals go through pedalboard's algorithmic reverb (Freeverb's comb and
    all-pass filters: another generator than the noise-tail rooms of ``cantata train
    separator --reverb``) with a seeded room size in 0.3-0.9 and damping in 0.2-0.7, its
    tail 3-15 dB under the dry voice. The wet vocals are the reference, as a produced
    song's vocal stem carries its reverb; then the clip is mixed at 0 dB as in (a).
    """
    import pedalboard

    rng = np.random.default_rng(WET_SEED)
    items = []
    for item in mir1k_items(mir1k, limit, singers):
        room = pedalboard.Reverb(room_size=rng.uniform(0.3, 0.9), damping=rng.uniform(0.2, 0.7),
                                 wet_level=1.0, dry_level=0.0)
        dry = item.vocals
        tail = room(dry, RATE)[:, : dry.shape[-1]]
        tail *= snr_gain(tail, dry, -rng.uniform(3.0, 15.0))  # the tail's level under the voice
        v, a = mix_0db((dry + tail).astype(np.float32), item.accompaniment)
        items.append(Item(item.name, v + a, v, a, RATE, item.group))
    return items


def song_items(n: int, folder: Path) -> list[Item]:
    """Factory songs; each stem gets a -80 dB noise floor where it is not digitally silent.

    Rendered stems have frequency bands with no energy at all, which makes BSS Eval's
    filter fit ill-conditioned (ISR, SIR and SAR come out meaningless, in museval too); a
    faint floor, as in any recording, fixes that, and digital silence stays silent so that
    silent windows are still left out. SDR and SI-SDR barely move.
    """
    rng = np.random.default_rng(SONG_SEED)
    synthesize("song", hours=n * 30 / 3600, out_dir=folder, jobs=2, seed=SONG_SEED,
               config=FactoryConfig(sample_rate=RATE))
    items = []
    for ex_dir in sorted(p for p in folder.iterdir() if p.is_dir())[:n]:
        v, a = (audio.load(ex_dir / f"{stem}.flac", sample_rate=RATE, mono=True).samples
                for stem in STEMS)
        length = min(v.shape[-1], a.shape[-1])
        v, a = (_noise_floor(x[:, :length], -80.0, rng) for x in (v, a))
        items.append(Item(ex_dir.name, v + a, v, a, RATE))
    return items


def _noise_floor(stem: np.ndarray, level_db: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(stem.shape) * np.sqrt(np.mean(stem**2)) * 10 ** (level_db / 20)
    return (stem + noise * (stem != 0)).astype(np.float32)


def musdb_items(root: str, limit: int | None) -> list[Item]:
    items = []
    for ex in evenly(load_musdb(root, subset="test"), limit):
        offset = max(0.0, (ex.duration_s - EXCERPT_S) / 2)
        stems = read_stems(ex, offset_s=offset, duration_s=EXCERPT_S)
        v, a = stems["vocals"].samples, stems["accompaniment"].samples
        length = min(v.shape[-1], a.shape[-1])
        v, a = v[:, :length], a[:, :length]
        items.append(Item(ex.id, v + a, v, a, stems["vocals"].sample_rate))
    return items


def blind(fn: Callable[[np.ndarray, int], dict[str, np.ndarray]]) -> System:
    return lambda item: fn(item.mix, item.sample_rate)


def oracle(power: float) -> System:
    return lambda item: oracle_irm(item.mix, item.vocals, item.accompaniment, item.sample_rate,
                                   n_fft=2048, power=power)


def model_system(name: str) -> System:
    """A model through the Separator API. Suffixes: ``+gate`` runs it detection-gated,
    ``+wiener`` (or ``+wienerN``) adds 1 (N) iterations of multichannel Wiener filtering."""
    from cantata.separate.api import Separator

    base, *options = name.split("+")
    unknown = [o for o in options if o != "gate" and not re.fullmatch(r"wiener\d*", o)]
    if unknown:
        raise SystemExit(f"{name}: unknown option(s) {unknown} (use +gate, +wiener, +wienerN)")
    wiener = next((int(o[6:] or 1) for o in options if o.startswith("wiener")), 0)
    separator = Separator.from_pretrained(base, wiener=wiener,
                                          gate="singing" if "gate" in options else None)

    def run(item: Item) -> dict[str, np.ndarray]:
        stems = separator.separate(Waveform(item.mix, item.sample_rate))
        return {stem: stems.stems[stem].samples for stem in STEMS}

    return run


def score_item(item: Item, estimates: dict[str, np.ndarray]) -> np.ndarray:
    """The six table columns for one clip: (6,)."""
    refs = np.stack([item.vocals.T, item.accompaniment.T])  # (stems, time, channels)
    ests = np.stack([estimates[stem].T for stem in STEMS])
    sdr, _, sir, sar = (frame_median(s) for s in bss_eval(refs, ests, item.sample_rate))
    si = si_sdr(refs, ests)
    return np.array([sdr[0], si[0], sir[0], sar[0], sdr[1], si[1]])


def score(system: System, items: list[Item]) -> tuple[np.ndarray, float, float]:
    """The six columns of every clip (clips, 6), separation seconds, scoring seconds."""
    per_item, sep_s, eval_s = [], 0.0, 0.0
    for item in items:
        start = time.perf_counter()
        estimates = system(item)
        mid = time.perf_counter()
        per_item.append(score_item(item, estimates))
        sep_s, eval_s = sep_s + mid - start, eval_s + time.perf_counter() - mid
    return np.array(per_item), sep_s, eval_s


def median_interval(values: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95 % bootstrap interval of the median of ``values`` (clips, NaN ignored): how far
    the median could move on another draw of as many clips like them. Clips of one singer
    are alike, so for new singers this is a lower bound on the uncertainty."""
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return np.nan, np.nan
    low, high = np.percentile(np.median(values[_resamples(len(values), seed)], axis=1),
                              [2.5, 97.5])
    return float(low), float(high)


def paired(per_clip: np.ndarray, reference: np.ndarray, seed: int = 0) -> tuple[float, ...]:
    """One system against another on the same clips, by vocals SDR (column 0): the mean
    per-clip difference and its standard error, the share of clips it is higher on, the
    difference of the medians and the bootstrap standard deviation of that difference."""
    diff = per_clip[:, 0] - reference[:, 0]
    keep = ~np.isnan(diff)
    a, b, diff = per_clip[keep, 0], reference[keep, 0], diff[keep]
    draws = _resamples(len(diff), seed)
    medians = np.median(a[draws], axis=1) - np.median(b[draws], axis=1)
    return (float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff))),
            float(np.mean(diff > 0)), float(np.median(a) - np.median(b)), float(medians.std()))


def _resamples(n: int, seed: int) -> np.ndarray:
    """Clip indices of ``BOOTSTRAP`` resamples with replacement: (BOOTSTRAP, n)."""
    return np.random.default_rng(seed).integers(0, n, (BOOTSTRAP, n))


def _nanmedian(values: np.ndarray) -> np.ndarray:
    out = np.full(values.shape[1], np.nan)
    for i, column in enumerate(values.T):
        if np.any(~np.isnan(column)):
            out[i] = np.nanmedian(column)
    return out


def _cell(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.1f}"


def _limit_threads(n: int):
    """Run torch and BLAS on ``n`` threads: on busy shared cores one thread each is several
    times faster than fighting over them (the scores do not depend on it)."""
    import torch

    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(n, user_api="blas")


def report(models: list[str], mir1k: str, n_songs: int, limit: int | None,
           musdb: str | None, threads: int = 1, n_stereo: int = 0,
           n_wet: int | None = 0) -> str:
    singers = held_out_singers(models)
    with tempfile.TemporaryDirectory(prefix="cantata-sep-") as tmp:
        sets = {"MIR-1K held-out singers, 0 dB": mir1k_items(mir1k, limit, singers),
                "synthetic songs (held out)": song_items(min(n_songs, limit or n_songs),
                                                         Path(tmp))}
    if n_stereo:
        sets[STEREO_SET] = stereo_items(mir1k, min(n_stereo, limit or n_stereo), singers)
    if n_wet != 0:
        wet_limit = limit if n_wet is None else min(n_wet, limit or n_wet)
        sets[WET_SET] = wet_items(mir1k, wet_limit, singers)
    if musdb:
        sets["MUSDB18 test, 30 s excerpts"] = musdb_items(musdb, limit)
    systems: dict[str, System] = {
        "mixture": blind(mixture_baseline),
        "half mixture": blind(half_mixture),
        "HPSS (vocals = percussive)": blind(hpss_baseline),
        "REPET-SIM": blind(repet_sim),
    }
    systems.update({f"`{m}`": model_system(m) for m in models})
    systems["oracle IRM, power ratio (upper bound)"] = oracle(2.0)
    systems["oracle IRM, magnitude ratio (upper bound)"] = oracle(1.0)
    rows, pair_rows, singer_rows = [], [], []
    names = [f"`{m}`" for m in models]
    with _limit_threads(threads):
        for set_name, items in sets.items():
            minutes = sum(it.mix.shape[-1] / it.sample_rate for it in items) / 60
            label = f"{set_name} ({len(items)}, {minutes:.1f} min)"
            per_system = {}
            for sys_name, system in systems.items():
                per_clip, sep_s, eval_s = score(system, items)
                per_system[sys_name] = per_clip
                print(f"{set_name} / {sys_name}: separation {sep_s:.1f} s, scoring {eval_s:.1f} s",
                      file=sys.stderr)
                cells = [_cell(v) for v in _nanmedian(per_clip)]
                cells[0] = f"**{cells[0]}**"
                low, high = median_interval(per_clip[:, 0])
                cells.insert(1, "–" if np.isnan(low) else f"{low:.1f}–{high:.1f}")
                rows.append(f"| {label} | {sys_name} | " + " | ".join(cells) + " |")
            if set_name.startswith("MIR-1K"):
                groups = np.array([item.group for item in items])
                for name in names:
                    singer_rows.append(f"| {set_name} | {name} | " + " | ".join(
                        f"{np.nanmedian(per_system[name][groups == s, 0]):.2f}"
                        for s in singers) + " |")
            for other in names[1:]:
                mean, se, better, median_diff, median_sd = paired(per_system[other],
                                                                  per_system[names[0]])
                pair_rows.append(f"| {label} | {other} | {names[0]} | {mean:+.2f} ± {se:.2f} | "
                                 f"{better:.0%} | {median_diff:+.2f} ± {median_sd:.2f} |")
    command = ("`python bench/separation_eval.py"
               + (f" --models {','.join(models)}" if models else "") + f" --songs {n_songs}"
               + (f" --stereo {n_stereo}" if n_stereo else "")
               + (f" --wet {n_wet}" if n_wet is not None else "")
               + (f" --limit {limit}" if limit else "") + (" --musdb DIR" if musdb else "") + "`")
    freed = [s for s in TEST_SINGERS if s not in singers]
    trained_on = (f"; {' and '.join(freed)} left out, as a model was trained on them"
                  if freed else "")
    no_musdb = ("" if musdb else " No professional stereo multitrack set is in the developer "
                "data; pass `--musdb DIR` (MUSDB18 or MUSDB18-HQ) to add one.")
    return "\n".join([
        MARK_BEGIN,
        f"### Separation quality, dB ({dt.date.today()}, {machine()})",
        "",
        f"{command}. Held-out MIR-1K singers: {', '.join(singers)}{trained_on} (vocals and "
        "accompaniment scaled to equal energy, 16 kHz mono); synthetic songs: factory seed "
        f"{SONG_SEED}, 16 kHz mono, vocals 3 dB below to 9 dB above the accompaniment, a -80 dB "
        "noise floor added where a stem is not digitally silent (see `song_items`). "
        + ("Stereo: held-out MIR-1K vocals (upsampled, centred) over excerpts of the 40 "
           "held-out Debian game soundtracks (real stereo productions), 44.1 kHz, 0 dB, "
           "-80 dB floor (see `stereo_items`). " if n_stereo else "") +
        ("Wet vocals: the held-out MIR-1K clips with the vocals through an algorithmic "
         "reverb (pedalboard's Freeverb design; room size 0.3-0.9, tail 3-15 dB under the "
         "dry voice), the tail part of the vocal reference, 0 dB (see `wet_items`). "
         if n_wet != 0 else "") +
        "SDR, SIR, SAR: BSS Eval v4 as museval computes them (512-tap distortion filters "
        "fitted on the whole clip, 1 s windows), median over a clip's windows ignoring silent "
        "ones, then median over clips; SI-SDR: per clip, then median. Oracle rows use the "
        f"true stems (n_fft 2048), so they bound mask-based separators.{no_musdb}",
        "",
        f"The 95 % interval is the clip bootstrap's ({BOOTSTRAP} resamples) of the vocals SDR "
        "median: how far it could move on another draw of as many clips like these.",
        "",
        "| set (clips, length) | system | " + " | ".join(COLUMNS[:1]) + " | 95 % interval | "
        + " | ".join(COLUMNS[1:]) + " |",
        "|---|---|" + "---:|" * (len(COLUMNS) + 1),
        *rows,
        *(["", "Paired, on the same clips (vocals SDR, dB): the mean per-clip difference ± its "
           "standard error, the share of clips the system scores higher on, and the difference "
           "of the medians ± its bootstrap standard deviation.",
           "",
           "| set | system | against | mean difference | clips higher | median difference |",
           "|---|---|---|---:|---:|---:|", *pair_rows] if pair_rows else []),
        *(["", "Vocals SDR, the median over each held-out MIR-1K singer's clips (dB): singers "
           "differ far more than models do, so a new set of singers moves the pooled median "
           "more than the interval above says.",
           "",
           "| set | system | " + " | ".join(singers) + " |",
           "|---|---|" + "---:|" * len(singers), *singer_rows] if singer_rows else []),
        MARK_END,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="",
                        help="comma-separated separator names or checkpoints, e.g. "
                             "separator,debug (default: baselines only)")
    parser.add_argument("--mir1k", default=str(Path(__file__).parents[2] / "shared" / "data" /
                                                "mir1k"))
    parser.add_argument("--songs", type=int, default=8, help="synthetic 30 s songs")
    parser.add_argument("--stereo", type=int, default=40,
                        help="clips of the stereo 44.1 kHz set (held-out vocals over held-out "
                             "soundtracks; 0: leave it out)")
    parser.add_argument("--wet", type=int, default=None,
                        help="clips of the wet-vocals set (the held-out MIR-1K clips with "
                             "reverberant vocals; default all, 0: leave it out)")
    parser.add_argument("--limit", type=int, default=None,
                        help="at most N clips per set, spread evenly over it (default: all)")
    parser.add_argument("--musdb", help="MUSDB18 folder holding test/ (optional)")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    section = report(models, args.mir1k, args.songs, args.limit, args.musdb, args.threads,
                     args.stereo, args.wet)
    print(section)
    if args.record:
        record(args.record, "separation_eval", section)


if __name__ == "__main__":
    main()
