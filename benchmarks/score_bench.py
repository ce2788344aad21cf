"""Benchmark: the feature pass against the prefix-tree engine and naive prompting.

Usage::

    python benchmarks/score_bench.py [--tasks 600] [--engine-tasks 96] [--naive-tasks 8]
                                     [--rounds 4] [--threads 2] [--model NAME]

One process loads the model once and runs, on tasks of whole O*NET occupations drawn
with a fixed seed from ``Task Statements.txt`` (the local mirror by default):

feature pass
    the default scoring path: :class:`~jobimpact.scoring.feature_pass.FeaturePass` up to
    the registered feature layer, the sentence embedding appended, and the shipped
    calibration head's probabilities (every question, out of nothing but features);
current engine
    the path it replaces: :class:`~jobimpact.scoring.engine.PrefixTreeEngine` at layer 16
    asking the creation question zero-shot (the head answered the others);
naive
    one full prompt per task and question through the whole model.

Each phase's tasks are cut into ``--rounds`` slices and every round runs the three phases
on one slice each, in a rotating order, so a change in the load of a shared machine hits
them alike; times are summed over rounds and compared per task. The **matmul limit** is
the time of the bare matrix multiplications of the feature pass's own token rows through
the same blocks' weights (every ``nn.Linear`` of blocks 1..L, same threads): the floor
any implementation of the LLM's part meets on this CPU (the feature pass's time also
holds the sentence embedding and the head). Prints wall and CPU seconds,
tokens computed per task and the peak resident memory added by each phase, then a last
line of the form ``feature pass: R tasks/s; all 18,796 tasks in S s; X× the current
engine; Y× naive; Z× the matmul limit``.
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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jobimpact.scoring.base import TaskPrompt

DEFAULT_TASKS_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "onet" / "db_29_3_text"
    / "Task Statements.txt"
)  # fmt: skip
ALL_ONET_TASKS = 18_796
ENGINE_LAYER = 16  # the layer of the engine path the feature pass replaces
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Phase:
    """Time, tokens and memory of one way of scoring, summed over rounds."""

    tasks: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    tokens: int = 0
    peak_extra_mib: float = 0.0

    def per_task(self) -> float:
        return self.wall / self.tasks


def load_tasks(path: Path, n: int, *, seed: int = 0) -> list[TaskPrompt]:
    """Whole occupations, drawn with a fixed seed, until ``n`` tasks (a run scores tasks of
    one occupation together, and the feature pass shares their header)."""
    frame = pd.read_csv(path, sep="\t", dtype=str)
    codes = frame["O*NET-SOC Code"].drop_duplicates().sample(frac=1.0, random_state=seed)
    chosen: list[str] = []
    for code in codes:
        chosen.append(code)
        if frame["O*NET-SOC Code"].isin(chosen).sum() >= n:
            break
    picked = frame[frame["O*NET-SOC Code"].isin(chosen)].sort_values(["O*NET-SOC Code", "Task ID"])
    return [
        TaskPrompt(occupation=r["Title"], task=r["Task"], task_id=r["Task ID"])
        for _, r in picked.head(n).iterrows()
    ]


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


@contextmanager
def measured(phase: Phase, n_tasks: int) -> Iterator[None]:
    """Add wall and CPU time of the block to ``phase``, and the peak RSS above its start
    (sampled every 5 ms)."""
    start_rss, peak = _rss_mib(), [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.005):
            peak[0] = max(peak[0], _rss_mib() - start_rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        phase.wall += time.perf_counter() - wall
        phase.cpu += time.process_time() - cpu
        stop.set()
        sampler.join()
        phase.tasks += n_tasks
        phase.peak_extra_mib = max(phase.peak_extra_mib, peak[0])


def matmul_limit(blocks: list[Any], tokens: int, threads: int, *, repeats: int = 3) -> float:
    """Seconds of the bare linear products of ``tokens`` token rows through ``blocks`` (best
    of ``repeats``), in the precision the feature pass runs each one: float32
    ``nn.Linear``, or the dynamically quantised int8 Linear (its activation quantisation
    included). The input of each product is random, its shape the real one (down_proj
    takes the MLP width)."""
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as Int8Linear

    torch.set_num_threads(threads)
    kinds = (torch.nn.Linear, Int8Linear)
    linears = [m for block in blocks for m in block.modules() if isinstance(m, kinds)]
    chunk = 512
    inputs = {m.in_features: torch.randn(chunk, m.in_features) for m in linears}
    best = float("inf")
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            for done in range(0, tokens, chunk):
                rows = min(chunk, tokens - done)
                for m in linears:
                    m(inputs[m.in_features][:rows])
            best = min(best, time.perf_counter() - start)
    return best


def _slices(items: list[TaskPrompt], rounds: int) -> list[list[TaskPrompt]]:
    size = -(-len(items) // rounds)
    return [items[i * size : (i + 1) * size] for i in range(rounds)]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=600, help="tasks for the feature pass")
    parser.add_argument("--engine-tasks", type=int, default=96)
    parser.add_argument("--naive-tasks", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--model", default=None, help="registered model (default: the default)")
    parser.add_argument("--file", type=Path, default=DEFAULT_TASKS_FILE)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.file.is_file():
        print(f"{args.file}: not found, expected an O*NET Task Statements.txt", file=sys.stderr)
        return 2
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from jobimpact.calibration import packaged_head
    from jobimpact.scoring.engine import EngineStats, PrefixTreeEngine
    from jobimpact.scoring.models import DEFAULT_MODEL
    from jobimpact.scoring.transformers_backend import TransformersScorer

    tasks = load_tasks(args.file, args.tasks)
    start = time.perf_counter()
    scorer = TransformersScorer(model=args.model or DEFAULT_MODEL, threads=args.threads)
    load_s = time.perf_counter() - start
    if scorer.features is None:
        print(f"{scorer.model_id}: no shipped head answers every question", file=sys.stderr)
        return 2
    fp = scorer.features
    head = packaged_head(model_id=scorer.model_id, rubric_hash=scorer.rubric.hash)
    engine = PrefixTreeEngine(
        fp.model, fp.tokenizer, scorer.rubric, layer=ENGINE_LAYER, questions=["creation"]
    )
    full = PrefixTreeEngine(fp.model, fp.tokenizer, scorer.rubric, layer=ENGINE_LAYER)
    # warm-up: first-call allocations, the engines' prefix caches, the embedder's load
    scorer.score(tasks[:8])
    engine.score(tasks[:2])
    full.score_naive(tasks[:1])
    fp.tokens = dict.fromkeys(fp.tokens, 0)
    engine.stats, full.stats = EngineStats(), EngineStats()

    def feature_pass(items: list[TaskPrompt]) -> None:
        scored = scorer.score(items, batch_size=len(items))
        if head is not None:
            head.predict(np.stack([np.asarray(s.feature) for s in scored]), [""] * len(items))

    phases = {"feature pass": Phase(), "current engine": Phase(), "naive": Phase()}
    work: dict[str, tuple[list[list[TaskPrompt]], Callable[[list[TaskPrompt]], object]]] = {
        "feature pass": (_slices(tasks, args.rounds), feature_pass),
        "current engine": (_slices(tasks[: args.engine_tasks], args.rounds), engine.score),
        "naive": (_slices(tasks[: args.naive_tasks], args.rounds), full.score_naive),
    }
    names = list(phases)
    for r in range(args.rounds):
        for name in names[r % 3 :] + names[: r % 3]:
            items = work[name][0][r]
            if items:
                with measured(phases[name], len(items)):
                    work[name][1](items)
    phases["feature pass"].tokens = fp.tokens["padded"] + fp.tokens["header"]
    phases["current engine"].tokens = engine.stats.padded_tokens
    phases["naive"].tokens = full.stats.padded_tokens
    limit = matmul_limit(fp.blocks, phases["feature pass"].tokens, args.threads)
    _print(args, scorer, head, load_s, phases, limit)
    return 0


def _print(
    args: argparse.Namespace,
    scorer: Any,
    head: Any,
    load_s: float,
    phases: dict[str, Phase],
    limit: float,
) -> None:
    fp = phases["feature pass"]
    print(f"model: {scorer.model_id}")
    print(f"features: {scorer.feature_spec}; head: {head.head_id if head else 'none'}")
    print(f"threads: {args.threads}; model load (warm cache) {load_s:.1f} s; rounds {args.rounds}")
    print(f"{'phase':<15} {'tasks':>6} {'wall s':>8} {'CPU s':>8} {'tasks/s':>8} "
          f"{'tokens/task':>12} {'peak +MiB':>10}")  # fmt: skip
    for name, p in phases.items():
        print(
            f"{name:<15} {p.tasks:>6} {p.wall:>8.1f} {p.cpu:>8.1f} {p.tasks / p.wall:>8.2f} "
            f"{p.tokens / p.tasks:>12.1f} {p.peak_extra_mib:>10.0f}"
        )
    print(
        f"matmul limit: {limit:.1f} s for the feature pass's {fp.tokens:,} token rows through "
        f"{len(scorer.features.blocks)} blocks ({fp.tasks / limit:.1f} tasks/s)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process (max RSS, all three paths loaded): {peak:.0f} MiB")
    rate = fp.tasks / fp.wall
    print(
        f"feature pass: {rate:.1f} tasks/s; all {ALL_ONET_TASKS:,} tasks in "
        f"{ALL_ONET_TASKS / rate:.0f} s; "
        f"{phases['current engine'].per_task() / fp.per_task():.1f}× the current engine; "
        f"{phases['naive'].per_task() / fp.per_task():.0f}× naive; "
        f"{fp.wall / limit:.2f}× the matmul limit"
    )


if __name__ == "__main__":
    raise SystemExit(main())
