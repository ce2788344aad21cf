"""Rendering: Figure → inline SVG, summary dict → HTML (Jinja2), HTML → PDF (WeasyPrint).

The HTML is self-contained: the stylesheet, a subset of the DejaVu Sans fonts (WOFF2, as
data URIs) and every figure (inline SVG, its text escaped by matplotlib) are in the file,
and nothing points outside it. Templates autoescape: task and occupation texts are data,
never markup. The PDF is rendered from the same HTML with a URL fetcher that refuses everything but
``data:`` URIs, so rendering can never reach the network either.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from jobimpact.errors import DependencyError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure_to_svg", "html_to_pdf", "load_weasyprint", "pdf_writer", "render_html"]

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
# Text stays text (searchable, and a fraction of the size and render time of glyph paths);
# it is drawn in the embedded DejaVu Sans that matplotlib measured it with.
SVG_SETTINGS: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "jobimpact-report"}
FONT_FAMILY = "DejaVu Sans Report"
# (file in matplotlib's font folder, CSS family, weight, style)
FONT_FACES = (
    ("DejaVuSans.ttf", FONT_FAMILY, "normal", "normal"),
    ("DejaVuSans-Bold.ttf", FONT_FAMILY, "bold", "normal"),
    ("DejaVuSans-Oblique.ttf", FONT_FAMILY, "normal", "italic"),
    ("DejaVuSansMono.ttf", "DejaVu Sans Mono Report", "normal", "normal"),
)
# Latin (with Extended-A), general punctuation, the euro sign, arrows and a few math signs:
# what O*NET text and the report's own prose use. Other characters fall back to system fonts.
FONT_UNICODES = [
    *range(0x20, 0x7F),
    *range(0xA0, 0x180),
    *range(0x2010, 0x205F),
    0x20AC,
    *range(0x2190, 0x2194),
    0x2212,
    0x2248,
    0x2264,
    0x2265,
    0x221D,
]
_SVG_START = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_SVG_NOISE = re.compile(r"<metadata>.*?</metadata>|<!--.*?-->", re.DOTALL)
_SVG_ID = re.compile(r'\bid="([^"]+)"')
_MPL_FONT = "font-family: 'DejaVu Sans'"
_REPORT_FONTS = f"font-family: '{FONT_FAMILY}', 'DejaVu Sans', sans-serif"


def figure_to_svg(figure: Figure, *, prefix: str) -> str:
    """The figure as an SVG element to inline in HTML, its ids prefixed to stay unique.

    Text stays SVG text (escaped by matplotlib) set in the report's embedded DejaVu Sans,
    the font matplotlib laid it out with; the XML prolog, metadata and comments are
    dropped. The figure is cleared afterwards: it is not reused.
    """
    import matplotlib as mpl

    buffer = io.StringIO()
    with mpl.rc_context(SVG_SETTINGS):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = _SVG_NOISE.sub("", _SVG_START.sub("", buffer.getvalue(), count=1))
    svg = _prefix_ids(svg, prefix).replace(_MPL_FONT, _REPORT_FONTS)
    figure.clear()
    return svg.strip()


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make every id (and reference to it) unique to this figure within the HTML page."""
    for name in sorted(set(_SVG_ID.findall(svg)), key=len, reverse=True):
        new = f"{prefix}-{name}"
        svg = svg.replace(f'id="{name}"', f'id="{new}"')
        svg = svg.replace(f'"#{name}"', f'"#{new}"').replace(f"url(#{name})", f"url(#{new})")
    return svg


@functools.lru_cache(maxsize=1)
def font_face_css() -> str:
    """@font-face rules for the embedded font subsets, as data URIs."""
    import matplotlib as mpl
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # "table not subset" notices
    folder = Path(mpl.get_data_path()) / "fonts" / "ttf"
    rules = []
    for file, family, weight, style in FONT_FACES:
        font = TTFont(folder / file)
        options = subset.Options()
        options.flavor = "woff2"
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=FONT_UNICODES)
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.flavor = "woff2"
        font.save(buffer)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        rules.append(
            f"@font-face {{ font-family: '{family}'; font-weight: {weight}; "
            f"font-style: {style}; src: url(data:font/woff2;base64,{data}) format('woff2'); }}"
        )
    return "\n".join(rules)


# ----------------------------------------------------------------------------- formatting


def _pct(value: Any, digits: int = 1) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def _prob(value: Any, digits: int = 2) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):.{digits}f}"


def _count(value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):,.0f}"


def _workers(value: Any) -> str:
    """Head counts as 1.23 million / 850,000."""
    if value is None or pd.isna(value):
        return "–"
    number = float(value)
    if abs(number) >= 1e6:
        return f"{number / 1e6:,.2f} million"
    return f"{number:,.0f}"


