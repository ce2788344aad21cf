"""O*NET-SOC 2019 taxonomy to SOC 2018 crosswalk (onetcenter.org, CSV form)."""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

_COLUMNS = ("O*NET-SOC 2019 Code", "O*NET-SOC 2019 Title", "2018 SOC Code", "2018 SOC Title")


def url(version: str) -> str:
    """Official CSV crosswalk of the O*NET-SOC ``version`` taxonomy to SOC 2018."""
    check_version("onet_soc_crosswalk", version, r"2019", "2019")
    return (
        f"https://www.onetcenter.org/taxonomy/{version}/soc/{version}_to_SOC_Crosswalk.csv?fmt=csv"
    )


def files(version: str) -> tuple[FileSpec, ...]:
    """The crosswalk table; a few title rows may precede its header."""
    name = f"onet_soc_{version}_to_soc_2018.csv"
    return (FileSpec(name, f"crosswalks/{name}", _COLUMNS, header_scan=10),)


SOURCE = Source(
    name="onet_soc_crosswalk",
    default_version="2019",
    title="the O*NET-SOC to SOC 2018 crosswalk",
    url=url,
    files=files,
)
