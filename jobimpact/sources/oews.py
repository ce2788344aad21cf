"""BLS Occupational Employment and Wage Statistics, national estimates (zip of one workbook)."""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

_COLUMNS = ("OCC_CODE", "OCC_TITLE", "O_GROUP", "TOT_EMP", "A_MEAN", "A_MEDIAN")


def _year(version: str) -> str:
    """Four-digit reference year of a version such as ``M2024``."""
    return check_version("oews", version, r"M(\d{4})", "M2024").group(1)


def url(version: str) -> str:
    """Official zip of the national estimates, e.g. ``oesm24nat.zip`` for ``M2024``."""
    return f"https://www.bls.gov/oes/special-requests/oesm{_year(version)[2:]}nat.zip"


def files(version: str) -> tuple[FileSpec, ...]:
    """The national workbook, stored as CSV like the mirror."""
    stem = f"national_{version}_dl"
    member = f"oesm{_year(version)[2:]}nat/{stem}.xlsx"
    return (FileSpec(f"{stem}.csv", f"bls/oews/{stem}.csv", _COLUMNS, member=member, xlsx=True),)


SOURCE = Source(
    name="oews",
    default_version="M2024",
    title="the BLS OEWS national estimates",
    url=url,
    files=files,
)
