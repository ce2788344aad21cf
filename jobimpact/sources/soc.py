"""SOC hierarchy (major, minor, broad, detailed) from the BLS structure workbook."""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

_COLUMNS = ("Major Group", "Minor Group", "Broad Group", "Detailed Occupation")


def url(version: str) -> str:
    """Official structure workbook of SOC ``version``."""
    check_version("soc_structure", version, r"\d{4}", "2018")
    return f"https://www.bls.gov/soc/{version}/soc_structure_{version}.xlsx"


def files(version: str) -> tuple[FileSpec, ...]:
    """The workbook as CSV; its header follows a title block of a few rows."""
    name = f"soc_structure_{version}.csv"
    return (FileSpec(name, f"crosswalks/{name}", _COLUMNS, xlsx=True, header_scan=20),)


SOURCE = Source(
    name="soc_structure",
    default_version="2018",
    title="the BLS SOC structure",
    url=url,
    files=files,
)
