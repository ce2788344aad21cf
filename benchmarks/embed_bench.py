"""Benchmark: toolkit embedding (dedupe, cache, batching) vs a bare model.encode.

Usage::

    python benchmarks/embed_bench.py [--limit N] [--model minilm] [--batch-size 64] [--rounds 8]

Embeds the O*NET task statements (the local mirror by default) in one process, after
loading the model and a warm-up batch, these ways:

bare
    ``SentenceTransformer.encode`` of the texts, duplicates included;
bare-distinct
    the same on the texts the toolkit actually sends to the model (each distinct text
    once), separating the wrapper's cost from the gain of deduplication;
cold
    :func:`jobimpact.embedding.embed_texts` through an in-memory cache that starts
    empty;
warm
    the same call on all texts again, with the now filled cache.

The texts are cut into ``--rounds`` consecutive slices and each round runs bare,
bare-distinct and cold on one slice, in a rotating order, so a change in the load of
a shared machine hits every phase alike; phase times are summed over the rounds.
Prints wall time, CPU time and peak resident memory (sampled every 5 ms) per phase,
then ``toolkit/bare overhead`` (cold vs bare, goal <= +10 %) and ``warm/cold``
(goal <= 5 %).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
PHASES = ("bare", "bare-distinct", "cold", "warm")


def rss_bytes() -> int:
    """Current resident set size of this process (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except OSError:
        return 0


@dataclass
class Phase:
    """Wall time, CPU time and peak memory of one phase, summed over rounds."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss: int = 0
    growth: int = 0
    outputs: list[Any] = field(default_factory=list)


@contextmanager
def measure(phase: Phase) -> Iterator[None]:
    """Add the block's wall and CPU time to ``phase``; sample RSS in a thread."""
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
        phase.seconds += time.perf_counter() - t0
        phase.cpu_seconds += time.process_time() - c0
        stop.set()
        sampler.join()
        peak[0] = max(peak[0], rss_bytes())
        phase.peak_rss = max(phase.peak_rss, peak[0])
        phase.growth = max(phase.growth, peak[0] - start_rss)


def overhead_line(label: str, ours: Phase, base: Phase, goal: str) -> str:
    """Format the relative extra wall and CPU time of ``ours`` over ``base``."""
    wall = 100 * (ours.seconds / base.seconds - 1)
    cpu = 100 * (ours.cpu_seconds / base.cpu_seconds - 1)
    return f"{label}: {wall:+.1f}%{goal} (CPU time {cpu:+.1f}%)"


def load_texts(path: Path, limit: int | None) -> list[str]:
    """Read the Task column of an O*NET Task Statements file (first ``limit`` rows)."""
    if not path.is_file():
        sys.exit(f"{path}: got no such file, expected an O*NET Task Statements.txt (--tasks-file)")
    frame = pd.read_csv(path, sep="\t", dtype=str, usecols=["Task"])
    texts = frame["Task"].fillna("").tolist()
    return texts[:limit] if limit is not None else texts


def slices(texts: list[str], rounds: int) -> list[tuple[list[str], list[str]]]:
    """Cut ``texts`` into consecutive slices, each with its texts not seen in earlier ones."""
    bounds = np.linspace(0, len(texts), max(1, rounds) + 1).astype(int)
    seen: set[str] = set()
    out = []
    for lo, hi in itertools.pairwise(bounds):
        part = texts[lo:hi]
        new = [t for t in dict.fromkeys(part) if t not in seen]
        seen.update(new)
        out.append((part, new))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks-file", type=Path, default=DEFAULT_TASKS_FILE)
    parser.add_argument("--limit", type=int, default=None, help="first N task statements")
    parser.add_argument("--model", default="minilm", help="name, folder or hub id")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=8, help="slices the phases alternate on")
    args = parser.parse_args(argv)

    texts = load_texts(args.tasks_file, args.limit)
    embedder = SentenceTransformerEmbedder(model=args.model, batch_size=args.batch_size)
    t0 = time.perf_counter()
    model: Any = embedder.model
    load_s = time.perf_counter() - t0
    embedder.encode(texts[: args.batch_size])  # warm-up: first call pays one-off setup

    import torch

    parts = slices(texts, args.rounds)
    n_distinct = sum(len(new) for _, new in parts)
    print(f"model {embedder.model_id}, batch size {args.batch_size}, ", end="")
    print(f"torch threads {torch.get_num_threads()}, load {load_s:.1f} s")
    print(f"texts {len(texts)} ({n_distinct} distinct), rounds {len(parts)}")

    def bare(items: list[str]) -> Any:
        return model.encode(
            items,
            batch_size=args.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    phases = {name: Phase() for name in PHASES}
    cache = MemoryEmbeddingCache()
    for i, (part, new) in enumerate(parts):
        runs: list[tuple[str, Callable[[], Any]]] = [
            ("bare", partial(bare, part)),
            ("bare-distinct", partial(bare, new)),
            ("cold", partial(embed_texts, part, embedder=embedder, cache=cache)),
        ]
        for name, run in runs[i % 3 :] + runs[: i % 3]:  # rotate who goes first
            with measure(phases[name]):
                phases[name].outputs.append(run())
    with measure(phases["warm"]):
        warm_rows = embed_texts(texts, embedder=embedder, cache=cache)

    mib = 1024.0 * 1024.0
    print(f"{'phase':<15}{'seconds':>9}{'CPU s':>9}{'texts/s':>9}{'peak RSS MiB':>14}{'+MiB':>8}")
    for name, p in phases.items():
        rate = len(texts) / p.seconds if p.seconds > 0 else float("inf")
        print(
            f"{name:<15}{p.seconds:>9.2f}{p.cpu_seconds:>9.2f}{rate:>9.0f}"
            f"{p.peak_rss / mib:>14.0f}{p.growth / mib:>8.0f}"
        )
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

    bare_rows = np.concatenate(phases["bare"].outputs)
    cold_rows = np.concatenate(phases["cold"].outputs)
    diff = float(np.max(np.abs(cold_rows - bare_rows), initial=0.0))
    same_warm = bool(np.array_equal(cold_rows, warm_rows))
    print(f"max |toolkit - bare| = {diff:.2e}; warm rows equal cold rows: {same_warm}")
    cold, warm = phases["cold"], phases["warm"]
    print(overhead_line("toolkit/bare overhead", cold, phases["bare"], " (goal <= +10%)"))
    print(overhead_line("toolkit/bare on distinct texts", cold, phases["bare-distinct"], ""))
    print(f"warm/cold: {100 * warm.seconds / cold.seconds:.1f}% (goal <= 5%)")
    load = os.getloadavg()[0]
    threads = torch.get_num_threads()
    print(f"load average {load:.1f} on {os.cpu_count()} cores, this run {threads} threads", end="")
    print("; more means other processes shared the cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
