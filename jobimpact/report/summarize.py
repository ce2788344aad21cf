"""Store → summary: everything the report shows, as a plain dict of numbers and DataFrames.

Reads the store read-only; every query is a named constant with bound parameters. The
dict is the contract between this module and the renderer: plots and templates read it and
nothing else, so a notebook can inspect or reuse it (``Report.summary``).

Which scoring is reported: the latest aggregated one (``occupation_scores``), preferring a
calibrated head over the zero-shot scores of the same model; ``model_id`` / ``head_id``
choose another.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from jobimpact import __version__
from jobimpact.aggregate import QUADRANTS
from jobimpact.drivers import task_drivers, with_weight_shares
from jobimpact.errors import ConfigError
from jobimpact.report import sections
from jobimpact.report.comparison import comparison
from jobimpact.report.creation import creation_section, quadrant_views
from jobimpact.report.sections import as_float
from jobimpact.store.scores import occupation_tasks

__all__ = ["TOP_N", "summarize", "summarize_store"]

# Occupations in each top list.
TOP_N = 10
# Exposure thresholds of the headline (Eloundou et al.: share of workers with >= 10% / 50%).
EXPOSURE_THRESHOLDS = (0.1, 0.5)
N_WAGE_BINS = 10

SELECT_AGGREGATE_RUN = """
SELECT s.run_id, r.started_at
FROM occupation_scores AS s LEFT JOIN runs AS r USING (run_id)
WHERE s.model_id = ? AND s.rubric_hash = ? AND s.head_id = ? AND s.weighting = ?
ORDER BY r.started_at DESC NULLS LAST LIMIT 1
"""
COUNT_ROLLUPS = """
SELECT count(*) FROM (SELECT DISTINCT model_id, rubric_hash, head_id, weighting
                      FROM occupation_scores)
"""
COUNT_TASKS_WITH_SCORES = """
SELECT count(DISTINCT m.task_id)
FROM task_measures AS m
JOIN tasks AS t USING (task_id)
JOIN occupations AS o USING (onet_soc_code)
WHERE m.model_id = $1 AND m.rubric_hash = $2 AND m.head_id = $3
  AND ($4::VARCHAR IS NULL OR o.soc_major = $4::VARCHAR)
"""
SELECT_OCCUPATIONS = """
SELECT * FROM occupation_impact
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
ORDER BY onet_soc_code
"""
SELECT_MAJOR_GROUPS = """
SELECT g.soc_major, g.major_group, g.n_occupations_with_tasks, g.n_tasks AS n_tasks_total,
       g.employment AS employment_matched,
       i.n_occupations, i.n_tasks_scored, i.employment, i.beta, i.displacement,
       i.creation, i.employment_at_risk, i.employment_transforming,
       i.employment_augmented, i.employment_little_change
FROM major_group_summary AS g
LEFT JOIN (
    SELECT * FROM major_group_impact
    WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
) AS i USING (soc_major)
WHERE g.n_tasks > 0
ORDER BY g.soc_major
"""
SELECT_STORE_TOTALS = """
SELECT (SELECT count(*) FROM tasks) AS n_tasks,
       (SELECT count(*) FROM occupation_overview WHERE n_tasks > 0) AS n_occupations,
       (SELECT matched_employment FROM employment_coverage) AS employment,
       (SELECT total_employment FROM employment_coverage) AS oews_employment
"""


def summarize_store(
    db: str | Path,
    *,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    weighting: str = "rating",
    major_group: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Open the store read-only, summarize it for the report and close it again.

    See :func:`summarize` for the parameters and the returned dict.
    """
    from jobimpact.store import open_store

    with open_store(db, read_only=True) as con:
        return summarize(
            con,
            db=Path(db),
            model_id=model_id,
            rubric_hash=rubric_hash,
            head_id=head_id,
            weighting=weighting,
            major_group=major_group,
            title=title,
        )


