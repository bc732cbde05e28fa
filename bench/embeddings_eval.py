"""How good are the embeddings: DSSM vs adjacency, with vs without the adversarial prior.

For each trained embedder (``--runs label=checkpoint,...``), on music no run trained on
(the held-out tracks of :func:`cantata.embed.data.split_tracks`: whole MIR-1K singers and a
fifth of each soundtrack collection):

Retrieval ranks by the similarity each embedder trained with (Euclidean distance, or the
cosine).

- adjacent-segment retrieval: each query segment's true successor ranked among the
  successors of all other queries and random segments of the other held-out tracks
  (>= 1000 candidates): Recall@1, Recall@10, MRR;
- song retrieval from a degraded 5 s excerpt (noise at 10 dB SNR, a 3.5 kHz low-pass and a
  small room, as if re-recorded by a phone): every held-out track is in the catalog
  (segments every half segment); Recall@1, Recall@10, MRR of the right track;
- linear probes (logistic regression on training-track segments, tested on held-out ones):
  vocal vs instrumental, which collection (MIR-1K or the game), and the tempo class of the
  synthetic songs (the factory's tempo: slow < 90 bpm, medium < 120, fast) — balanced
  accuracy;
- distance to N(0, I) of the held-out embeddings: norm of the mean, ||cov - I||_F / sqrt(d),
  MMD^2 (RBF kernel, bandwidth sqrt(d)) against as many N(0, I) samples, and the test
  accuracy of a fresh MLP told to separate them (0.5: indistinguishable).

    python bench/embeddings_eval.py --runs "adjacency+prior=/tmp/emb/adj-prior/best.pt,..." \\
        --record docs/embeddings.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import numpy as np
import torch
from scipy import signal

from _report import machine, markers, record
from cantata.data.records import read_manifest
from cantata.embed.api import Embedder
from cantata.embed.data import Track, music_tracks, split_tracks
from cantata.embed.index import for_metric
from cantata.types import Waveform

MARK_BEGIN, MARK_END = markers("embeddings_eval")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
#: (upper bound in bpm, name) of the tempo probe's classes
TEMPO_CLASSES = ((90.0, "slow"), (120.0, "medium"), (float("inf"), "fast"))


def segments(track: Track, starts: np.ndarray, seg: int) -> list[torch.Tensor]:
    return [torch.from_numpy(track.features[:, s:s + seg].astype(np.float32)) for s in starts]


def as_ranked(vectors: np.ndarray, embedder: Embedder) -> np.ndarray:
    """Vectors as the embedder's similarity compares them (unit length for cosine), so
    that Euclidean distance ranks as it does."""
    return for_metric(vectors, embedder.similarity)


def ranks_of(distances: np.ndarray, true_index: np.ndarray) -> np.ndarray:
    """1-based rank of each row's true column (ties count against)."""
    true = distances[np.arange(len(distances)), true_index]
    return 1 + (distances < true[:, None]).sum(axis=1)


def summary(ranks: np.ndarray) -> dict[str, float]:
    return {"r1": float(np.mean(ranks <= 1)), "r10": float(np.mean(ranks <= 10)),
            "mrr": float(np.mean(1.0 / ranks))}


def adjacent_retrieval(embedder: Embedder, held: list[Track], *, queries: int,
                       distractors: int, seed: int) -> tuple[dict[str, float], int]:
    seg = round(embedder.segment_s * embedder.frames_per_s)
    rng = np.random.default_rng(seed)
    long = [t for t in held if t.n_frames >= 2 * seg]
    weights = np.array([t.n_frames - 2 * seg + 1 for t in long], np.float64)
    q_tracks = rng.choice(len(long), size=queries, p=weights / weights.sum())
    q_starts = np.array([rng.integers(0, long[i].n_frames - 2 * seg + 1) for i in q_tracks])
    anchors = [w for i, s in zip(q_tracks, q_starts, strict=True)
               for w in segments(long[i], [s], seg)]
    positives = [w for i, s in zip(q_tracks, q_starts, strict=True)
                 for w in segments(long[i], [s + seg], seg)]
    d_tracks = rng.choice(len(long), size=distractors, p=weights / weights.sum())
    d_windows = [w for i in d_tracks
                 for w in segments(long[i], [rng.integers(0, long[i].n_frames - seg + 1)], seg)]
    a = as_ranked(embedder.embed_features(anchors), embedder)
    cand = as_ranked(embedder.embed_features(positives + d_windows), embedder)
    owner = np.concatenate([q_tracks, d_tracks])
    distances = np.linalg.norm(a[:, None] - cand[None], axis=2)
    same_track = owner[None, :] == q_tracks[:, None]
    same_track[np.arange(queries), np.arange(queries)] = False  # its own successor stays
    distances[same_track] = np.inf
    n_candidates = int((~same_track).sum(axis=1).min())
    return summary(ranks_of(distances, np.arange(queries))), n_candidates


