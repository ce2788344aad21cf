"""Frey & Osborne (2017): probability of computerisation of 702 occupations.

The paper lists the probabilities in an appendix (a PDF table); the machine-readable copy
read here is ``data_tables/automation_risk_soc2018.csv`` of github.com/ignaciourbina/
labor-force: the paper's code (``SOC code``, from the 2010 OES) and probability, with
SOC 2010 and SOC 2018 codes added (one row per SOC 2018 code, so a code can repeat).
"""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

FILE = "automation_risk_soc2018.csv"
COLUMNS = ("Probability", "SOC code", "Occupation", "2010 SOC Code", "2018 SOC Code")


def url(version: str) -> str:
    """Raw-file base of the repository at git ref ``version``."""
    check_version("frey_osborne", version, r"[\w.\-]+", "main")
    return f"https://raw.githubusercontent.com/ignaciourbina/labor-force/{version}/"


def files(version: str) -> tuple[FileSpec, ...]:
    """The re-keyed table."""
    return (
        FileSpec(FILE, f"measures/frey-osborne/{FILE}", COLUMNS, url_path=f"data_tables/{FILE}"),
    )


SOURCE = Source(
    name="frey_osborne",
    default_version="main",
    title="the Frey-Osborne probabilities of computerisation",
    url=url,
    files=files,
)
