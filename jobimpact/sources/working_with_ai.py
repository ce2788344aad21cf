"""Tomlinson et al. (2025), "Working with AI": AI applicability score per SOC 2018 code.

From github.com/microsoft/working-with-ai (CC BY 4.0): 785 SOC codes (detailed codes and
the OEWS aggregates of May 2024), scored from Bing Copilot conversations of 2024.
"""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

FILE = "soc_ai_applicability_scores.csv"
COLUMNS = ("SOC Code", "ai_applicability_score")
_MIRROR = "measures/ms-working-with-ai"


def url(version: str) -> str:
    """Raw-file base of the repository at git ref ``version``."""
    check_version("working_with_ai", version, r"[\w.\-]+", "main")
    return f"https://raw.githubusercontent.com/microsoft/working-with-ai/{version}/"


def files(version: str) -> tuple[FileSpec, ...]:
    """The score table, and the licence when the origin has it."""
    return (
        FileSpec(FILE, f"{_MIRROR}/{FILE}", COLUMNS, url_path=FILE),
        FileSpec("LICENSE.txt", f"{_MIRROR}/LICENSE.txt", optional=True, url_path="LICENSE.txt"),
    )


SOURCE = Source(
    name="working_with_ai",
    default_version="main",
    title="the Working with AI applicability scores",
    url=url,
    files=files,
)