def degrade(wav: Waveform, rng: np.random.Generator) -> Waveform:
    """A phone re-recording: small room, 3.5 kHz low-pass, noise at 10 dB SNR."""
    x, sr = wav.samples[0].astype(np.float64), wav.sample_rate
    n = int(0.25 * sr)
    room = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.05 * sr))
    room[0] = 4.0
    x = signal.fftconvolve(x, room / np.abs(room).sum() * 4)[:len(x)]
    x = signal.sosfilt(signal.butter(4, 3500, fs=sr, output="sos"), x)
    noise = signal.lfilter([1], [1, -0.9], rng.standard_normal(len(x)))  # reddish
    noise *= np.sqrt(np.mean(x ** 2) / np.mean(noise ** 2) / 10 ** (10 / 10))
    return Waveform((x + noise)[None].astype(np.float32), sr)


def song_retrieval(embedder: Embedder, held: list[Track], queries: list[tuple[int, Waveform]]
                   ) -> dict[str, float]:
    seg = round(embedder.segment_s * embedder.frames_per_s)
    hop = max(1, seg // 2)
    vectors, owner = [], []
    for i, track in enumerate(held):
        starts = np.arange(0, max(1, track.n_frames - seg + 1), hop)
        vectors.append(embedder.embed_features(segments(track, starts, seg)))
        owner += [i] * len(starts)
    catalog, owner_arr = as_ranked(np.concatenate(vectors), embedder), np.array(owner)
    ranks = []
    for true, clip in queries:
        q = as_ranked(embedder.embed_segments(clip, hop_s=1.0).vectors, embedder)
        d = np.linalg.norm(q[:, None] - catalog[None], axis=2).min(axis=0)
        best = np.full(len(held), np.inf)
        np.minimum.at(best, owner_arr, d)
        ranks.append(1 + int((best < best[true]).sum()))
    return summary(np.array(ranks))


def embed_tracks(embedder: Embedder, tracks: list[Track], per_track: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, list[Track]]:
    seg = round(embedder.segment_s * embedder.frames_per_s)
    windows, owners = [], []
    for track in tracks:
        if track.n_frames < seg:
            continue
        starts = rng.integers(0, track.n_frames - seg + 1, size=per_track)
        windows += segments(track, starts, seg)
        owners += [track] * per_track
    return embedder.embed_features(windows), owners


def tempo_classes(songs: str | None) -> dict[str, str]:
    """Tempo class of every synthetic song by track id, from the factory's ``tempo_bpm``."""
    if songs is None:
        return {}
    folder = Path(songs)
    classes = {}
    for ex in read_manifest(folder):
        bpm = ex.meta.get("accompaniment", {}).get("tempo_bpm")
        if bpm is not None:
            name = next(n for limit, n in TEMPO_CLASSES if bpm < limit)
            classes[f"synth/{folder.name}/{ex.id}"] = name
    return classes


def probes(train: tuple[np.ndarray, list[Track]], test: tuple[np.ndarray, list[Track]],
           tempo: dict[str, str]) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = {}
    for name, label in (("vocal", lambda t: t.has_vocals), ("collection", lambda t: t.group),
                        ("tempo", lambda t: tempo.get(t.id))):
        y_tr, y_te = [label(t) for t in train[1]], [label(t) for t in test[1]]
        fit = [i for i, y in enumerate(y_tr) if y is not None]
        keep = [i for i, y in enumerate(y_te) if y is not None and y in {y_tr[j] for j in fit}]
        if not keep:
            out[name] = float("nan")
            continue
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        model.fit(train[0][fit], [y_tr[i] for i in fit])
        out[name] = float(balanced_accuracy_score([y_te[i] for i in keep],
                                                  model.predict(test[0][keep])))
    return out


def gaussianity(z: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    n, d = z.shape
    prior = rng.standard_normal((n, d))
    cov = np.cov(z, rowvar=False)
    gamma = 1.0 / (2 * d)

    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        sq = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None] - 2 * a @ b.T
        return np.exp(-gamma * np.maximum(sq, 0))

    kxx, kyy, kxy = k(z, z), k(prior, prior), k(z, prior)
    mmd = (kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + \
        (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean()
    x = np.concatenate([z, prior])
    y = np.r_[np.zeros(n), np.ones(n)]
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.5, random_state=0,
                                              stratify=y)
    disc = MLPClassifier((64, 64), max_iter=500, random_state=0).fit(x_tr, y_tr)
    return {"mean_norm": float(np.linalg.norm(z.mean(0))),
            "cov_dist": float(np.linalg.norm(cov - np.eye(d)) / np.sqrt(d)),
            "mmd2": float(mmd), "disc_acc": float(disc.score(x_te, y_te))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", required=True,
                        help="comma-separated label=checkpoint (or a shipped name)")
    parser.add_argument("--mir1k", default=str(SHARED / "mir1k"))
    parser.add_argument("--instrumentals", default="debian")
    parser.add_argument("--songs", default=None)
    parser.add_argument("--cache", default="/tmp/emb/cache")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--distractors", type=int, default=1500)
    parser.add_argument("--song-queries", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", help="write the table into this markdown file")
    args = parser.parse_args()
    torch.set_num_threads(2)
    runs = [item.split("=", 1) for item in args.runs.split(",")]
    first = Embedder.from_pretrained(runs[0][1])
    tracks = music_tracks(mir1k=args.mir1k, instrumentals=args.instrumentals,
                          songs=args.songs, features=first.config.features, cache=args.cache)
    train, held = split_tracks(tracks)
    tempo = tempo_classes(args.songs)
    n_tempo = sum(t.id in tempo for t in held)
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(held), size=min(args.song_queries, len(held)), replace=False)
    queries = []
    for i in picks:
        wav = held[i].waveform()
        start = int(rng.integers(0, max(1, wav.n_samples - 5 * wav.sample_rate)))
        clip = Waveform(wav.samples[:, start:start + 5 * wav.sample_rate], wav.sample_rate)
        queries.append((int(i), degrade(clip, rng)))
    rows = []
    for label, path in runs:
        start = time.perf_counter()
        embedder = Embedder.from_pretrained(path)
        if embedder.config.features != first.config.features:
            raise SystemExit(f"{label}: other features than {runs[0][0]}; evaluate apart")
        adjacent, n_cand = adjacent_retrieval(embedder, held, queries=args.queries,
                                              distractors=args.distractors, seed=args.seed)
        songs = song_retrieval(embedder, held, queries)
        r = np.random.default_rng(args.seed + 1)
        probe = probes(embed_tracks(embedder, train, 8, r), embed_tracks(embedder, held, 8, r),
                       tempo)
        z, _ = embed_tracks(embedder, held, 6, r)
        gauss = gaussianity(z.astype(np.float64), r)
        rows.append((label, adjacent, songs, probe, gauss))
        print(f"{label}: adjacent {adjacent}, songs {songs}, probes {probe}, {gauss} "
              f"({time.perf_counter() - start:.0f} s, {n_cand} candidates)", flush=True)
    minutes = sum(t.n_frames for t in held) / first.frames_per_s / 60
    section = "\n".join([
        MARK_BEGIN,
        f"### Embeddings compared ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/embeddings_eval.py --runs ...` on the held-out tracks ({len(held)} "
        f"tracks, {minutes:.0f} min: whole MIR-1K singers and a fifth of each other collection "
        f"— soundtracks, synthetic songs — that no run trained on). Adjacent: "
        f"{args.queries} query segments, each ranked "
        f"among >= {n_cand} candidates (the other queries' successors and {args.distractors} "
        f"random segments of other held-out tracks). Songs: {len(queries)} degraded 5 s "
        "excerpts (small room, 3.5 kHz low-pass, noise at 10 dB SNR) against all held-out "
        "tracks. Probes: balanced accuracy of a logistic regression trained on training-track "
        "segments (collection: MIR-1K, each game, synthetic; chance is one over their number; "
        f"tempo: {n_tempo} held-out synthetic songs, slow < 90 bpm, medium < 120, fast, chance "
        "1/3). "
        "N(0, I): the held-out segments' embeddings against as many Gaussian "
        "samples (MLP accuracy 0.5 = indistinguishable).",
        "",
        "| run | adjacent R@1 | R@10 | MRR | song R@1 | R@10 | MRR | probe vocal | probe "
        "collection | probe tempo | ‖mean‖ | ‖cov − I‖/√d | MMD² | discriminator acc |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[f"| {label} | {a['r1']:.3f} | {a['r10']:.3f} | {a['mrr']:.3f} | {s['r1']:.3f} | "
          f"{s['r10']:.3f} | {s['mrr']:.3f} | {p['vocal']:.3f} | {p['collection']:.3f} | "
          f"{p['tempo']:.3f} | "
          f"{g['mean_norm']:.2f} | {g['cov_dist']:.2f} | {g['mmd2']:.4f} | "
          f"{g['disc_acc']:.3f} |" for label, a, s, p, g in rows],
        MARK_END,
    ])
    print(section)
    if args.record:
        record(args.record, "embeddings_eval", section)


if __name__ == "__main__":
    main()
