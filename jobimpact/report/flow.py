"""The flow figure: from LLMs to displacement and creation to the major groups, bands
sized by employment-weighted probabilities (worker-equivalents)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from jobimpact.report.style import (
    CREATION_COLOUR,
    DISPLACEMENT_COLOUR,
    DISPLACEMENT_HATCH,
    PAGE_WIDTH,
    add_source_line,
    format_workers,
    new_figure,
    short_group,
    styled,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["flow_diagram"]


def _band(
    ax: Axes,
    x0: float,
    x1: float,
    left: tuple[float, float],
    right: tuple[float, float],
    *,
    colour: str,
    hatch: str | None,
) -> None:
    """A flow band from the span ``left`` (top, bottom) at x0 to ``right`` at x1."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    mid = (x0 + x1) / 2
    vertices = [
        (x0, left[0]),
        (mid, left[0]),
        (mid, right[0]),
        (x1, right[0]),
        (x1, right[1]),
        (mid, right[1]),
        (mid, left[1]),
        (x0, left[1]),
        (x0, left[0]),
    ]
    codes = [MplPath.MOVETO] + [MplPath.CURVE4] * 3 + [MplPath.LINETO] + [MplPath.CURVE4] * 3
    codes.append(MplPath.CLOSEPOLY)
    ax.add_patch(
        PathPatch(
            MplPath(vertices, codes),
            facecolor=colour,
            alpha=0.45,
            edgecolor=colour,
            linewidth=0.3,
            hatch=hatch,
            hatchcolor="white",
        )
    )


def _node(ax: Axes, x: float, top: float, bottom: float, width: float) -> None:
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x, bottom), width, top - bottom, facecolor="#333333", linewidth=0))


