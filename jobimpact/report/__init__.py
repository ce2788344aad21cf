"""The displacement-versus-creation report, as self-contained HTML and PDF.

Built in three steps that a notebook can run one at a time: ``summarize`` reads the store
(read-only) into a plain dict, ``plots`` turns its DataFrames into matplotlib figures and
``render`` writes HTML (Jinja2, autoescaped, everything inlined) and PDF (WeasyPrint).

>>> report = Report.from_store("data/jobimpact.duckdb")   # doctest: +SKIP
>>> report.summary["headline"]["exposed"]                  # doctest: +SKIP
>>> report.write_pdf("reports/jobimpact_report.pdf")       # doctest: +SKIP
"""

from __future__ import annotations

from jobimpact.report.report import FORMATS, Report, ReportResult, build_report

__all__ = ["FORMATS", "Report", "ReportResult", "build_report"]
