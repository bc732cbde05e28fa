"""Throughput and latency of POST /v1/detect under concurrent clients, batching on vs off.

Starts `cantata serve` (shipped `singing` model) as a subprocess on loopback, once with
dynamic batching and once without, and drives each with 1, 8 and 32 concurrent clients
(asyncio + httpx in this process) for a bounded number of requests and time. Every request
uploads the same clip: the first seconds of the shipped example song, 16 kHz mono wav.
Then a queue-full run: a small queue and many more clients than it holds, counting 503s.

    python bench/serve_load.py --record docs/serving.md
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

from _report import machine, markers, record
from cantata import audio
from cantata.catalog import Catalog

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "karissa-hobbs-lets-go-fishin-30s.ogg"
MARK_BEGIN, MARK_END = markers("serve_load")


@dataclass
class Run:
    mode: str
    clients: int
    ok: int
    busy: int
    other: int
    wall_s: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.ok / self.wall_s

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


def clip_bytes(seconds: float) -> bytes:
    wav = audio.load(EXAMPLE, sample_rate=16000, mono=True, duration_s=seconds)
    buf = io.BytesIO()
    sf.write(buf, wav.samples.T, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`cantata serve` in a subprocess, ready when /healthz answers."""

    def __init__(self, db: Path, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cantata.cli", "serve", "--db", str(db), "--port",
             str(self.port), "-q", *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.proc.stderr.read().decode()}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def drive(url: str, body: bytes, *, clients: int, requests: int, seconds: float,
                mode: str) -> Run:
    """``clients`` loops, each posting until ``requests`` are sent in all or time is up."""
    latencies: list[float] = []
    counts = {"ok": 0, "busy": 0, "other": 0}
    sent = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(c: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < requests and time.perf_counter() < deadline:
            sent += 1
            start = time.perf_counter()
            response = await c.post("/v1/detect", content=body,
                                    headers={"Content-Type": "audio/wav"})
            if response.status_code == 200:
                latencies.append(1000 * (time.perf_counter() - start))
                counts["ok"] += 1
            elif response.status_code == 503:
                counts["busy"] += 1
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            else:
                counts["other"] += 1

    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as c:
        start = time.perf_counter()
        await asyncio.gather(*(client(c) for _ in range(clients)))
        wall = time.perf_counter() - start
    return Run(mode, clients, counts["ok"], counts["busy"], counts["other"], wall, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip-s", type=float, default=5.0, help="seconds per request")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--requests", type=int, default=320, help="most requests per run")
    parser.add_argument("--seconds", type=float, default=40.0, help="longest run")
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--max-wait-ms", type=float, default=10.0)
    parser.add_argument("--record", help="write the tables into this markdown file")
    args = parser.parse_args()
    body = clip_bytes(args.clip_s)
    levels = [int(c) for c in args.clients.split(",")]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "empty.db"
        Catalog(db).close()
        modes = {"batching": ["--max-batch-size", str(args.max_batch_size), "--max-wait-ms",
                              str(args.max_wait_ms)],
                 "no batching": ["--no-batching"]}
        for mode, flags in modes.items():
            server = Server(db, *flags)
            try:
                asyncio.run(drive(server.url, body, clients=4, requests=16, seconds=30,
                                  mode="warm-up"))
                for clients in levels:
                    run = asyncio.run(drive(server.url, body, clients=clients,
                                            requests=args.requests, seconds=args.seconds,
                                            mode=mode))
                    runs.append(run)
                    print(f"{mode:12s} {clients:3d} clients: {run.throughput:6.1f} req/s  "
                          f"p50 {run.pct(50):7.0f} ms  p99 {run.pct(99):7.0f} ms  "
                          f"({run.ok} ok, {run.busy} busy, {run.other} other)", flush=True)
            finally:
                server.stop()
        full_server = Server(db, "--max-batch-size", str(args.max_batch_size), "--max-queue",
                             "8")
        try:
            flood = asyncio.run(drive(full_server.url, body, clients=64, requests=640,
                                      seconds=args.seconds, mode="queue 8, 64 clients"))
            metrics = httpx.get(f"{full_server.url}/metrics").text
        finally:
            full_server.stop()
    rejected = next((f"{float(line.split()[-1]):.0f}" for line in metrics.splitlines()
                     if line.startswith('cantata_rejected_total{model="detect"}')), "0")
    print(f"queue full: {flood.ok} ok, {flood.busy} answered 503, {flood.other} other; "
          f"server counted {rejected} rejections")
    section = report(runs, flood, rejected, args, levels)
    print(section)
    if args.record:
        record(args.record, "serve_load", section)


def report(runs: list[Run], flood: Run, rejected: str, args: argparse.Namespace,
           levels: list[int]) -> str:
    by = {(r.mode, r.clients): r for r in runs}
    rows = []
    for clients in levels:
        on, off = by[("batching", clients)], by[("no batching", clients)]
        for run, ratio in ((on, on.throughput / off.throughput), (off, 1.0)):
            rows.append(f"| {clients} | {run.mode} | {run.ok} | {run.throughput:.1f} | "
                        f"{run.pct(50):.0f} | {run.pct(99):.0f} | {ratio:.2f}× |")
    return "\n".join([
        MARK_BEGIN,
        f"### /v1/detect under load ({dt.date.today()}, {machine()})",
        "",
        f"`python bench/serve_load.py --clip-s {args.clip_s:g} --requests {args.requests} "
        f"--seconds {args.seconds:g}`: each request uploads a {args.clip_s:g} s clip of the "
        "example song (16 kHz mono wav), shipped `singing` model, server and load generator on "
        f"this machine over loopback. Batching: `--max-batch-size {args.max_batch_size} "
        f"--max-wait-ms {args.max_wait_ms:g}`; no batching: `--no-batching` (one request per "
        "forward pass). Each run stops after its request count or time limit.",
        "",
        "| clients | mode | requests | requests/s | p50 ms | p99 ms | throughput vs no "
        "batching |",
        "|---:|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Queue full (`--max-queue 8`, 64 clients that wait for Retry-After and try again): "
        f"{flood.ok} answered, {flood.busy} refused with 503 + Retry-After, {flood.other} "
        f"other errors; the server counted {rejected} rejections "
        f"(`cantata_rejected_total`).",
        MARK_END,
    ])


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
