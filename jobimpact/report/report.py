"""The report object: summarize → dict → figures → HTML / PDF."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobimpact.errors import ConfigError, DependencyError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FORMATS", "Report", "ReportResult", "build_report"]

FORMATS = ("html", "pdf")
REPORT_STEM = "jobimpact_report"


@dataclass(frozen=True)
class ReportResult:
    """What :func:`build_report` wrote.

    Attributes
    ----------
    paths
        Format (``html``, ``pdf``) → file written.
    seconds
        Wall time from opening the store to the last file written.
    n_pages
        Pages of the PDF (None when no PDF was asked for).
    scoring
        The scoring reported: model, rubric, head, weighting, quadrant thresholds.
    """

    paths: dict[str, Path]
    seconds: float
    n_pages: int | None
    scoring: dict[str, Any] = field(default_factory=dict)


class Report:
    """The displacement-versus-creation report of one scoring in a store.

    Build it with :meth:`from_store`; ``summary`` holds every number shown, ``figures()``
    the matplotlib figures, ``to_html()`` the self-contained page (also shown inline in a
    notebook), ``write_html`` / ``write_pdf`` the files.
    """

    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        self._html: str | None = None

    @classmethod
    def from_store(
        cls,
        db: str | Path,
        *,
        model_id: str | None = None,
        rubric_hash: str | None = None,
        head_id: str | None = None,
        weighting: str = "rating",
        major_group: str | None = None,
        title: str | None = None,
    ) -> Report:
        """Summarize the store (opened read-only) for the report.

        Parameters
        ----------
        db
            The DuckDB store; it must hold aggregated scores.
        model_id, rubric_hash, head_id
            The scoring to report (default: the one
            :func:`~jobimpact.store.scorings.resolve_scoring` picks among the roll-ups:
            the latest model, calibrated before zero-shot; ``head_id=""`` for zero-shot).
        weighting
            Task weighting of the roll-up: ``rating`` or ``type``.
        major_group
            Focus on one SOC major group (code such as ``15-0000`` or part of its title).
        title
            Report title.
        """
        from jobimpact.report.summarize import summarize_store

        return cls(
            summarize_store(
                db,
                model_id=model_id,
                rubric_hash=rubric_hash,
                head_id=head_id,
                weighting=weighting,
                major_group=major_group,
                title=title,
            )
        )

    def source_line(self) -> str:
        """The source line printed under every figure."""
        scoring = self.summary["scoring"]
        versions = self.summary["provenance"]["versions"]
        rubric = self.summary["provenance"]["rubric"] or {}
        head = f", head {scoring['head_id'][:12]}" if scoring["head_id"] else ""
        return (
            f"Source: jobimpact {self.summary['jobimpact_version']}; scores {scoring['model_id']} "
            f"({scoring['method']}{head}; rubric {rubric.get('name', '?')} "
            f"{rubric.get('version', '')}); O*NET {versions.get('onet', '?')} (USDOL/ETA, "
            f"CC BY 4.0); BLS OEWS {versions.get('oews', '?')}."
        )

    def figures(self) -> dict[str, Figure]:
        """Every figure of the report, by name; sections without data have none."""
        from jobimpact.report import plots

        summary = self.summary
        scoring = summary["scoring"]
        source = self.source_line()
        figures: dict[str, Figure] = {}
        occupations = summary["occupations"]
        if summary["headline"]["available"]:
            figures["flow"] = plots.flow_diagram(summary["major_groups"], source=source)
        if not occupations.empty:
            figures["scatter"] = plots.quadrant_scatter(
                occupations,
                displacement_threshold=scoring["displacement_threshold"],
                creation_threshold=scoring["creation_threshold"],
                source=source,
                creation_source=summary["creation"]["source"],
            )
        if summary["major_groups"]["displacement"].notna().any():
            focus = summary["focus"]
            figures["groups"] = plots.major_group_bars(
                summary["major_groups"],
                source=source,
                highlight=focus["soc_major"] if focus else None,
            )
        if not summary["wage_bins"].empty:
            figures["wages"] = plots.wage_profile(summary["wage_bins"], source=source)
        families = summary["families"]
        if families["available"] and families["table"]["x"].notna().any():
            figures["families"] = plots.family_map(families["table"], source=source)
        validation = summary["validation"]
        if validation["available"] and not validation["reliability"].empty:
            figures["reliability"] = plots.reliability_curve(
                validation["reliability"], source=source
            )
        if summary["comparison"]["available"]:
            figures.update(_comparison_figures(summary["comparison"], source))
        return figures

    def to_html(self) -> str:
        """The report as one self-contained HTML page (built once, then reused)."""
        if self._html is None:
            from jobimpact.report.render import figure_to_svg, render_html

            svgs = {
                name: figure_to_svg(figure, prefix=f"fig-{name}")
                for name, figure in self.figures().items()
            }
            self._html = render_html(self.summary, svgs)
        return self._html

    def write_html(self, path: str | Path) -> Path:
        """Write the HTML page; return its path."""
        from jobimpact.outputs import write_atomic

        return write_atomic(path, self.to_html().encode("utf-8"))

    def write_pdf(self, path: str | Path) -> int:
        """Render the same page to a PDF with WeasyPrint; return its number of pages.

        Raises :class:`~jobimpact.errors.DependencyError` naming the system library
        WeasyPrint cannot load, before the page is rendered.
        """
        from jobimpact.report.render import html_to_pdf, load_weasyprint

        load_weasyprint()
        return html_to_pdf(self.to_html(), Path(path))

    def _repr_html_(self) -> str:
        """Notebook display: the page in an iframe, so its styles stay out of the notebook."""
        page = html.escape(self.to_html(), quote=True)
        return (
            f'<iframe srcdoc="{page}" title="{html.escape(self.summary["title"])}" '
            'style="width: 100%; height: 900px; border: 1px solid #ccc;"></iframe>'
        )


def _comparison_figures(section: dict[str, Any], source: str) -> dict[str, Figure]:
    """The heat map and the small multiples of the "How this compares" section."""
    from jobimpact.report.comparison import correlation_matrix
    from jobimpact.report.comparison_plots import comparison_scatter, correlation_heatmap
    from jobimpact.report.sections import as_float

    measures, correlations = section["measures"], section["correlations"]
    cited = f"{source} Published measures: as cited in section 8."
    matrices = {
        title: correlation_matrix(correlations, measures, method="spearman", weights=weights)
        for title, weights in (("unweighted", "none"), ("employment-weighted", "employment"))
    }
    coverage = section["coverage"]
    counterparts = dict(zip(coverage["measure"], coverage["counterpart"], strict=True))
    spearman: dict[str, tuple[float | None, int]] = {}
    for measure in measures:
        row = correlations[
            (correlations["x"] == counterparts[measure])
            & (correlations["y"] == measure)
            & (correlations["method"] == "spearman")
            & (correlations["weights"] == "none")
        ]
        value = as_float(row["value"].iloc[0]) if not row.empty else None
        spearman[measure] = (value, int(row["n"].iloc[0]) if not row.empty else 0)
    return {
        "compare_heatmap": correlation_heatmap(matrices, section["labels"], source=cited),
        "compare_scatter": comparison_scatter(
            section["pairs"],
            measures,
            labels=section["labels"],
            counterparts=counterparts,
            spearman=spearman,
            source=cited,
        ),
    }


def _formats(formats: Sequence[str]) -> list[str]:
    """The requested formats, checked, in a fixed order, each once."""
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = sorted(set(wanted) - set(FORMATS))
    if unknown or not wanted:
        raise ConfigError(
            f"--format: got {', '.join(unknown) or 'nothing'}, expected html and/or pdf"
        )
    return [f for f in FORMATS if f in wanted]


def _file_stem(summary: dict[str, Any]) -> str:
    focus = summary["focus"]
    return f"{REPORT_STEM}_{focus['soc_major']}" if focus else REPORT_STEM


def build_report(
    db: str | Path,
    *,
    out_dir: str | Path,
    formats: Sequence[str] = FORMATS,
    title: str | None = None,
    major_group: str | None = None,
    model_id: str | None = None,
    rubric_hash: str | None = None,
    head_id: str | None = None,
    weighting: str = "rating",
) -> ReportResult:
    """Write the report of a store as HTML and/or PDF into ``out_dir``.

    Parameters
    ----------
    db
        The DuckDB store, opened read-only; it must hold aggregated scores.
    out_dir
        Folder for ``jobimpact_report.html`` / ``.pdf`` (``jobimpact_report_<group>.*``
        with ``major_group``); created if needed.
    formats
        Any of ``html`` and ``pdf``.
    title, major_group, model_id, rubric_hash, head_id, weighting
        As for :meth:`Report.from_store`.

    Returns
    -------
    ReportResult
        The files written, the time taken and the PDF's number of pages.
    """
    started = time.perf_counter()
    wanted = _formats(formats)
    report = Report.from_store(
        db,
        model_id=model_id,
        rubric_hash=rubric_hash,
        head_id=head_id,
        weighting=weighting,
        major_group=major_group,
        title=title,
    )
    from jobimpact.outputs import bytes_writer, write_together
    from jobimpact.report.render import pdf_writer

    stem = Path(out_dir) / _file_stem(report.summary)
    paths = {fmt: stem.with_suffix(f".{fmt}") for fmt in wanted}
    writers: dict[Path, Callable[[Path], None]] = {}
    if "html" in paths:
        writers[paths["html"]] = bytes_writer(report.to_html().encode("utf-8"))
    n_pages = None
    if "pdf" in paths:
        try:
            writers[paths["pdf"]], n_pages = pdf_writer(report.to_html())
        except DependencyError as exc:
            if "html" not in paths:
                raise
            # No PDF without its system libraries; the HTML a user asked for still comes.
            write_together({paths["html"]: writers[paths["html"]]})
            raise DependencyError(f"{exc} (the HTML report is written: {paths['html']})") from None
    # Both files or neither: a failure (a full disk) leaves the previous report in place.
    write_together(writers)
    return ReportResult(
        paths=paths,
        seconds=time.perf_counter() - started,
        n_pages=n_pages,
        scoring=dict(report.summary["scoring"]),
    )