def _money(value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    number = float(value)
    if abs(number) >= 1e9:
        return f"${number / 1e9:,.1f} billion"
    return f"${number:,.0f}"


def _when(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _short(value: Any, length: int = 12) -> str:
    text = "" if value is None else str(value)
    return text[:length]


def _missing(value: Any) -> bool:
    """Jinja test: None, NaN or NaT (DataFrame rows hold NaN where the store had NULL)."""
    return value is None or (not isinstance(value, str | list | dict) and bool(pd.isna(value)))


def _records(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as dicts for the template (NaN stays NaN; filters print a dash)."""
    if frame is None or not isinstance(frame, pd.DataFrame):
        return []
    return cast("list[dict[str, Any]]", frame.to_dict("records"))


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    """The Jinja2 environment: autoescaping on for every template, strict about names."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("jobimpact.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.tests["missing"] = _missing
    environment.filters.update(
        pct=_pct,
        prob=_prob,
        count=_count,
        workers=_workers,
        money=_money,
        when=_when,
        short=_short,
        records=_records,
    )
    return environment


def _stylesheet() -> str:
    from importlib.resources import files

    return (files("jobimpact.report") / "templates" / STYLESHEET).read_text(encoding="utf-8")


def render_html(summary: Mapping[str, Any], figures: Mapping[str, str]) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    summary
        The dict of :func:`jobimpact.report.summarize.summarize`.
    figures
        Figure name → inline SVG from :func:`figure_to_svg` (trusted: made by plots.py,
        its text escaped by matplotlib); a missing name leaves its section with a sentence.
    """
    from markupsafe import Markup

    template = _environment().get_template(TEMPLATE)
    # The stylesheet, fonts and figures are ours; everything else is escaped data.
    return str(
        template.render(
            s=summary,
            figures={name: Markup(svg) for name, svg in figures.items()},
            css=Markup(_stylesheet()),
            font_css=Markup(font_face_css()),
        )
    )


def html_to_pdf(html: str, path: Path) -> int:
    """Render the HTML to a PDF file with WeasyPrint, offline; return the number of pages.

    Raises
    ------
    DependencyError
        When WeasyPrint cannot load a system library it needs (Pango, in a slim container).
    OutputError
        When the file cannot be written; a previous PDF is left intact.
    """
    from jobimpact.outputs import write_with

    writer, pages = pdf_writer(html)
    # Written beside the target and renamed: a failed write leaves the previous PDF intact.
    write_with(path, writer)
    return pages


def pdf_writer(html: str) -> tuple[Callable[[Path], None], int]:
    """Lay the HTML out as a PDF with WeasyPrint, offline; return what writes the file at a
    path, and the number of pages (see :func:`load_weasyprint` for a missing library)."""
    weasyprint = load_weasyprint()
    from weasyprint.urls import URLFetcher

    logging.getLogger("fontTools").setLevel(logging.ERROR)
    fetcher = URLFetcher(allowed_protocols=("data",))
    with _quiet_css_warnings():
        document = weasyprint.HTML(string=html, url_fetcher=fetcher).render()

    def write(path: Path) -> None:
        document.write_pdf(path)

    return write, len(document.pages)


# cffi's words when a shared library cannot be loaded, as WeasyPrint's text/ffi.py lets
# them through: "cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared
# object file: No such file or directory.  Additionally, ctypes.util.find_library() ...".
_CANNOT_LOAD = re.compile(r"cannot load library '(?P<name>[^']+)': (?:[^:]+: )?(?P<why>[^.]+)")
# What WeasyPrint loads (text/ffi.py), most specific first, as users know the libraries.
_SYSTEM_LIBRARIES = (
    ("pangoft2", "Pango (pangoft2)"),
    ("pango", "Pango"),
    ("gobject", "GLib (gobject)"),
    ("harfbuzz", "HarfBuzz"),
    ("fontconfig", "Fontconfig"),
)
_INSTALL_PANGO = (
    "install Pango (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0), "
    "or write the report as HTML only with --format html"
)


def load_weasyprint() -> Any:
    """Import WeasyPrint; a system library it cannot load becomes one line.

    WeasyPrint loads Pango and its companions when it is imported; when one is missing it
    prints a banner to stdout and lets cffi's OSError through, a long traceback for a
    user. The banner is swallowed and the error says which library and what to do.
    """
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint
    except OSError as exc:
        raise DependencyError(f"PDF: {_missing_library(str(exc))}; {_INSTALL_PANGO}") from None
    return weasyprint


def _missing_library(message: str) -> str:
    """Which system library WeasyPrint could not load, and why, from cffi's message."""
    found = _CANNOT_LOAD.search(message)
    if found is None:
        return f"WeasyPrint cannot load a system library ({message})"
    name = found["name"]
    known = next((label for key, label in _SYSTEM_LIBRARIES if key in name.lower()), name)
    return f"WeasyPrint cannot load the system library {known} ({name!r}: {found['why'].strip()})"


@contextmanager
def _quiet_css_warnings() -> Iterator[None]:
    """Mute WeasyPrint's warnings while it renders, keeping its errors.

    Its HTML stylesheet checker warns once per SVG style property (fill, stroke, …) that
    it does not know as CSS, thousands of lines per report, although its SVG renderer
    then draws them; failures to load a resource are logged as errors and still show.
    """
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