def summarize(
    con: duckdb.DuckDBPyConnection,
    *,
    db: Path,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    weighting: str = "rating",
    major_group: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Everything the report shows, read from an open store.

    Parameters
    ----------
    con
        A connection to the store (read-only is enough).
    db
        The store's path, named in the report and in error messages.
    model_id, rubric_hash, head_id
        The scoring to report (default: see :meth:`~jobimpact.report.Report.from_store`).
    weighting
        The task weighting of the roll-up (``rating`` or ``type``).
    major_group
        SOC major group to focus on: a code (``15-0000`` or ``15``) or part of its title.
        The headline, scatter, top lists and wage bins then cover that group only.
    title
        Report title (default: a descriptive one).

    Returns
    -------
    dict
        ``title``, ``generated_at``, ``jobimpact_version``, ``store``, ``focus``,
        ``scoring`` (with the zero-shot ``answers``, ``text_answers``, ``text_tasks``),
        ``coverage``, ``headline``, ``occupations``, ``major_groups``, ``wage_bins``
        (DataFrames), ``families``, ``top_lists``, ``quadrants`` (stated lines, moved,
        relative), ``validation``, ``creation`` (source, validation, new-work evidence),
        ``comparison`` (the latest stored), ``provenance``.
    """
    scoring = _choose_scoring(
        con, db, model_id=model_id, rubric_hash=rubric_hash, head_id=head_id, weighting=weighting
    )
    keys = [scoring["model_id"], scoring["rubric_hash"], scoring["head_id"]]
    all_occupations = con.execute(SELECT_OCCUPATIONS, [*keys, weighting]).df()
    major_groups = con.execute(SELECT_MAJOR_GROUPS, [*keys, weighting]).df()
    focus = _resolve_focus(major_groups, major_group)
    occupations = _in_focus(all_occupations, focus, major_group, db)
    first = all_occupations.iloc[0]
    for line in ("displacement_threshold", "creation_threshold"):
        scoring[line] = as_float(first[line])
    families = sections.families(con, keys)
    provenance = sections.provenance(con, scoring, families.get("clustering"))
    scoring["backend"] = ", ".join(provenance["backends"]) or "unknown"
    # Answers read from the model's text have P(Yes) 0 or 1: the method section says so.
    scoring.update(provenance["answer_sources"])
    top_lists = _top_lists(con, occupations, keys, weighting=weighting)
    validation = sections.validation(con, keys)
    creation = creation_section(
        con, keys=keys, top_lists=top_lists, families=families, validation=validation
    )
    return {
        "title": title or _default_title(focus),
        "generated_at": datetime.now(UTC).replace(microsecond=0),
        "jobimpact_version": __version__,
        "store": str(db),
        "focus": focus,
        "scoring": scoring,
        "coverage": _coverage(con, occupations, major_groups, focus, keys),
        "headline": _headline(occupations),
        "occupations": occupations.reset_index(drop=True),
        "major_groups": major_groups,
        "wage_bins": wage_bins(occupations),
        "families": families,
        "top_lists": top_lists,
        "quadrants": quadrant_views(occupations, scoring),
        "validation": validation,
        "creation": creation,
        "comparison": comparison(con, [*keys, weighting], weighting=weighting),
        "provenance": provenance,
    }


def _in_focus(
    occupations: pd.DataFrame, focus: dict[str, str] | None, asked: str | None, db: Path
) -> pd.DataFrame:
    """The occupations of the focus major group (all without one); ConfigError if none."""
    if focus is None:
        return occupations
    chosen = occupations[occupations["soc_major"] == focus["soc_major"]]
    if chosen.empty:
        raise ConfigError(
            f"--major-group: got {asked!r} ({focus['major_group']}) with no scored "
            f"occupations in {db}, expected a group with scores"
        )
    return chosen


def _default_title(focus: dict[str, str] | None) -> str:
    base = "How large language models shift work: displacement and creation of tasks"
    return f"{base} — {focus['major_group']}" if focus else base


def _choose_scoring(
    con: duckdb.DuckDBPyConnection,
    db: Path,
    *,
    model_id: str | None,
    rubric_hash: str | None,
    head_id: str | None,
    weighting: str,
) -> dict[str, Any]:
    """The roll-up to report (:func:`~jobimpact.store.scorings.resolve_scoring`), with
    the run that aggregated it."""
    from jobimpact.store.scorings import resolve_scoring

    key = resolve_scoring(
        con,
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id=head_id,
        weighting=weighting,
        aggregated=True,
        where=str(db),
    )
    run = con.execute(SELECT_AGGREGATE_RUN, key.params).fetchone()
    n_scorings = con.execute(COUNT_ROLLUPS).fetchone()
    return {
        "model_id": key.model_id,
        "rubric_hash": key.rubric_hash,
        "head_id": key.head_id,
        "method": key.method,
        "weighting": key.weighting,
        "aggregate_run_id": run[0] if run else None,
        "aggregated_at": run[1] if run else None,
        "other_scorings": (n_scorings[0] if n_scorings else 1) - 1,
    }


def _resolve_focus(major_groups: pd.DataFrame, wanted: str | None) -> dict[str, str] | None:
    """The major group named by a code (``15-0000``, ``15``) or part of its title."""
    if wanted is None:
        return None
    text = wanted.strip().lower()
    code = text if "-" in text else f"{text}-0000"
    hits = major_groups[
        (major_groups["soc_major"] == code)
        | major_groups["major_group"].str.lower().str.contains(text, regex=False)
    ]
    if len(hits) != 1:
        options = ", ".join(major_groups["soc_major"])
        raise ConfigError(
            f"--major-group: got {wanted!r} ({len(hits)} matches), expected one SOC major "
            f"group code or a unique part of its title ({options})"
        )
    return {"soc_major": str(hits.iloc[0]["soc_major"]), "major_group": hits.iloc[0]["major_group"]}


def _coverage(
    con: duckdb.DuckDBPyConnection,
    occupations: pd.DataFrame,
    major_groups: pd.DataFrame,
    focus: dict[str, str] | None,
    keys: Sequence[str],
) -> dict[str, Any]:
    """How much of the store (or of the focus group) the scores cover.

    ``tasks_scored`` counts the tasks in the occupation roll-up; ``tasks_incomplete`` the
    tasks of the same occupations or major group(s) that have scores for only some
    questions (e.g. a creation-only run), which the roll-up leaves out.
    """
    totals = con.execute(SELECT_STORE_TOTALS).df().iloc[0]
    n_tasks, n_occupations = int(totals["n_tasks"]), int(totals["n_occupations"])
    employment_total = as_float(totals["employment"])
    if focus is not None:
        group = major_groups[major_groups["soc_major"] == focus["soc_major"]].iloc[0]
        n_tasks, n_occupations = int(group["n_tasks_total"]), int(group["n_occupations_with_tasks"])
        employment_total = as_float(group["employment_matched"])
    tasks_scored = int(occupations["n_tasks"].sum())
    with_scores = con.execute(
        COUNT_TASKS_WITH_SCORES, [*keys, focus["soc_major"] if focus else None]
    ).fetchone()
    employment_covered = float(occupations["employment"].fillna(0).sum())
    scored_groups = major_groups["n_occupations"].fillna(0) > 0
    return {
        "tasks_scored": tasks_scored,
        "tasks_total": n_tasks,
        "tasks_incomplete": max((with_scores[0] if with_scores else 0) - tasks_scored, 0),
        "occupations_scored": len(occupations),
        "occupations_total": n_occupations,
        "occupations_complete": int((occupations["n_tasks"] == occupations["n_tasks_total"]).sum()),
        "employment_covered": employment_covered,
        "employment_total": employment_total,
        "employment_share": employment_covered / employment_total if employment_total else None,
        "oews_employment": as_float(totals["oews_employment"]),
        "major_groups_scored": int(scored_groups.sum()),
        "major_groups_total": len(major_groups),
        "has_employment": bool(employment_covered > 0),
        "is_partial": tasks_scored < n_tasks,
    }


def _share_at_least(frame: pd.DataFrame, column: str, threshold: float) -> float:
    total = frame["employment"].sum()
    return float(frame.loc[frame[column] >= threshold, "employment"].sum() / total)


def _headline(occupations: pd.DataFrame) -> dict[str, Any]:
    """Employment-weighted headline figures over occupations with employment.

    The same formulas as the ``economy_impact`` view, over the reported occupations; the
    range of each exposed-worker share counts an occupation in when the low (or high) end
    of its 95% bootstrap interval of beta reaches the threshold.
    """
    frame = occupations[occupations["employment"].fillna(0) > 0]
    if frame.empty:
        return {"available": False}
    employment = frame["employment"].to_numpy(float)
    total = float(employment.sum())
    # Occupations with one scored task have no interval: their point value stands in.
    low = frame["beta_low"].fillna(frame["beta"])
    high = frame["beta_high"].fillna(frame["beta"])
    bounded = frame.assign(beta_low_or_point=low, beta_high_or_point=high)
    exposed = [
        {
            "threshold": threshold,
            "share": _share_at_least(bounded, "share_exposed", threshold),
            "low": _share_at_least(bounded, "beta_low_or_point", threshold),
            "high": _share_at_least(bounded, "beta_high_or_point", threshold),
        }
        for threshold in EXPOSURE_THRESHOLDS
    ]
    quadrants = []
    for name in QUADRANTS:
        members = frame[frame["quadrant"] == name]
        quadrants.append(
            {
                "quadrant": name,
                "employment": float(members["employment"].sum()),
                "share": float(members["employment"].sum() / total),
                "wage_bill": float(members["wage_bill"].fillna(0).sum()),
                "n_occupations": len(members),
            }
        )

    def weighted(column: str, weight: str = "employment") -> float | None:
        chosen = frame[frame[weight].fillna(0) > 0]
        if chosen.empty:
            return None
        return float(np.average(chosen[column].to_numpy(float), weights=chosen[weight]))

    return {
        "available": True,
        "employment": total,
        "n_occupations": len(frame),
        "beta": weighted("beta"),
        "displacement": weighted("displacement"),
        "creation": weighted("creation"),
        "displacement_wage_weighted": weighted("displacement", "wage_bill"),
        "creation_wage_weighted": weighted("creation", "wage_bill"),
        "exposed": exposed,
        "quadrants": quadrants,
    }


def wage_bins(occupations: pd.DataFrame, *, n_bins: int = N_WAGE_BINS) -> pd.DataFrame:
    """Employment-weighted wage deciles: each holds about a tenth of the workers.

    Occupations are ordered by annual mean wage and put in the bin that holds the middle
    of their employment; each bin gets the employment-weighted mean exposure (beta),
    displacement and creation-axis measure of its occupations.
    """
    frame = occupations.dropna(subset=["annual_mean_wage", "employment"])
    frame = frame[frame["employment"] > 0].sort_values("annual_mean_wage")
    columns = [
        "bin",
        "employment",
        "n_occupations",
        "wage_min",
        "wage_max",
        "beta",
        "displacement",
        "creation",
    ]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    employment = frame["employment"].to_numpy(float)
    middle = (np.cumsum(employment) - employment / 2) / employment.sum()
    frame = frame.assign(bin=np.minimum((middle * n_bins).astype(int) + 1, n_bins))
    rows = []
    for _, group in frame.groupby("bin"):
        weights = group["employment"].to_numpy(float)
        row: dict[str, Any] = {
            "bin": int(group["bin"].iloc[0]),
            "employment": float(weights.sum()),
            "n_occupations": len(group),
            "wage_min": float(group["annual_mean_wage"].min()),
            "wage_max": float(group["annual_mean_wage"].max()),
        }
        for measure in ("beta", "displacement", "creation"):
            row[measure] = float(np.average(group[measure].to_numpy(float), weights=weights))
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _top_lists(
    con: duckdb.DuckDBPyConnection,
    occupations: pd.DataFrame,
    keys: Sequence[str],
    *,
    weighting: str,
) -> dict[str, Any]:
    """The most displaced and largest at-risk occupations; those with most creation, by
    score and by worker-equivalents (employment × creation); each with its driving tasks.

    Every list carries ``creation_workers`` (employment × creation) and
    ``creation_wage_bill`` (wage bill × creation): creation weighted by employment and by
    wage bill, as the headline weighs displacement.
    """
    occupations = occupations.assign(
        creation_workers=occupations["employment"] * occupations["creation"],
        creation_wage_bill=occupations["wage_bill"] * occupations["creation"],
    )
    employed = occupations[occupations["employment"].fillna(0) > 0]
    displaced = occupations.sort_values(["displacement", "employment"], ascending=False)
    created = occupations.sort_values(["creation", "employment"], ascending=False)
    created_workers = employed.sort_values(["creation_workers", "creation"], ascending=False)
    at_risk = employed[employed["quadrant"] == "at risk"].sort_values("employment", ascending=False)
    lists = {
        "displaced": (displaced.head(TOP_N), "displacement"),
        "created": (created.head(TOP_N), "creation"),
        "created_workers": (created_workers.head(TOP_N), "creation"),
        "at_risk": (at_risk.head(TOP_N), "displacement"),
    }
    codes = sorted({code for frame, _ in lists.values() for code in frame["onet_soc_code"]})
    tasks = with_weight_shares(occupation_tasks(con, keys, codes), weighting=weighting)
    result: dict[str, Any] = {"n": TOP_N}
    for name, (frame, measure) in lists.items():
        result[name] = frame.reset_index(drop=True)
        result[f"{name}_drivers"] = task_drivers(tasks, frame["onet_soc_code"], measure)
    return result
