"""Felten, Raj & Seamans (2023): language-modelling AI occupational exposure (LM AIOE).

The workbook in the repository root of github.com/AIOE-Data/AIOE holds the occupation
scores (sheet ``LM AIOE``: SOC 2010 code, title, score; 774 occupations) and an industry
sheet; the occupation sheet is stored as CSV. No licence is stated: cite the paper.
"""

from __future__ import annotations

from urllib.parse import quote

from jobimpact.sources.base import FileSpec, Source, check_version

WORKBOOK = "Language Modeling AIOE and AIIE.xlsx"
SHEET = "LM AIOE"
COLUMNS = ("SOC Code", "Occupation Title", "Language Modeling AIOE")


def url(version: str) -> str:
    """Raw-file base of the repository at git ref ``version`` (a branch, tag or commit)."""
    check_version("aioe", version, r"[\w.\-]+", "main")
    return f"https://raw.githubusercontent.com/AIOE-Data/AIOE/{version}/"


def files(version: str) -> tuple[FileSpec, ...]:
    """The occupation sheet of the workbook, as CSV."""
    return (
        FileSpec(
            "lm_aioe.csv",
            f"measures/aioe/{WORKBOOK}",
            COLUMNS,
            url_path=quote(WORKBOOK),
            xlsx=True,
            sheet=SHEET,
        ),
    )


SOURCE = Source(
    name="aioe",
    default_version="main",
    title="the LM AIOE workbook of Felten, Raj and Seamans",
    url=url,
    files=files,
)
