"""Search latency and build time of the embedding index at 10^4, 10^5 and 10^6 vectors.

Stored vectors are synthetic: i.i.d. N(0, I) in 64 dimensions (what the adversarial prior
pushes embeddings towards; with no structure at all, the hardest case for a graph index).
For each size it builds the exact index (``IndexFlatL2``) and the HNSW graph with the
library's settings (``cantata.embed.index.build_faiss``), then times single-vector
queries of k = 10 (p50 / p99 over ``--queries`` queries) and scores HNSW against exact:

- recall@10: the share of the exact 10 nearest that HNSW returns, for random N(0, I)
  queries;
- source@1: queries made from a stored vector plus N(0, 0.5^2 I) noise (a re-recorded clip
  lands near, not on, its source): how often the source comes first;
- search(): ``EmbeddingIndex.search`` of a 5-segment query ranked per track (100 segments
  per track), what ``cantata search`` runs after embedding the clip, p50 of 20.

    python bench/embed_search_latency.py --record docs/embeddings.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

import numpy as np

from _report import machine, markers, record
from cantata.embed.index import (
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
    EmbeddingIndex,
    build_faiss,
)
from cantata.types import Embeddings

MARK_BEGIN, MARK_END = markers("embed_search_latency")
SEGMENTS_PER_TRACK = 100
NEAR_SIGMA = 0.5


def timed_queries(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each query alone (as an interactive search does): latencies in ms, and the rows."""
    times, rows = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, found = index.search(q[None], k)
        times.append(1000 * (time.perf_counter() - t0))
        rows.append(found[0])
    return np.array(times), np.stack(rows)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth,
                                                                         strict=True)]))


def one_size(n: int, args: argparse.Namespace, rng: np.random.Generator) -> list[dict]:
    vectors = rng.standard_normal((n, args.dim), dtype=np.float32)
    queries = rng.standard_normal((args.queries, args.dim), dtype=np.float32)
    sources = rng.choice(n, args.queries, replace=False)
    near = (vectors[sources] + NEAR_SIGMA * rng.standard_normal(
        (args.queries, args.dim))).astype(np.float32)
    track_ids = np.arange(n) // SEGMENTS_PER_TRACK
    starts = (np.arange(n) % SEGMENTS_PER_TRACK) * 1.5
    clip = Embeddings(np.arange(5) * 0.75, 3.0, near[:5])
    rows = []
    for kind in ("exact", "hnsw"):
        t0 = time.perf_counter()
        index = build_faiss(vectors, kind)
        build_s = time.perf_counter() - t0
        wrapped = EmbeddingIndex(index, track_ids, starts, model_version="", segment_s=3.0,
                                 kind=kind)
        for ef in ([None] if kind == "exact" else args.ef):
            if ef is not None:
                index.hnsw.efSearch = wrapped.ef_search = ef
            times, found = timed_queries(index, queries, args.k)
            _, near_found = timed_queries(index, near, 1)
            clip_ms = []
            for _ in range(20):
                t0 = time.perf_counter()
                wrapped.search(clip, k=args.k)
                clip_ms.append(1000 * (time.perf_counter() - t0))
            if kind == "exact":
                truth = found
            row = {"n": n, "kind": kind if ef is None else f"hnsw ef {ef}",
                   "build_s": build_s if ef in (None, args.ef[0]) else None,
                   "p50": float(np.percentile(times, 50)),
                   "p99": float(np.percentile(times, 99)),
                   "recall": recall(found, truth),
                   "source1": float(np.mean(near_found[:, 0] == sources)),
                   "search_p50": float(np.percentile(clip_ms, 50))}
            rows.append(row)
            print(f"{n:>8d} {row['kind']:>12s}  build {build_s:7.2f} s  p50 {row['p50']:7.3f} "
                  f"ms  p99 {row['p99']:7.3f} ms  recall@10 {row['recall']:.3f}  source@1 "
                  f"{row['source1']:.3f}  search() {row['search_p50']:.2f} ms", flush=True)
        del index, wrapped
    return rows


def report(rows: list[dict], args: argparse.Namespace, wall_s: float, busy: str) -> str:
    lines = [
        MARK_BEGIN,
        f"### Search latency ({dt.date.today()}, {machine()}, FAISS threads: {args.threads})",
        "",
        f"`python bench/embed_search_latency.py` ({wall_s / 60:.1f} min): i.i.d. N(0, I) "
        f"vectors, dim {args.dim}, one query vector at a time, k = {args.k}, "
        f"{args.queries} queries per row. HNSW: M = {HNSW_M}, efConstruction = "
        f"{HNSW_EF_CONSTRUCTION}, efSearch as shown (the library searches with "
        f"{HNSW_EF_SEARCH}). recall@10: HNSW's share of the exact 10 nearest for random "
        f"queries; source@1: queries made of a stored vector plus N(0, {NEAR_SIGMA}² I) noise, "
        f"how often that vector comes first; search(): `EmbeddingIndex.search` of a 5-segment "
        f"query ranked per track ({SEGMENTS_PER_TRACK} segments a track), p50.{busy}",
        "",
        "| stored vectors | index | build s | p50 ms | p99 ms | recall@10 | source@1 | "
        "search() p50 ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        build = "" if r["build_s"] is None else f"{r['build_s']:.2f}"
        lines.append(f"| {r['n']:,} | {r['kind']} | {build} | {r['p50']:.3f} | "
                     f"{r['p99']:.3f} | {r['recall']:.3f} | {r['source1']:.3f} | "
                     f"{r['search_p50']:.2f} |")
    lines.append(MARK_END)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ef", default="64,128,256", help="HNSW efSearch values to time")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS",
                                                                           0)) or None,
                        help="FAISS threads (default: OMP_NUM_THREADS, else all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", metavar="DOC", help="record the table into DOC")
    args = parser.parse_args()
    args.ef = [int(e) for e in args.ef.split(",")]
    import faiss

    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    args.threads = faiss.omp_get_max_threads()
    busy = os.popen("pgrep -fa 'train embedder|scan_throughput' | grep -v pgrep").read()
    note = (" Measured while another job (training or a bench) used the CPU: numbers are "
            "noisy." if busy.strip() else "")
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        rows += one_size(n, args, rng)
    section = report(rows, args, time.perf_counter() - t0, note)
    print(section)
    if args.record:
        record(args.record, "embed_search_latency", section)


if __name__ == "__main__":
    main()
