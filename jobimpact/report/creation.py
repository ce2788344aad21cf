"""The creation side of the report: what the creation axis is made of, how the quadrant
shares move with the lines, how creation agrees with what it claims to measure, and where
it is highest, with the new and emerging tasks beside it.

Reads the store through :mod:`jobimpact.store.creation` (read-only) and the frames
:mod:`jobimpact.report.summarize` already holds; returns plain data for the templates
(``quadrants.html.j2``, ``creation_top.html.j2``, ``creation_validation.html.j2``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from jobimpact.aggregate import QUADRANTS, SENSITIVITY_THRESHOLDS, quadrant_of, quadrant_sensitivity
from jobimpact.report.sections import as_float
from jobimpact.report.style import MIN_FAMILY_TASKS
from jobimpact.store import creation as store_creation

__all__ = ["CREATION_CHECKS", "creation_section", "quadrant_views"]

# Families listed as those with most creation; new and emerging tasks shown per entry.
N_FAMILIES = 8
N_EXAMPLES = 2

# The creation checks of a validation (jobimpact.creation_validation), in the order shown:
# (reference, metric) -> (group, description, the value chance or no relation gives).
CREATION_CHECKS: dict[tuple[str, str], tuple[str, str, float]] = {
    ("economic_index", "spearman_augmentation"): (
        "Observed augmentation",
        "Spearman: score against the task's observed augmentation share",
        0.0,
    ),
    ("economic_index", "auc_augmentation"): (
        "Observed augmentation",
        "AUC: mostly augmentative tasks (share > 0.5) against the others",
        0.5,
    ),
    ("new_work", "auc_new_vs_established"): (
        "New work",
        "AUC: new tasks against established ones of the same occupation",
        0.5,
    ),
    ("new_work", "pearson_new_share"): (
        "New work",
        "Pearson: occupation's creation against its share of new tasks",
        0.0,
    ),
    ("new_work", "spearman_new_share"): (
        "New work",
        "Spearman: occupation's creation against its share of new tasks",
        0.0,
    ),
    ("usage", "auc_in_use"): (
        "Observed use (exposure check)",
        "AUC of exposure (zeta): the task appears in observed LLM use",
        0.5,
    ),
}
# Source of the compared scores (validation_metrics.source) -> column of the table.
CREATION_SOURCES = {
    "ours": "ours",
    "zero-shot": "zero_shot",
    "formula": "formula",
    "human": "human",
}


def creation_section(
    con: duckdb.DuckDBPyConnection,
    *,
    keys: Sequence[str],
    top_lists: dict[str, Any],
    families: dict[str, Any],
    validation: dict[str, Any],
) -> dict[str, Any]:
    """Everything the report says about creation besides the roll-up itself.

    Returns
    -------
    dict
        ``source`` (``calibrated`` when the scoring's head answers the creation question,
        else ``zero-shot``) with the answer counts, ``validation`` (see
        :func:`creation_validation`), ``occupations`` (new-work evidence of the occupations
        in the creation top lists: ``share_new``, ``new_tasks``, ``emerging``...),
        ``families`` (the families with most creation, with their new tasks) and
        ``baseline_release``.
    """
    answers = store_creation.creation_answers(con, keys)
    source = "calibrated" if keys[2] and answers["calibrated"] > 0 else "zero-shot"
    codes = sorted(
        {
            str(code)
            for name in ("created", "created_workers")
            for code in top_lists[name]["onet_soc_code"]
        }
    )
    evidence = store_creation.occupation_new_work(con, codes)
    releases = evidence["baseline_release"].dropna().unique()
    return {
        "source": source,
        "answers": answers,
        "baseline_release": str(releases[0]) if len(releases) else None,
        "occupations": {
            "evidence": {str(r["onet_soc_code"]): r for r in evidence.to_dict("records")},
            "new_tasks": store_creation.new_task_examples(con, codes, N_EXAMPLES),
            "emerging": store_creation.emerging_task_examples(con, codes, N_EXAMPLES),
        },
        "families": _families_with_most_creation(con, families),
        "validation": creation_validation(con, validation),
    }


def _families_with_most_creation(
    con: duckdb.DuckDBPyConnection, families: dict[str, Any]
) -> dict[str, Any]:
    """The task families with the highest employment-weighted creation (at least
    ``MIN_FAMILY_TASKS`` scored tasks), with their new-work counts and example new tasks."""
    if not families["available"]:
        return {"available": False}
    table: pd.DataFrame = families["table"]
    clustering_id = families["clustering"]["clustering_id"]
    scored = table[(table["n_tasks_scored"] >= MIN_FAMILY_TASKS) & table["creation"].notna()]
    top = scored.sort_values(["creation", "size"], ascending=False).head(N_FAMILIES)
    counts = store_creation.family_new_work(con, clustering_id)[["cluster_id", "n_new"]]
    top = top.merge(counts, on="cluster_id", how="left").reset_index(drop=True)
    examples = store_creation.family_new_task_examples(
        con, clustering_id, list(top["cluster_id"]), N_EXAMPLES
    )
    top["new_tasks"] = [examples.get(int(c), []) for c in top["cluster_id"]]
    return {"available": True, "table": top, "min_tasks": MIN_FAMILY_TASKS}


# ----------------------------------------------------------------------------- validation


def creation_validation(
    con: duckdb.DuckDBPyConnection, validation: dict[str, Any]
) -> dict[str, Any]:
    """The creation checks of the latest validation of the scoring, or
    ``{"available": False}`` when it has none (or there is no validation at all).

    ``table`` has one row per check in :data:`CREATION_CHECKS`, columns ``<source>``,
    ``<source>_low``, ``<source>_high`` for each source of :data:`CREATION_SOURCES`, the
    ``null`` value (chance or no relation), ``n`` and ``reading`` of our score against
    the null value: ``above``, ``below`` or ``unclear`` (its interval holds the null value),
    or None without an interval.
    """
    if not validation["available"]:
        return {"available": False}
    metrics: pd.DataFrame = validation["metrics"]
    references = {reference for reference, _ in CREATION_CHECKS}
    found = metrics[metrics["reference"].isin(references)]
    if found.empty:
        return {"available": False}
    table = _checks_table(found)
    record = store_creation.validation_creation_record(con, validation["validation_id"])
    reading = dict(zip(table["metric"], table["reading"], strict=True))
    records = table.to_dict("records")
    value = {(r["metric"], s): r[s] for r in records for s in CREATION_SOURCES.values()}
    return {
        "available": True,
        "table": table,
        "groups": list(dict.fromkeys(table["group"])),
        "labels_name": record["labels_name"],
        "n_labelled": record["n_labelled"],
        "reading": reading,
        "head_beats_formula": _beats(value, "spearman_augmentation", "ours", "formula"),
        "head_beats_zero_shot": _beats(value, "spearman_augmentation", "ours", "zero_shot"),
        "ours_vs_human_use": _beats(value, "auc_in_use", "ours", "human"),
    }


def _checks_table(found: pd.DataFrame) -> pd.DataFrame:
    """One row per creation check present, one column triple per compared score."""
    rows = []
    for (reference, metric), (group, name, null) in CREATION_CHECKS.items():
        part = found[(found["reference"] == reference) & (found["metric"] == metric)]
        if part.empty:
            continue
        row: dict[str, Any] = {
            "reference": reference,
            "metric": metric,
            "group": group,
            "name": name,
            "null": null,
            "n": int(part["n"].max()),
        }
        for column in CREATION_SOURCES.values():
            row.update({column: None, f"{column}_low": None, f"{column}_high": None})
        for item in part.to_dict("records"):
            found_in = CREATION_SOURCES.get(str(item["source"]))
            if found_in is not None:
                row[found_in] = as_float(item["value"])
                row[f"{found_in}_low"] = as_float(item["ci_low"])
                row[f"{found_in}_high"] = as_float(item["ci_high"])
        row["reading"] = _reading(row["ours"], row["ours_low"], row["ours_high"], null)
        rows.append(row)
    return pd.DataFrame(rows)


def _reading(value: float | None, low: float | None, high: float | None, null: float) -> str | None:
    """Where a figure stands against chance (or no relation), by its 95% interval."""
    if value is None or low is None or high is None:
        return None
    if low > null:
        return "above"
    if high < null:
        return "below"
    return "unclear"


def _beats(value: dict[tuple[str, str], float | None], metric: str, a: str, b: str) -> bool | None:
    """Whether source ``a`` scores higher than ``b`` on ``metric``; None if either lacks it."""
    x, y = value.get((metric, a)), value.get((metric, b))
    if x is None or y is None:
        return None
    return bool(x > y)


# ----------------------------------------------------------------------------- quadrants


def quadrant_views(occupations: pd.DataFrame, scoring: dict[str, Any]) -> dict[str, Any]:
    """Employment shares per quadrant at the stated lines, as the lines move, and in the
    relative view (lines at the roll-up's employment-weighted medians).

    ``sensitivity`` has one row per pair of lines: both lines at each of
    :data:`~jobimpact.aggregate.SENSITIVITY_THRESHOLDS` (``quadrant_sensitivity``), plus
    the stated pair when it is not among them; ``stated`` marks the pair the report uses.
    """
    d_line, c_line = scoring["displacement_threshold"], scoring["creation_threshold"]
    frame = occupations.dropna(subset=["displacement", "creation", "employment"])
    frame = frame[frame["employment"] > 0]
    if frame.empty:
        return {"available": False, "displacement_line": d_line, "creation_line": c_line}
    together = quadrant_sensitivity(frame, thresholds=SENSITIVITY_THRESHOLDS)
    together = together.assign(
        displacement_line=together["threshold"], creation_line=together["threshold"]
    )
    pairs = set(zip(together["displacement_line"], together["creation_line"], strict=True))
    rows = [together.drop(columns="threshold")]
    if d_line is not None and c_line is not None and (d_line, c_line) not in pairs:
        placed = quadrant_of(frame["displacement"], frame["creation"], d_line, c_line)
        rows.append(pd.DataFrame([_shares(frame, placed, d_line, c_line)]))
    table = pd.concat(rows, ignore_index=True).sort_values(["displacement_line", "creation_line"])
    stated = np.isclose(table["displacement_line"], d_line if d_line is not None else np.nan)
    stated &= np.isclose(table["creation_line"], c_line if c_line is not None else np.nan)
    d_median = as_float(frame["displacement_median"].iloc[0])
    c_median = as_float(frame["creation_median"].iloc[0])
    relative = _shares(frame, frame["quadrant_relative"].to_numpy(), d_median, c_median)
    return {
        "available": True,
        "displacement_line": d_line,
        "creation_line": c_line,
        "quadrants": list(QUADRANTS),
        "sensitivity": table.assign(stated=stated).reset_index(drop=True),
        "relative": relative,
    }


def _shares(
    frame: pd.DataFrame, placed: Any, d_line: float | None, c_line: float | None
) -> dict[str, Any]:
    """Employment share per quadrant of the occupations placed as ``placed``."""
    employment = frame["employment"].to_numpy(float)
    total = float(employment.sum())
    labels = np.asarray(placed)
    shares = {q: float(employment[labels == q].sum() / total) for q in QUADRANTS}
    return {"displacement_line": d_line, "creation_line": c_line, **shares}
