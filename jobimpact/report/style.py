"""The look of the report's figures: palette, fonts, page width, source lines, and the
placement of labels that must not overlap.

Colours are the Okabe-Ito palette, safe for the common colour-vision deficiencies, and
every series also differs in marker, line style or hatch so that it reads in greyscale.
Figures are built on :class:`matplotlib.figure.Figure` directly, so pyplot's global state
is never touched.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

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
    "creation": "Creation: P(LLM use on the task is augmentative)",
    "creation_zero_shot": "Creation: zero-shot P(Yes), LLM use creates new work",
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


def format_workers(value: float) -> str:
    """A head count with a unit: 1.2 M, 850 k, 40."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f} M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:.0f} k"
    return f"{value:.0f}"


@contextmanager
def styled() -> Iterator[None]:
    """The report's matplotlib style, for the figure built inside the block only."""
    import matplotlib as mpl

    with mpl.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A constrained-layout figure leaving a strip at the bottom for the source line."""
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    strip = 0.3 / height  # inches reserved for the source line (up to two lines)
    return Figure(
        figsize=(width, height), layout=ConstrainedLayoutEngine(rect=(0, strip, 1, 1 - strip))
    )


def add_source_line(figure: Figure, source: str) -> None:
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


def freeze_layout(figure: Figure) -> RendererBase:
    """Run the layout once and keep it, so labels can be placed in final coordinates."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()  # type: ignore[no-untyped-call]
    figure.set_layout_engine("none")
    renderer: RendererBase = canvas.get_renderer()  # type: ignore[no-untyped-call]
    return renderer


def wrap_label(text: str, width: int = 24, lines: int = 2) -> str:
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
