"""Benchmark: toolkit embedding (dedupe, cache, batching) vs a bare model.encode.

Usage::

    python benchmarks/embed_bench.py [--limit N] [--model minilm] [--batch-size 64] [--repeats 1]

Embeds the O*NET task statements (the local mirror by default) four ways in one
process, after loading the model and a warm-up batch:

(a) bare ``SentenceTransformer.encode`` of all texts (duplicates included);
(a') the same on the distinct texts only, to separate the wrapper's cost from the
     gain of deduplication;
(b) :func:`jobimpact.embedding.embed_texts` with an empty in-memory cache;
(c) the same call again with the now warm cache.

Prints wall time, CPU time and peak resident memory of each phase (sampled every
5 ms), then ``toolkit/bare overhead`` (b vs a, goal <= +10 %) and ``warm/cold`` (c vs
b, goal <= 5 %). With ``--repeats`` each phase runs that many times, interleaved, and
the fastest run counts. CPU time is printed too because on a shared machine wall time
also counts the time spent waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jobimpact.embedding import MemoryEmbeddingCache, SentenceTransformerEmbedder, embed_texts

DEFAULT_TASKS_FILE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "onet"
    / "db_29_3_text"
    / "Task Statements.txt"
)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Current resident set size of this process (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except OSError:
        return 0


@dataclass
class Phase:
    """Wall time and peak memory of one measured phase."""

    seconds: float = float("inf")
    cpu_seconds: float = float("inf")
    peak_rss: int = 0
    start_rss: int = 0


@contextmanager
def measure(phase: Phase) -> Iterator[None]:
    """Time the block and sample RSS in a thread; keep the fastest run in ``phase``."""
    stop = threading.Event()
    start_rss = rss_bytes()
    peak = [start_rss]

    def sample() -> None:
        while not stop.wait(0.005):
            peak[0] = max(peak[0], rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        stop.set()
        sampler.join()
        peak[0] = max(peak[0], rss_bytes())
        if elapsed < phase.seconds:
            phase.seconds, phase.peak_rss, phase.start_rss = elapsed, peak[0], start_rss
        phase.cpu_seconds = min(phase.cpu_seconds, cpu)


def overhead_line(label: str, ours: Phase, base: Phase, goal: str) -> str:
    """Format the relative extra wall and CPU time of ``ours`` over ``base``."""
    wall = 100 * (ours.seconds / base.seconds - 1)
    cpu = 100 * (ours.cpu_seconds / base.cpu_seconds - 1)
    return f"{label}: {wall:+.1f}% {goal} (CPU time {cpu:+.1f}%)".replace("  ", " ")


def load_texts(path: Path, limit: int | None) -> list[str]:
    """Read the Task column of an O*NET Task Statements file (first ``limit`` rows)."""
    if not path.is_file():
        sys.exit(f"{path}: got no such file, expected an O*NET Task Statements.txt (--tasks-file)")
    frame = pd.read_csv(path, sep="\t", dtype=str, usecols=["Task"])
    texts = frame["Task"].fillna("").tolist()
    return texts[:limit] if limit is not None else texts


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks-file", type=Path, default=DEFAULT_TASKS_FILE)
    parser.add_argument("--limit", type=int, default=None, help="first N task statements")
    parser.add_argument("--model", default="minilm", help="name, folder or hub id")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)

    texts = load_texts(args.tasks_file, args.limit)
    distinct = list(dict.fromkeys(texts))
    embedder = SentenceTransformerEmbedder(model=args.model, batch_size=args.batch_size)
    t0 = time.perf_counter()
    model: Any = embedder.model
    load_s = time.perf_counter() - t0
    embedder.encode(texts[: args.batch_size])  # warm-up: first call pays one-off setup

    import torch

    print(f"model {embedder.model_id}, batch size {args.batch_size}, ", end="")
    print(f"torch threads {torch.get_num_threads()}, load {load_s:.1f} s")
    print(f"texts {len(texts)} ({len(distinct)} distinct), repeats {args.repeats}")

    def bare(items: list[str]) -> Callable[[], Any]:
        return lambda: model.encode(
            items,
            batch_size=args.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    phases = {name: Phase() for name in ("bare", "bare-distinct", "cold", "warm")}
    results: dict[str, Any] = {}
    for _ in range(args.repeats):
        cache = MemoryEmbeddingCache()
        runs: dict[str, Callable[[], Any]] = {
            "bare": bare(texts),
            "bare-distinct": bare(distinct),
            "cold": partial(embed_texts, texts, embedder=embedder, cache=cache),
            "warm": partial(embed_texts, texts, embedder=embedder, cache=cache),
        }
        for name, run in runs.items():
            with measure(phases[name]):
                results[name] = run()

    mib = 1024.0 * 1024.0
    print(f"{'phase':<15}{'seconds':>9}{'CPU s':>9}{'texts/s':>9}{'peak RSS MiB':>14}{'+MiB':>8}")
    for name, p in phases.items():
        rate = len(texts) / p.seconds if p.seconds > 0 else float("inf")
        grow = (p.peak_rss - p.start_rss) / mib
        print(
            f"{name:<15}{p.seconds:>9.2f}{p.cpu_seconds:>9.2f}{rate:>9.0f}"
            f"{p.peak_rss / mib:>14.0f}{grow:>8.0f}"
        )
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

    diff = float(np.max(np.abs(results["cold"] - results["bare"]), initial=0.0))
    same_warm = bool(np.array_equal(results["cold"], results["warm"]))
    print(f"max |toolkit - bare| = {diff:.2e}; warm rows equal cold rows: {same_warm}")
    cold, warm = phases["cold"], phases["warm"]
    print(overhead_line("toolkit/bare overhead", cold, phases["bare"], "(goal <= +10%)"))
    print(overhead_line("toolkit/bare on distinct texts", cold, phases["bare-distinct"], ""))
    print(f"warm/cold: {100 * warm.seconds / cold.seconds:.1f}% (goal <= 5%)")
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print("note: machine load above its core count; wall times include waiting for CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
