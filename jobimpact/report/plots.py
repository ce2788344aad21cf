"""Report figures: each function takes DataFrames and returns a matplotlib Figure.

Nothing here shows or saves a figure (``render.figure_to_svg`` does the saving). Every
figure has a title, axis labels with units and a source line; the look is set in
:mod:`jobimpact.report.style`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from jobimpact.report.flow import flow_diagram
from jobimpact.report.style import (
    CREATION_COLOUR,
    DISPLACEMENT_COLOUR,
    DISPLACEMENT_HATCH,
    EXPOSURE_COLOUR,
    MIN_FAMILY_TASKS,
    PAGE_WIDTH,
    SEQUENTIAL_MAP,
    add_source_line,
    axis_label,
    freeze_layout,
    group_styles,
    new_figure,
    place_labels,
    short_group,
    styled,
    wrap_label,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure

__all__ = [
    "family_map",
    "flow_diagram",
    "major_group_bars",
    "place_labels",
    "quadrant_scatter",
    "reliability_curve",
    "wage_profile",
]


def quadrant_scatter(
    occupations: pd.DataFrame,
    *,
    displacement_threshold: float | None,
    creation_threshold: float | None,
    source: str,
    n_labels: int = 14,
    creation_source: str = "calibrated",
) -> Figure:
    """Occupations by displacement (x) and the creation axis (y), sized by employment.

    Colour and marker encode the major group; dashed lines are the stated quadrant lines
    (the thresholds of the roll-up); the largest occupations are labelled where a label
    fits without overlapping. ``creation_source`` (``calibrated`` or ``zero-shot``) names
    what the y axis holds.
    """
    frame = occupations.dropna(subset=["displacement", "creation"])
    styles = group_styles(list(frame["soc_major"]))
    largest = float(frame["employment"].max()) if frame["employment"].notna().any() else 0.0
    area = 6 + 320 * frame["employment"].fillna(0) / (largest if largest > 0 else 1.0)
    with styled():
        figure = new_figure(PAGE_WIDTH, 8.6)
        n_rows = math.ceil(frame["soc_major"].nunique() / 2)
        ax, legend_ax = figure.subplots(2, 1, height_ratios=[6.4, 0.35 + 0.16 * n_rows])
        legend_ax.set_axis_off()
        ax.set_title("Displacement versus creation, by occupation", loc="left")
        handles, labels = [], []
        for code, group in frame.groupby("soc_major"):
            colour, marker = styles[str(code)]
            handle = ax.scatter(
                group["displacement"],
                group["creation"],
                s=area.loc[group.index],
                c=colour,
                marker=marker,
                alpha=0.7,
                edgecolors="white",
                linewidths=0.4,
            )
            handles.append(handle)
            labels.append(short_group(str(group["major_group"].iloc[0])))
        _quadrant_guides(ax, displacement_threshold, creation_threshold)
        ax.set_xlabel(axis_label("displacement", unit="occupation's weighted mean, 0–1"))
        creation = "creation" if creation_source == "calibrated" else "creation_zero_shot"
        ax.set_ylabel(axis_label(creation, unit="occupation's weighted mean, 0–1"))
        legend = legend_ax.legend(
            handles,
            labels,
            loc="upper center",
            ncols=2,
            markerscale=0.6,
            title="SOC major group (marker area ∝ employment)",
            title_fontsize=7,
            handletextpad=0.3,
            columnspacing=1.2,
        )
        for handle in legend.legend_handles:
            handle.set_sizes([30])
        add_source_line(figure, source)
        renderer = freeze_layout(figure)
        _label_largest(ax, frame, area, n_labels, renderer)
    return figure


def _quadrant_guides(
    ax: Axes, displacement_threshold: float | None, creation_threshold: float | None
) -> None:
    """Threshold lines and the quadrant names in the corners."""
    dashes = (0, (4, 3))
    if displacement_threshold is not None:
        ax.axvline(displacement_threshold, color="#555555", linestyle=dashes, linewidth=0.8)
    if creation_threshold is not None:
        ax.axhline(creation_threshold, color="#555555", linestyle=dashes, linewidth=0.8)
    corners = (
        (0.01, 0.99, "left", "top", "augmented / growing"),
        (0.99, 0.99, "right", "top", "transforming"),
        (0.99, 0.01, "right", "bottom", "at risk"),
        (0.01, 0.01, "left", "bottom", "little change"),
    )
    for x, y, ha, va, name in corners:
        ax.text(
            x,
            y,
            name,
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=8,
            style="italic",
            color="#444444",
            bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1},
        )


def _label_largest(
    ax: Axes,
    frame: pd.DataFrame,
    area: pd.Series,
    n_labels: int,
    renderer: RendererBase,
) -> None:
    """Label the largest occupations by employment, skipping those with no free spot."""
    ranked = frame.assign(area=area).sort_values("employment", ascending=False).head(n_labels)
    corner_boxes = [text.get_window_extent(renderer) for text in ax.texts]
    place_labels(
        ax,
        list(ranked["displacement"]),
        list(ranked["creation"]),
        [wrap_label(str(title)) for title in ranked["title"]],
        renderer=renderer,
        point_radius=[math.sqrt(a) / 2 for a in ranked["area"]],
        avoid=corner_boxes,
    )


# ----------------------------------------------------------------------------- bars and lines


def major_group_bars(
    major_groups: pd.DataFrame,
    *,
    source: str,
    highlight: str | None = None,
) -> Figure:
    """Diverging bars per major group: displacement to the left, the creation axis right."""
    frame = major_groups.dropna(subset=["displacement", "creation"])
    frame = frame.sort_values("displacement", ascending=True)
    names = [short_group(str(name)) for name in frame["major_group"]]
    with styled():
        figure = new_figure(PAGE_WIDTH, 1.3 + 0.27 * max(len(frame), 3))
        ax = figure.subplots()
        ax.set_title("Displacement and creation by major group", loc="left")
        y = np.arange(len(frame))
        left = ax.barh(
            y,
            -frame["displacement"],
            color=DISPLACEMENT_COLOUR,
            alpha=0.8,
            hatch=DISPLACEMENT_HATCH,
            edgecolor="white",
            linewidth=0.3,
            label="displacement",
        )
        right = ax.barh(
            y,
            frame["creation"],
            color=CREATION_COLOUR,
            alpha=0.8,
            edgecolor="white",
            linewidth=0.3,
            label="creation",
        )
        ax.bar_label(
            left, labels=[f"{v:.2f}" for v in frame["displacement"]], padding=2, fontsize=6.5
        )
        ax.bar_label(right, labels=[f"{v:.2f}" for v in frame["creation"]], padding=2, fontsize=6.5)
        ax.axvline(0, color="#333333", linewidth=0.8)
        ax.set_yticks(y, names)
        for tick, code in zip(ax.get_yticklabels(), frame["soc_major"], strict=True):
            if code == highlight:
                tick.set_fontweight("bold")
        reach = float(max(frame["displacement"].max(), frame["creation"].max(), 0.05)) * 1.25
        ax.set_xlim(-reach, reach)
        ax.xaxis.set_major_formatter(_absolute_ticks())
        ax.set_xlabel(
            "← displacement (hatched)  |  creation (plain) →\n"
            "employment-weighted mean probability (0–1)"
        )
        add_source_line(figure, source)
    return figure


def _absolute_ticks() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{abs(value):.2f}")


def wage_profile(bins: pd.DataFrame, *, source: str) -> Figure:
    """Exposure, displacement and the creation axis across employment-weighted wage deciles."""
    with styled():
        figure = new_figure(PAGE_WIDTH, 3.6)
        ax = figure.subplots()
        ax.set_title("Exposure by wage decile: does exposure rise with wages?", loc="left")
        series = (
            ("beta", "exposure (beta)", EXPOSURE_COLOUR, "o", "-"),
            ("displacement", "displacement", DISPLACEMENT_COLOUR, "s", "--"),
            ("creation", "creation", CREATION_COLOUR, "^", ":"),
        )
        for column, label, colour, marker, line in series:
            ax.plot(
                bins["bin"],
                bins[column],
                color=colour,
                marker=marker,
                linestyle=line,
                label=label,
                linewidth=1.4,
                markersize=4.5,
            )
        ticks = [
            f"{int(b)}\n${lo / 1e3:.0f}–{hi / 1e3:.0f}k"
            for b, lo, hi in zip(bins["bin"], bins["wage_min"], bins["wage_max"], strict=True)
        ]
        ax.set_xticks(list(bins["bin"]), ticks, fontsize=6.5)
        ax.set_xlabel(
            "Wage decile (each about 10% of workers; range of occupations' OEWS annual "
            "mean wage, US$ thousand)"
        )
        ax.set_ylabel("Employment-weighted mean\nprobability (0–1)")
        ax.set_ylim(bottom=0)
        ax.legend(loc="best", ncols=3)
        ax.grid(axis="y", color="#dddddd", linewidth=0.5)
        add_source_line(figure, source)
    return figure


# ----------------------------------------------------------------------------- families


def family_map(
    families: pd.DataFrame,
    *,
    source: str,
    n_labels: int = 8,
) -> Figure:
    """Task families on their 2-D embedding map, one bubble per family.

    Bubble area is the family's number of tasks; colour is its employment-weighted
    displacement (left) and creation-axis measure (right) on a sequential scale. Families
    with fewer than ``MIN_FAMILY_TASKS`` scored tasks are drawn hollow: too few to colour.
    """
    from matplotlib.ticker import MaxNLocator

    frame = families.dropna(subset=["x", "y"])
    area = 6 + 150 * frame["size"] / max(float(frame["size"].max()), 1.0)
    enough = frame["n_tasks_scored"] >= MIN_FAMILY_TASKS
    with styled():
        figure = new_figure(PAGE_WIDTH, 4.4)
        axes = figure.subplots(1, 2, sharex=True, sharey=True)
        figure.suptitle("Task families on the embedding map")
        panels = []
        for ax, measure in zip(axes, ("displacement", "creation"), strict=True):
            scored = enough & frame[measure].notna()
            ax.scatter(
                frame.loc[~scored, "x"],
                frame.loc[~scored, "y"],
                s=area[~scored],
                facecolors="none",
                edgecolors="#999999",
                linewidths=0.6,
            )
            points = ax.scatter(
                frame.loc[scored, "x"],
                frame.loc[scored, "y"],
                s=area[scored],
                c=frame.loc[scored, measure],
                cmap=SEQUENTIAL_MAP,
                edgecolors="#333333",
                linewidths=0.4,
                alpha=0.85,
            )
            bar = figure.colorbar(
                points, ax=ax, orientation="horizontal", shrink=0.85, pad=0.02, aspect=30
            )
            bar.set_label(f"{measure} (mean probability, 0–1)", fontsize=7)
            bar.ax.tick_params(labelsize=6.5)
            bar.ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # narrow ranges crowd ticks
            ax.set_title(f"coloured by {measure}", fontsize=8.5, loc="left")
            ax.set_xlabel("map axis 1 (PCA of task embeddings, no unit)", fontsize=7.5)
            ax.tick_params(labelsize=6.5)
            panels.append(ax)
        panels[0].set_ylabel("map axis 2 (no unit)", fontsize=7.5)
        add_source_line(figure, source)
        renderer = freeze_layout(figure)
        largest = frame.assign(area=area).sort_values("size", ascending=False).head(n_labels)
        names = [wrap_label(_short_family(str(label)), width=20) for label in largest["label"]]
        for ax in panels:
            place_labels(
                ax,
                list(largest["x"]),
                list(largest["y"]),
                names,
                renderer=renderer,
                point_radius=[math.sqrt(a) / 2 for a in largest["area"]],
                fontsize=6,
            )
    return figure


def _short_family(label: str, terms: int = 3) -> str:
    """The first few distinctive terms of a family label."""
    parts = [part.strip() for part in label.replace(";", ",").split(",") if part.strip()]
    return ", ".join(parts[:terms]) if parts else label


# ----------------------------------------------------------------------------- validation


def reliability_curve(reliability: pd.DataFrame, *, source: str) -> Figure:
    """Predicted P(exposed) against the share labelled exposed, per source of scores."""
    styles = {"ours": (DISPLACEMENT_COLOUR, "o", "-"), "gpt4": (EXPOSURE_COLOUR, "s", "--")}
    with styled():
        figure = new_figure(4.8, 3.9)
        ax = figure.subplots()
        ax.set_title("Reliability: predicted against observed exposure", loc="left")
        ax.plot([0, 1], [0, 1], color="#999999", linestyle=":", linewidth=1, label="perfect")
        for name, group in reliability.groupby("source"):
            colour, marker, line = styles.get(str(name), (CREATION_COLOUR, "^", "-."))
            ax.plot(
                group["mean_predicted"],
                group["observed_rate"],
                color=colour,
                marker=marker,
                linestyle=line,
                label=str(name),
                markersize=4,
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean predicted P(exposed) in bin (0–1)")
        ax.set_ylabel("share labelled exposed by humans (0–1)")
        ax.legend(loc="upper left")
        add_source_line(figure, source)
    return figure
