"""Benchmark: prefix-tree engine vs one-prompt-at-a-time scoring on the same tasks.

Usage::

    python benchmarks/score_bench.py [--tasks 200] [--naive-tasks N] [--model NAME]
                                     [--batch-size 16] [--threads N]

Tasks come from the O*NET ``Task Statements.txt`` (the local mirror by default). The
naive path can run on fewer tasks (``--naive-tasks``) since it is slow; the speedup
compares time per task. Prints the speedup, tokens computed per task, the projected
time for all 18,796 O*NET tasks, the largest difference between the two paths on the
tasks both scored, and peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from jobimpact.scoring.base import TaskPrompt, TaskScore
from jobimpact.scoring.engine import PrefixTreeEngine
from jobimpact.scoring.models import DEFAULT_MODEL
from jobimpact.scoring.transformers_backend import TransformersScorer

DEFAULT_TASKS_FILE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "onet"
    / "db_29_3_text"
    / "Task Statements.txt"
)
ALL_ONET_TASKS = 18_796


def load_tasks(path: Path, n: int, *, seed: int = 0) -> list[TaskPrompt]:
    """Sample ``n`` tasks (fixed seed) from an O*NET Task Statements file."""
    frame = pd.read_csv(path, sep="\t", dtype=str)
    frame = frame.sample(n=min(n, len(frame)), random_state=seed)
    return [
        TaskPrompt(occupation=r["Title"], task=r["Task"], task_id=r["Task ID"])
        for _, r in frame.iterrows()
    ]


def max_diff(a: list[TaskScore], b: list[TaskScore]) -> float:
    """Largest absolute difference in P(Yes) or answer mass between two runs."""
    diffs = [
        max(
            abs(x.answers[k].p_yes - y.answers[k].p_yes),
            abs(x.answers[k].answer_mass - y.answers[k].answer_mass),
        )
        for x, y in zip(a, b, strict=True)
        for k in x.answers
    ]
    return max(diffs, default=0.0)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200, help="tasks for the engine")
    parser.add_argument("--naive-tasks", type=int, default=None, help="tasks for the naive path")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--file", type=Path, default=DEFAULT_TASKS_FILE)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.file.is_file():
        print(f"{args.file}: not found, expected an O*NET Task Statements.txt", file=sys.stderr)
        return 2
    n_naive = min(args.naive_tasks or args.tasks, args.tasks)
    tasks = load_tasks(args.file, args.tasks)

    t0 = time.perf_counter()
    scorer = TransformersScorer(model=args.model, batch_size=args.batch_size, threads=args.threads)
    load_s = time.perf_counter() - t0
    stats = scorer.stats

    t0 = time.perf_counter()
    engine = scorer.score(tasks, batch_size=max(args.batch_size, 256))
    engine_s = time.perf_counter() - t0
    engine_tokens = stats.padded_tokens
    engine_real = stats.real_tokens

    # with a calibration head only the unlabelled question (creation) is asked zero-shot
    head_engine = PrefixTreeEngine(
        scorer.engine.model,
        scorer.engine.tokenizer,
        scorer.rubric,
        layer=scorer.engine.layer,
        batch_size=args.batch_size,
        questions=["creation"],
    )
    t0 = time.perf_counter()
    head_engine.score(tasks)
    head_s = time.perf_counter() - t0

    stats.padded_tokens = stats.prefix_tokens = stats.task_tokens = stats.question_tokens = 0
    t0 = time.perf_counter()
    naive = scorer.score_naive(tasks[:n_naive])
    naive_s = time.perf_counter() - t0
    naive_tokens = stats.padded_tokens

    per_engine = engine_s / len(tasks)
    per_naive = naive_s / n_naive
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model: {scorer.model_id}  threads: {_threads()}  batch size: {args.batch_size}")
    print(f"tasks: engine {len(tasks)}, naive {n_naive}; model load {load_s:.1f} s")
    print(f"engine: {engine_s:.1f} s ({len(tasks) / engine_s:.2f} tasks/s)")
    print(f"naive:  {naive_s:.1f} s ({n_naive / naive_s:.2f} tasks/s)")
    print(f"engine/naive speedup: {per_naive / per_engine:.1f}x")
    print(
        f"tokens computed per task: engine {engine_tokens / len(tasks):.0f} "
        f"(real {engine_real / len(tasks):.0f}, incl. one-off prefix), "
        f"naive {naive_tokens / n_naive:.0f}"
    )
    print(
        f"projected for {ALL_ONET_TASKS:,} tasks: "
        f"engine {per_engine * ALL_ONET_TASKS / 3600:.2f} h, "
        f"naive {per_naive * ALL_ONET_TASKS / 3600:.2f} h"
    )
    print(
        f"engine asking only 'creation' (a head answers the rest): {len(tasks) / head_s:.2f} "
        f"tasks/s, {engine_s / head_s:.1f}x the full engine; projected for "
        f"{ALL_ONET_TASKS:,} tasks: {head_s / len(tasks) * ALL_ONET_TASKS / 3600:.2f} h"
    )
    print(f"max |engine - naive| over {n_naive} tasks: {max_diff(engine[:n_naive], naive):.2e}")
    feats = np.stack([s.feature for s in engine if s.feature is not None])
    print(f"features: {feats.shape[0]} x {feats.shape[1]} (layer {scorer.engine.layer})")
    print(f"peak memory (max RSS): {peak_mib:.0f} MiB")
    return 0


def _threads() -> int:
    """torch's CPU thread count."""
    import torch

    return int(torch.get_num_threads())


if __name__ == "__main__":
    raise SystemExit(main())
