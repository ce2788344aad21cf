"""Figures of the "How this compares" section: the correlation heat map and the small
multiples of ours against each published measure. Same conventions as
:mod:`jobimpact.report.plots`: a Figure back, a title, labelled axes and a source line."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from jobimpact.report.style import (
    CREATION_COLOUR,
    DISPLACEMENT_COLOUR,
    EXPOSURE_COLOUR,
    PAGE_WIDTH,
    add_source_line,
    new_figure,
    styled,
    wrap_label,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

__all__ = ["comparison_scatter", "correlation_heatmap"]

# Diverging and safe for the common colour-vision deficiencies; values are printed in
# every cell, so the figure also reads in greyscale.
DIVERGING_MAP = "PuOr_r"
OURS_COLOURS = {
    "beta": EXPOSURE_COLOUR,
    "displacement": DISPLACEMENT_COLOUR,
    "creation": CREATION_COLOUR,
}
RASTER_DPI = 200  # resolution of the rasterized markers
OURS_NAMES = {"beta": "exposure (beta)", "displacement": "displacement", "creation": "creation"}


def correlation_heatmap(
    matrices: Mapping[str, pd.DataFrame], labels: Mapping[str, str], *, source: str
) -> Figure:
    """One panel per matrix (e.g. unweighted and employment-weighted Spearman): rows are
    our measures then the published ones, columns the published ones; each pair of
    published measures is shown once (above the diagonal)."""
    # The last published measure's row would be empty: its pairs are in the rows above.
    matrices = {title: _upper(matrix).iloc[:-1] for title, matrix in matrices.items()}
    first = next(iter(matrices.values()))
    n_rows, n_cols = first.shape
    with styled():
        figure = new_figure(PAGE_WIDTH, 1.6 + 0.36 * n_rows)
        axes = figure.subplots(1, len(matrices), sharey=True, squeeze=False)[0]
        figure.suptitle("Rank correlation of occupation measures (Spearman)")
        image = None
        for ax, (title, matrix) in zip(axes, matrices.items(), strict=True):
            image = _heat(ax, matrix, title)
        names = [_row_name(row, labels) for row in first.index]
        axes[0].set_yticks(range(n_rows), [wrap_label(n, width=26) for n in names], fontsize=7)
        for ax in axes:
            ax.set_xticks(
                range(n_cols),
                [wrap_label(labels.get(c, c), width=17) for c in first.columns],
                fontsize=6.5,
                rotation=35,
                ha="right",
                rotation_mode="anchor",
            )
        if image is not None:
            bar = figure.colorbar(image, ax=list(axes), shrink=0.8, pad=0.02, aspect=25)
            bar.set_label("correlation (−1 to 1)", fontsize=7)
            bar.ax.tick_params(labelsize=6.5)
        add_source_line(figure, source)
    return figure


def _row_name(row: str, labels: Mapping[str, str]) -> str:
    """``ours: exposure (beta)`` for our measures, the short label for published ones."""
    return f"ours: {OURS_NAMES[row]}" if row in OURS_NAMES else labels.get(row, row)


def _upper(matrix: pd.DataFrame) -> pd.DataFrame:
    """Blank the diagonal and the lower triangle among the published measures."""
    shown = matrix.copy()
    columns = list(matrix.columns)
    for row in matrix.index:
        if row in columns:
            for column in columns[: columns.index(row) + 1]:
                shown.loc[row, column] = np.nan
    return shown


def _heat(ax: Axes, matrix: pd.DataFrame, title: str) -> AxesImage:
    """Draw one matrix with its values written in the cells."""
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap=DIVERGING_MAP, vmin=-1, vmax=1, aspect="auto"
    )
    ax.set_facecolor("white")
    for (i, j), value in np.ndenumerate(values):
        if math.isnan(value):
            continue
        colour = "white" if abs(value) > 0.6 else "#111111"
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=colour)
    n_ours = sum(1 for row in matrix.index if row in OURS_NAMES)
    ax.axhline(n_ours - 0.5, color="#333333", linewidth=0.8)
    ax.set_title(title, fontsize=8.5, loc="left")
    for spine in ax.spines.values():
        spine.set_visible(False)
    return image


def comparison_scatter(
    pairs: pd.DataFrame,
    measures: Sequence[str],
    *,
    labels: Mapping[str, str],
    counterparts: Mapping[str, str],
    spearman: Mapping[str, tuple[float | None, int]],
    source: str,
) -> Figure:
    """One panel per published measure: its value (x) against our counterpart measure
    (y) for every compared occupation, marker area proportional to employment."""
    n_cols = min(3, len(measures))
    n_rows = math.ceil(len(measures) / n_cols)
    largest = float(pairs["employment"].max()) if pairs["employment"].notna().any() else 0.0
    with styled():
        figure = new_figure(PAGE_WIDTH, 0.6 + 2.35 * n_rows)
        figure.set_dpi(RASTER_DPI)
        axes = figure.subplots(n_rows, n_cols, squeeze=False).ravel()
        figure.suptitle("Ours against each published measure, by occupation")
        for ax, measure in zip(axes, measures, strict=False):
            ours = counterparts[measure]
            part = pairs[pairs["measure"] == measure].dropna(subset=["value", ours])
            area = 3 + 90 * part["employment"].fillna(0) / (largest if largest > 0 else 1.0)
            ax.scatter(
                part["value"],
                part[ours],
                s=area,
                color=OURS_COLOURS.get(ours, EXPOSURE_COLOUR),
                alpha=0.45,
                edgecolors="white",
                linewidths=0.3,
                # Thousands of markers: drawn as one image per panel (axes and text stay
                # vector), so the page stays small and renders fast.
                rasterized=True,
            )
            ax.set_title(wrap_label(labels.get(measure, measure), width=30), fontsize=8, loc="left")
            ax.set_xlabel(f"{labels.get(measure, measure)} (as published)", fontsize=7)
            ax.set_ylabel(f"ours: {OURS_NAMES.get(ours, ours)} (0–1)", fontsize=7)
            ax.tick_params(labelsize=6.5)
            rho, n = spearman.get(measure, (None, len(part)))
            text = f"Spearman {rho:.2f}, n = {n}" if rho is not None else f"n = {n}"
            ax.text(0.02, 0.98, text, transform=ax.transAxes, ha="left", va="top", fontsize=6.8,
                    bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1})  # fmt: skip
        for ax in axes[len(measures) :]:
            ax.set_axis_off()
        add_source_line(figure, source + " Marker area ∝ occupation employment (BLS OEWS).")
    return figure
