"""O*NET-SOC 2010 to O*NET-SOC 2019 taxonomy crosswalk (onetcenter.org, CSV form).

Measures keyed to SOC 2010 codes reach today's occupations through it: a SOC 2010 code is
the first seven characters of its O*NET-SOC 2010 codes.
"""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

COLUMNS = ("O*NET-SOC 2010 Code", "O*NET-SOC 2019 Code")
FILE = "onet_soc_2010_to_2019.csv"


def url(version: str) -> str:
    """Official CSV crosswalk from the O*NET-SOC 2010 taxonomy to taxonomy ``version``."""
    check_version("onet_soc_2010_crosswalk", version, r"2019", "2019")
    return f"https://www.onetcenter.org/taxonomy/{version}/walk/2010_to_{version}_Crosswalk.csv?fmt=csv"


def files(version: str) -> tuple[FileSpec, ...]:
    """The crosswalk table; a few title rows may precede its header."""
    return (FileSpec(FILE, f"crosswalks/{FILE}", COLUMNS, header_scan=10),)


SOURCE = Source(
    name="onet_soc_2010_crosswalk",
    default_version="2019",
    title="the O*NET-SOC 2010 to 2019 crosswalk",
    url=url,
    files=files,
)
