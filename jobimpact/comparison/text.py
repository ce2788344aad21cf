"""The plain-text tables ``jobimpact compare`` prints: coverage per measure, the
correlation matrices, and the largest disagreements with the tasks behind them."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from jobimpact.comparison.catalog import OURS

__all__ = ["format_coverage", "format_disagreements", "format_matrix"]

MATRICES = (
    ("spearman", "none", "Spearman, unweighted"),
    ("spearman", "employment", "Spearman, employment-weighted"),
    ("pearson", "none", "Pearson, unweighted"),
    ("pearson", "employment", "Pearson, employment-weighted"),
)
_CELL = 19


def _share(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.1%}"


def format_coverage(coverage: pd.DataFrame) -> str:
    """One line per measure: code system, codes kept / unknown / matched, occupations and
    employment reached, and occupations per crosswalk rule."""
    header = (
        f"{'measure':<22}{'codes':<9}{'kept':>6}{'unknown':>8}{'matched':>8}"
        f"{'occupations':>17}{'employment':>19}   one-to-one / copy / merged"
    )
    lines = [header]
    for row in coverage.itertuples(index=False):
        reached = f"{row.occupations_matched}/{row.occupations_with_tasks}"
        occupations = f"{reached} ({_share(row.occupation_share)})"
        workers = float(row.employment_matched)  # type: ignore[arg-type]
        employment = f"{workers / 1e6:,.1f} M ({_share(row.employment_share)})"
        lines.append(
            f"{row.measure:<22}{row.code_system:<9}{row.n_codes:>6}{row.n_unknown:>8}"
            f"{row.n_codes_matched:>8}{occupations:>17}{employment:>19}   "
            f"{row.n_one_to_one} / {row.n_equal_copy} / {row.n_merged}"
        )
    return "\n".join(lines)


def _cell(row: Mapping[Any, Any] | None) -> str:
    if row is None:
        return ""
    value = float(row["value"])
    if math.isnan(value):
        return f"n/a (n={row['n']})"
    low, high = float(row["ci_low"]), float(row["ci_high"])
    if math.isnan(low):
        return f"{value:+.2f}"
    return f"{value:+.2f} [{low:+.2f},{high:+.2f}]"


def format_matrix(
    correlations: pd.DataFrame, measures: Sequence[str], *, method: str, weights: str, title: str
) -> str:
    """Rows: ours then each measure; columns: the measures; cells: value [95% interval]."""
    chosen = correlations[(correlations["method"] == method) & (correlations["weights"] == weights)]
    cells = {(r["x"], r["y"]): r for r in chosen.to_dict("records")}
    width = max([len(m) for m in measures] + [_CELL])
    lines = [f"{title} (95% bootstrap interval over occupations)"]
    lines.append(" " * 22 + "".join(f"{m:>{width + 2}}" for m in measures))
    for x in [*OURS, *measures[:-1]]:
        # Pairs of external measures are stored once: the upper triangle.
        texts = [_cell(cells.get((x, y))) for y in measures]
        label = f"ours: {x}" if x in OURS else x
        lines.append(f"{label:<22}" + "".join(f"{t:>{width + 2}}" for t in texts))
    counts = chosen[chosen["x"].isin(OURS)].groupby("y")["n"].max()
    lines.append(
        "occupations compared with ours: "
        + ", ".join(f"{m} {int(counts.get(m, 0))}" for m in measures)
    )
    return "\n".join(lines)


def format_disagreements(
    disagreements: pd.DataFrame,
    drivers: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    per_direction: int = 3,
) -> str:
    """Per measure, the occupations ranked most differently, with the task adding most
    to our counterpart measure there."""
    lines = []
    for (measure, ours), group in disagreements.groupby(["measure", "ours"], sort=False):
        lines.append(f"{measure} vs our {ours} (percentile ranks, ours vs theirs):")
        for direction, part in group.groupby("direction", sort=False):
            for row in part.head(per_direction).itertuples(index=False):
                lines.append(
                    f"  {direction:<12} {row.ours_rank:.2f} vs {row.their_rank:.2f}  "
                    f"{row.title} ({row.onet_soc_code})"
                )
                tasks = drivers.get(str(measure), {}).get(str(row.onet_soc_code))
                if tasks is not None and not tasks.empty:
                    top = tasks.iloc[0]
                    text = textwrap.shorten(str(top["task"]), width=90, placeholder=" …")
                    lines.append(f"{'':<16}top task ({ours} {float(top['value']):.2f}): {text}")
    return "\n".join(lines)
