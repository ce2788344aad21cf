"""Report figures: each function takes DataFrames and returns a matplotlib Figure.

Nothing here shows or saves a figure (``render.figure_to_svg`` does the saving), and
figures are built on :class:`matplotlib.figure.Figure` directly, so pyplot's global state
is never touched. Every figure has a title, axis labels with units and a source line.

Colours are the Okabe-Ito palette, safe for the common colour-vision deficiencies, and
every series also differs in marker, line style or hatch so that it reads in greyscale.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

__all__ = [
    "CREATION_COLOUR",
    "DISPLACEMENT_COLOUR",
    "axis_label",
    "family_map",
    "flow_diagram",
    "group_styles",
    "major_group_bars",
    "place_labels",
    "quadrant_scatter",
    "reliability_curve",
    "short_group",
    "wage_profile",
]

# Okabe & Ito (2008), without yellow (too light on white).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#000000")
MARKERS = ("o", "s", "^", "D", "v")
DISPLACEMENT_COLOUR = "#D55E00"
CREATION_COLOUR = "#0072B2"
EXPOSURE_COLOUR = "#000000"
DISPLACEMENT_HATCH = "////"
SEQUENTIAL_MAP = "cividis"  # monotonic lightness: readable in grey and for colour-blind readers
PAGE_WIDTH = 7.0  # inches: the text width of an A4 page with the report's margins
STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "hatch.linewidth": 0.6,
    "figure.titlesize": 10.5,
    "figure.titleweight": "bold",
    "text.parse_math": False,  # occupation and task texts are data: "$" is not mathtext
}
AXIS_DESCRIPTIONS = {
    "displacement": "Displacement: P(an LLM system can do the task end to end)",
    "augmentation": "Augmentation: P(exposed) × (1 − P(automated))",
    "creation": "Creation: P(LLM use creates new work around the task)",
    "beta": "Exposure (beta): expected share of exposed tasks",
}
SOURCE_FONT_SIZE = 6.3
# Families with fewer scored tasks than this are drawn hollow on the map.
MIN_FAMILY_TASKS = 3
LABEL_FONT_SIZE = 6.5


def axis_label(measure: str, *, unit: str = "probability, 0–1") -> str:
    """Axis label of a measure, with its unit."""
    return f"{AXIS_DESCRIPTIONS.get(measure, measure)} ({unit})"


def short_group(title: str) -> str:
    """A major group title short enough for a legend: 'Office & Administrative Support'."""
    short = title.replace(" Occupations", "").replace(" and ", " & ")
    return short.replace("Arts, Design, Entertainment, Sports, & Media", "Arts, Design & Media")


def _workers(value: float) -> str:
    """A head count with a unit: 1.2 M, 850 k, 40."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f} M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.0f} k"
    return f"{value:.0f}"


@contextmanager
def _styled() -> Iterator[None]:
    """The report's matplotlib style, for the figure built inside the block only."""
    import matplotlib as mpl

    with mpl.rc_context(STYLE):
        yield


