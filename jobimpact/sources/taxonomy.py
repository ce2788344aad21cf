"""O*NET-SOC 2010 to O*NET-SOC 2019 taxonomy crosswalk (onetcenter.org, CSV form): follows
an occupation from releases on the 2010 taxonomy (O*NET 20.1) to the current one."""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

_COLUMNS = ("O*NET-SOC 2010 Code", "O*NET-SOC 2010 Title", "O*NET-SOC 2019 Code")
_NAME = "onet_soc_2010_to_2019.csv"


def url(version: str) -> str:
    """Official CSV crosswalk from the 2010 taxonomy to the ``version`` (2019) one."""
    check_version("onet_soc_2010_crosswalk", version, r"2019", "2019")
    return (
        f"https://www.onetcenter.org/taxonomy/{version}/soc/2010_to_{version}_Crosswalk.csv?fmt=csv"
    )


def files(version: str) -> tuple[FileSpec, ...]:
    """The crosswalk table; a few title rows may precede its header."""
    return (FileSpec(_NAME, f"crosswalks/{_NAME}", _COLUMNS, header_scan=10),)


SOURCE = Source(
    name="onet_soc_2010_crosswalk",
    default_version="2019",
    title="the O*NET-SOC 2010 to 2019 crosswalk",
    url=url,
    files=files,
)
