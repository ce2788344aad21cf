"""Eloundou et al. (2023), "GPTs are GPTs": occupation-level alpha, beta and gamma.

``data/occ_level.csv`` of github.com/openai/GPTs-are-GPTs (MIT): per O*NET-SOC code, the
shares from GPT-4's labels (``dv_rating_*``) and from the human annotators
(``human_rating_*``). The data mirror holds the development half only (459 occupations);
the official file has every occupation.
"""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

FILE = "occ_level.csv"
COLUMNS = ("O*NET-SOC Code", "dv_rating_beta", "human_rating_beta")


def url(version: str) -> str:
    """Raw-file base of the repository at git ref ``version``."""
    check_version("gpts_occupations", version, r"[\w.\-]+", "main")
    return f"https://raw.githubusercontent.com/openai/GPTs-are-GPTs/{version}/"


def files(version: str) -> tuple[FileSpec, ...]:
    """The occupation table."""
    return (FileSpec(FILE, f"measures/gpts-are-gpts/{FILE}", COLUMNS, url_path=f"data/{FILE}"),)


SOURCE = Source(
    name="gpts_occupations",
    default_version="main",
    title="the GPTs-are-GPTs occupation table",
    url=url,
    files=files,
)