def _figure(width: float, height: float) -> Figure:
    """A constrained-layout figure leaving a strip at the bottom for the source line."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    strip = 0.3 / height  # inches reserved for the source line (up to two lines)
    return Figure(
        figsize=(width, height), layout=ConstrainedLayoutEngine(rect=(0, strip, 1, 1 - strip))
    )


def _source_line(figure: Figure, source: str) -> None:
    """The data source, small, at the bottom left (wrapped to the figure's width)."""
    width = round(figure.get_figwidth() * 72 / (SOURCE_FONT_SIZE * 0.56))  # chars per line
    figure.text(
        0.01,
        0.008,
        textwrap.fill(source, width=width, subsequent_indent="  "),
        fontsize=SOURCE_FONT_SIZE,
        color="#333333",
        ha="left",
        va="bottom",
    )


def _freeze_layout(figure: Figure) -> RendererBase:
    """Run the layout once and keep it, so labels can be placed in final coordinates."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # type: ignore[no-untyped-call]
    figure.set_layout_engine("none")
    renderer: RendererBase = canvas.get_renderer()  # type: ignore[no-untyped-call]
    return renderer


def _wrap(text: str, width: int = 24, lines: int = 2) -> str:
    wrapped = textwrap.wrap(text, width=width)
    if len(wrapped) > lines:
        rest = " ".join(wrapped[lines - 1 :])
        wrapped = [*wrapped[: lines - 1], textwrap.shorten(rest, width, placeholder=" …")]
    return "\n".join(wrapped)


# ----------------------------------------------------------------------------- label placement

# Directions tried around a point, in order of preference (offset in points per unit radius).
_DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1.3), (0, -1.3), (1.3, 0), (-1.3, 0))
_RADII = (1.0, 2.4, 4.0, 6.0)
_BASE_OFFSET = 5.0


def _alignment(dx: float, dy: float) -> tuple[str, str]:
    horizontal = "left" if dx > 0 else "right" if dx < 0 else "center"
    vertical = "bottom" if dy > 0 else "top" if dy < 0 else "center"
    return horizontal, vertical


def _overlaps(box: Bbox, others: Sequence[Bbox]) -> bool:
    return any(box.overlaps(other) for other in others)


def _candidate(
    ax: Axes,
    xy: tuple[float, float],
    text: str,
    direction: tuple[float, float],
    radius: float,
    point_radius: float,
    fontsize: float,
    renderer: RendererBase,
) -> tuple[Any, Bbox]:
    """One trial label: the annotation and the display box of its text (with padding)."""
    from matplotlib.text import Text

    dx, dy = direction
    reach = _BASE_OFFSET * radius + point_radius
    horizontal, vertical = _alignment(dx, dy)
    leader = {"arrowstyle": "-", "lw": 0.5, "color": "#555555", "shrinkA": 0, "shrinkB": 1}
    annotation = ax.annotate(
        text,
        xy,
        xytext=(dx * reach, dy * reach),
        textcoords="offset points",
        ha=horizontal,
        va=vertical,
        fontsize=fontsize,
        color="#111111",
        arrowprops=leader if radius > 1 else None,
        bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},
        annotation_clip=False,
    )
    annotation.set_in_layout(False)
    annotation.get_window_extent(renderer)  # positions the text for its offset
    pad = 1.5 * ax.figure.dpi / 72.0  # 1.5 points
    return annotation, Text.get_window_extent(annotation, renderer).padded(pad)


def place_labels(
    ax: Axes,
    x: Sequence[float],
    y: Sequence[float],
    texts: Sequence[str],
    *,
    renderer: RendererBase,
    point_radius: Sequence[float] | None = None,
    avoid: Sequence[Bbox] = (),
    fontsize: float = LABEL_FONT_SIZE,
) -> list[str]:
    """Label points greedily without overlaps; return the texts that found a place.

    Points are taken in the given order (most important first). Each label tries eight
    directions at growing distances; the first spot that stays inside the axes and clears
    every label placed so far, every labelled point (``point_radius`` in points) and the
    ``avoid`` boxes (display coordinates) wins. Labels placed away from their point get a
    thin leader line. A label with no free spot is left out rather than drawn over another.
    """
    from matplotlib.transforms import Bbox

    inside = ax.get_window_extent(renderer)
    radii = list(point_radius) if point_radius is not None else [3.0] * len(x)
    to_pixels = ax.figure.dpi / 72.0
    points = []
    for px, py, r in zip(x, y, radii, strict=True):
        cx, cy = ax.transData.transform((px, py))
        half = max(r, 1.0) * to_pixels
        points.append(Bbox.from_extents(cx - half, cy - half, cx + half, cy + half))
    taken: list[Bbox] = list(avoid)
    placed: list[str] = []
    for index, (px, py, text) in enumerate(zip(x, y, texts, strict=True)):
        obstacles = taken + [box for j, box in enumerate(points) if j != index]
        for radius in _RADII:
            spot = _first_free_spot(
                ax, (px, py), text, radius, radii[index], inside, obstacles, renderer, fontsize
            )
            if spot is not None:
                taken.append(spot)
                placed.append(text)
                break
    return placed


def _first_free_spot(
    ax: Axes,
    xy: tuple[float, float],
    text: str,
    radius: float,
    point_radius: float,
    inside: Bbox,
    obstacles: Sequence[Bbox],
    renderer: RendererBase,
    fontsize: float,
) -> Bbox | None:
    """Try every direction at one distance; keep the first label that fits, else none."""
    for direction in _DIRECTIONS:
        annotation, box = _candidate(
            ax, xy, text, direction, radius, point_radius, fontsize, renderer
        )
        fits = inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0
        fits = fits and box.y1 <= inside.y1 and not _overlaps(box, obstacles)
        if fits:
            return box
        annotation.remove()
    return None


# ----------------------------------------------------------------------------- major groups


def group_styles(codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(colour, marker) of each major group code; colour and marker cycle at different
    lengths (7 and 5), so up to 35 groups get distinct pairs and neighbours differ in both."""
    ordered = sorted(set(codes))
    return {
        code: (OKABE_ITO[i % len(OKABE_ITO)], MARKERS[i % len(MARKERS)])
        for i, code in enumerate(ordered)
    }


# ----------------------------------------------------------------------------- flow diagram


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
    creation_axis: str,
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
        ``major_group``, ``employment``, ``displacement`` and the ``creation_axis`` column.
    """
    frame = major_groups.dropna(subset=["employment", "displacement", creation_axis])
    frame = frame[frame["employment"] > 0]
    flows = pd.DataFrame(
        {
            "name": frame["major_group"].map(short_group),
            "employment": frame["employment"],
            "down": frame["employment"] * frame["displacement"],
            "up": frame["employment"] * frame[creation_axis],
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
    with _styled():
        figure = _figure(PAGE_WIDTH, 5.6)
        ax = figure.subplots()
        figure.suptitle("From LLM capabilities to the structure of employment")
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        if flows.empty or flows["total"].sum() <= 0:
            ax.text(0.5, 0.5, "No employment-weighted scores to draw.", ha="center")
        else:
            _draw_flows(ax, flows, creation_axis)
        _source_line(figure, source)
    return figure


def _draw_flows(ax: Axes, flows: pd.DataFrame, creation_axis: str) -> None:
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
    _group_labels(ax, rows, label_centres, x_group + node_width, creation_axis)
    _flow_labels(
        ax,
        down,
        up,
        employment,
        creation_axis,
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
    creation_axis: str,
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
            f"{row['name']}\n{_workers(row['down'])} displaced · "
            f"{_workers(row['up'])} {creation_axis} · of {_workers(row['employment'])}",
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
    creation_axis: str,
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
        f"{_workers(down + up)}\nworker-\nequivalents",
        fontsize=6.4,
        va="center",
        bbox=box,
    )
    for span, total, what in (
        (down_span, down, "Task displacement"),
        (up_span, up, f"Task {creation_axis}"),
    ):
        ax.text(
            x_mid + node_width + 0.008,
            (span[0] + span[1]) / 2,
            f"{what}\n{_workers(total)} worker-eq.\n{total / employment:.1%} of employment",
            fontsize=6.6,
            va="center",
            ha="left",
            bbox=box,
        )
    ax.text(
        0.0,
        -0.035,
        "Band width: workers × employment-weighted mean probability "
        f"(worker-equivalents; hatched: displacement, plain: {creation_axis})",
        fontsize=6.6,
        ha="left",
        va="top",
        transform=ax.transAxes,
        color="#333333",
    )


# ----------------------------------------------------------------------------- scatter


def quadrant_scatter(
    occupations: pd.DataFrame,
    *,
    creation_axis: str,
    displacement_threshold: float | None,
    creation_threshold: float | None,
    source: str,
    n_labels: int = 14,
) -> Figure:
    """Occupations by displacement (x) and the creation axis (y), sized by employment.

    Colour and marker encode the major group; dashed lines are the quadrant thresholds;
    the largest occupations are labelled where a label fits without overlapping.
    """
    frame = occupations.dropna(subset=["displacement", creation_axis])
    styles = group_styles(list(frame["soc_major"]))
    largest = float(frame["employment"].max()) if frame["employment"].notna().any() else 0.0
    area = 6 + 320 * frame["employment"].fillna(0) / (largest if largest > 0 else 1.0)
    with _styled():
        figure = _figure(PAGE_WIDTH, 8.6)
        n_rows = math.ceil(frame["soc_major"].nunique() / 2)
        ax, legend_ax = figure.subplots(2, 1, height_ratios=[6.4, 0.35 + 0.16 * n_rows])
        legend_ax.set_axis_off()
        ax.set_title("Displacement versus " + creation_axis + ", by occupation", loc="left")
        handles, labels = [], []
        for code, group in frame.groupby("soc_major"):
            colour, marker = styles[str(code)]
            handle = ax.scatter(
                group["displacement"],
                group[creation_axis],
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
        ax.set_ylabel(axis_label(creation_axis, unit="occupation's weighted mean, 0–1"))
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
        _source_line(figure, source)
        renderer = _freeze_layout(figure)
        _label_largest(ax, frame, area, creation_axis, n_labels, renderer)
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
    creation_axis: str,
    n_labels: int,
    renderer: RendererBase,
) -> None:
    """Label the largest occupations by employment, skipping those with no free spot."""
    ranked = frame.assign(area=area).sort_values("employment", ascending=False).head(n_labels)
    corner_boxes = [text.get_window_extent(renderer) for text in ax.texts]
    place_labels(
        ax,
        list(ranked["displacement"]),
        list(ranked[creation_axis]),
        [_wrap(str(title)) for title in ranked["title"]],
        renderer=renderer,
        point_radius=[math.sqrt(a) / 2 for a in ranked["area"]],
        avoid=corner_boxes,
    )


# ----------------------------------------------------------------------------- bars and lines


def major_group_bars(
    major_groups: pd.DataFrame,
    *,
    creation_axis: str,
    source: str,
    highlight: str | None = None,
) -> Figure:
    """Diverging bars per major group: displacement to the left, the creation axis right."""
    frame = major_groups.dropna(subset=["displacement", creation_axis])
    frame = frame.sort_values("displacement", ascending=True)
    names = [short_group(str(name)) for name in frame["major_group"]]
    with _styled():
        figure = _figure(PAGE_WIDTH, 1.3 + 0.27 * max(len(frame), 3))
        ax = figure.subplots()
        ax.set_title(f"Displacement and {creation_axis} by major group", loc="left")
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
            frame[creation_axis],
            color=CREATION_COLOUR,
            alpha=0.8,
            edgecolor="white",
            linewidth=0.3,
            label=creation_axis,
        )
        ax.bar_label(
            left, labels=[f"{v:.2f}" for v in frame["displacement"]], padding=2, fontsize=6.5
        )
        ax.bar_label(
            right, labels=[f"{v:.2f}" for v in frame[creation_axis]], padding=2, fontsize=6.5
        )
        ax.axvline(0, color="#333333", linewidth=0.8)
        ax.set_yticks(y, names)
        for tick, code in zip(ax.get_yticklabels(), frame["soc_major"], strict=True):
            if code == highlight:
                tick.set_fontweight("bold")
        reach = float(max(frame["displacement"].max(), frame[creation_axis].max(), 0.05)) * 1.25
        ax.set_xlim(-reach, reach)
        ax.xaxis.set_major_formatter(_absolute_ticks())
        ax.set_xlabel(
            f"← displacement (hatched)  |  {creation_axis} (plain) →\n"
            "employment-weighted mean probability (0–1)"
        )
        _source_line(figure, source)
    return figure


def _absolute_ticks() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{abs(value):.2f}")


def wage_profile(bins: pd.DataFrame, *, creation_axis: str, source: str) -> Figure:
    """Exposure, displacement and the creation axis across employment-weighted wage deciles."""
    with _styled():
        figure = _figure(PAGE_WIDTH, 3.6)
        ax = figure.subplots()
        ax.set_title("Exposure by wage decile: does exposure rise with wages?", loc="left")
        series = (
            ("beta", "exposure (beta)", EXPOSURE_COLOUR, "o", "-"),
            ("displacement", "displacement", DISPLACEMENT_COLOUR, "s", "--"),
            (creation_axis, creation_axis, CREATION_COLOUR, "^", ":"),
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
        _source_line(figure, source)
    return figure


# ----------------------------------------------------------------------------- families


def family_map(
    families: pd.DataFrame,
    *,
    creation_axis: str,
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
    with _styled():
        figure = _figure(PAGE_WIDTH, 4.4)
        axes = figure.subplots(1, 2, sharex=True, sharey=True)
        figure.suptitle("Task families on the embedding map")
        panels = []
        for ax, measure in zip(axes, ("displacement", creation_axis), strict=True):
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
        _source_line(figure, source)
        renderer = _freeze_layout(figure)
        largest = frame.assign(area=area).sort_values("size", ascending=False).head(n_labels)
        names = [_wrap(_short_family(str(label)), width=20) for label in largest["label"]]
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
    with _styled():
        figure = _figure(4.8, 3.9)
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
        _source_line(figure, source)
    return figure