def _spread(centres: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Label positions near ``centres`` (top to bottom, descending) at least ``gap`` apart."""
    positions = list(centres)
    for i in range(1, len(positions)):
        positions[i] = min(positions[i], positions[i - 1] - gap)
    overflow = low - positions[-1] if positions else 0.0
    if overflow > 0:
        positions = [p + overflow for p in positions]
        for i in range(len(positions) - 2, -1, -1):
            positions[i] = max(positions[i], positions[i + 1] + gap)
    return [min(p, high) for p in positions]


def flow_diagram(
    major_groups: pd.DataFrame,
    *,
    source: str,
    max_groups: int = 9,
) -> Figure:
    """LLMs → task displacement / task creation → employment structure (major groups).

    Band widths are measured quantities: a group's displacement band is its employment
    times its employment-weighted mean displacement (worker-equivalents of displaceable
    task time), likewise for the creation axis. The largest ``max_groups`` groups are drawn
    one by one and the rest pooled.

    Parameters
    ----------
    major_groups
        ``major_group``, ``employment``, ``displacement`` and the ``creation`` column.
    """
    frame = major_groups.dropna(subset=["employment", "displacement", "creation"])
    frame = frame[frame["employment"] > 0]
    flows = pd.DataFrame(
        {
            "name": frame["major_group"].map(short_group),
            "employment": frame["employment"],
            "down": frame["employment"] * frame["displacement"],
            "up": frame["employment"] * frame["creation"],
        }
    )
    flows = flows.assign(total=flows["down"] + flows["up"]).sort_values("total", ascending=False)
    if len(flows) > max_groups + 1:
        rest = flows.iloc[max_groups:]
        pooled = pd.DataFrame(
            {
                "name": [f"{len(rest)} other groups"],
                "employment": [rest["employment"].sum()],
                "down": [rest["down"].sum()],
                "up": [rest["up"].sum()],
                "total": [rest["total"].sum()],
            }
        )
        flows = pd.concat([flows.iloc[:max_groups], pooled], ignore_index=True)
    with styled():
        figure = new_figure(PAGE_WIDTH, 5.6)
        ax = figure.subplots()
        figure.suptitle("From LLM capabilities to the structure of employment")
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        if flows.empty or flows["total"].sum() <= 0:
            ax.text(0.5, 0.5, "No employment-weighted scores to draw.", ha="center")
        else:
            _draw_flows(ax, flows)
        add_source_line(figure, source)
    return figure


def _draw_flows(ax: Axes, flows: pd.DataFrame) -> None:
    """The three columns of nodes, the bands between them and the numbers on them."""
    top, bottom, node_width = 0.90, 0.02, 0.022
    x_llm, x_mid, x_group = 0.03, 0.34, 0.62
    gap_groups, gap_mid = 0.012, 0.06
    down, up = float(flows["down"].sum()), float(flows["up"].sum())
    employment = float(flows["employment"].sum())
    scale = (top - bottom - gap_groups * (len(flows) - 1)) / (down + up)
    centre = (top + bottom) / 2
    # Left: one node for the LLMs, split into its displacement and creation outflows.
    llm_top = centre + (down + up) * scale / 2
    llm_split = llm_top - down * scale
    _node(ax, x_llm, llm_top, llm_top - (down + up) * scale, node_width)
    # Middle: the displacement node above the creation node.
    mid_top = centre + ((down + up) * scale + gap_mid) / 2
    down_span = (mid_top, mid_top - down * scale)
    up_span = (down_span[1] - gap_mid, down_span[1] - gap_mid - up * scale)
    for span in (down_span, up_span):
        _node(ax, x_mid, span[0], span[1], node_width)
    _band(
        ax,
        x_llm + node_width,
        x_mid,
        (llm_top, llm_split),
        down_span,
        colour=DISPLACEMENT_COLOUR,
        hatch=DISPLACEMENT_HATCH,
    )
    _band(
        ax,
        x_llm + node_width,
        x_mid,
        (llm_split, llm_split - up * scale),
        up_span,
        colour=CREATION_COLOUR,
        hatch=None,
    )
    # Right: one node per group, fed by a displacement band on top and a creation band below.
    cursor, down_cursor, up_cursor = top, down_span[0], up_span[0]
    label_centres = []
    rows = cast("list[dict[str, Any]]", flows.to_dict("records"))
    for row in rows:
        d, u = float(row["down"]) * scale, float(row["up"]) * scale
        _node(ax, x_group, cursor, cursor - d - u, node_width)
        _band(
            ax,
            x_mid + node_width,
            x_group,
            (down_cursor, down_cursor - d),
            (cursor, cursor - d),
            colour=DISPLACEMENT_COLOUR,
            hatch=DISPLACEMENT_HATCH,
        )
        _band(
            ax,
            x_mid + node_width,
            x_group,
            (up_cursor, up_cursor - u),
            (cursor - d, cursor - d - u),
            colour=CREATION_COLOUR,
            hatch=None,
        )
        label_centres.append(cursor - (d + u) / 2)
        cursor -= d + u + gap_groups
        down_cursor -= d
        up_cursor -= u
    _group_labels(ax, rows, label_centres, x_group + node_width)
    _flow_labels(
        ax,
        down,
        up,
        employment,
        x_llm,
        x_mid,
        node_width,
        (llm_top + llm_top - (down + up) * scale) / 2,
        down_span,
        up_span,
    )


def _group_labels(
    ax: Axes,
    rows: Sequence[dict[str, Any]],
    centres: Sequence[float],
    x_node: float,
) -> None:
    """Name and numbers of each group node, spread apart, with leader lines when moved."""
    label_y = _spread(centres, gap=0.062, low=0.03, high=0.93)
    x_text = x_node + 0.035
    for row, node_y, text_y in zip(rows, centres, label_y, strict=True):
        if abs(node_y - text_y) > 0.005:
            ax.plot(
                [x_node + 0.004, x_text - 0.006],
                [node_y, text_y],
                color="#777777",
                linewidth=0.5,
            )
        ax.text(
            x_text,
            text_y,
            f"{row['name']}\n{format_workers(row['down'])} displaced · "
            f"{format_workers(row['up'])} creation · of {format_workers(row['employment'])}",
            fontsize=6.4,
            va="center",
            ha="left",
            linespacing=1.15,
        )


def _flow_labels(
    ax: Axes,
    down: float,
    up: float,
    employment: float,
    x_llm: float,
    x_mid: float,
    node_width: float,
    llm_centre: float,
    down_span: tuple[float, float],
    up_span: tuple[float, float],
) -> None:
    """Column headings and the totals on the LLM and the two middle nodes."""
    box = {"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#999999", "lw": 0.4, "alpha": 0.92}
    headings = ((x_llm, "LLMs"), (x_mid, "Effect on tasks"), (0.62, "Employment structure"))
    for x, heading in headings:
        ax.text(x, 0.975, heading, fontsize=8, fontweight="bold", ha="left", va="center")
    ax.text(
        x_llm + node_width + 0.01,
        llm_centre,
        f"{format_workers(down + up)}\nworker-\nequivalents",
        fontsize=6.4,
        va="center",
        bbox=box,
    )
    for span, total, what in (
        (down_span, down, "Task displacement"),
        (up_span, up, "Task creation"),
    ):
        ax.text(
            x_mid + node_width + 0.008,
            (span[0] + span[1]) / 2,
            f"{what}\n{format_workers(total)} worker-eq.\n{total / employment:.1%} of employment",
            fontsize=6.6,
            va="center",
            ha="left",
            bbox=box,
        )
    ax.text(
        0.0,
        -0.035,
        "Band width: workers × employment-weighted mean probability "
        "(worker-equivalents; hatched: displacement, plain: creation)",
        fontsize=6.6,
        ha="left",
        va="top",
        transform=ax.transAxes,
        color="#333333",
    )


# ----------------------------------------------------------------------------- scatter
