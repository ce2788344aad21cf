"""Occupation codes of external measures, and the O*NET-SOC 2019 occupations each reaches.

Three code systems (pure functions; the store keeps the result in ``code_links``):

``onet2019``
    O*NET-SOC 2019 codes (``11-1011.03``): the occupation itself.
``soc2018``
    SOC 2018 codes (``11-1011``): the occupations the O*NET crosswalk maps to the code
    (``detailed``), else the occupations whose employment OEWS publishes under it when it
    is an OEWS aggregate such as ``13-1020`` or ``21-1018`` (``OEWS aggregate``).
``soc2010``
    SOC 2010 codes: the O*NET-SOC 2010 codes that start with it, followed to O*NET-SOC
    2019 through the O*NET 2010-to-2019 crosswalk.

In both SOC systems a code ending in zeros stands for a group: the detailed codes that
start with its other digits (``15-1250`` → ``15-125x``, ``25-1000`` → ``25-1xxx``).
Each link has a specificity (7 O*NET-SOC, 6 detailed, 5 OEWS aggregate or broad group,
4 or 3 minor group, 2 major group); an occupation reached by several codes of a measure
keeps only its most specific ones (see the view ``external_measure_occupations``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "CODE_PATTERNS",
    "CodeLinks",
    "build_links",
    "describe_codes",
    "group_level",
]

SOC = r"\d{2}-\d{4}"
ONET_SOC = r"\d{2}-\d{4}\.\d{2}"
CODE_PATTERNS = {"soc2010": SOC, "soc2018": SOC, "onet2019": ONET_SOC}
EXAMPLES = {"soc2010": "11-1011", "soc2018": "11-1011", "onet2019": "11-1011.00"}
LINK_COLUMNS = ["code_system", "code", "onet_soc_code", "match_level", "specificity", "path"]
PATHS = {
    "onet2019": "O*NET-SOC 2019",
    "soc2018": "SOC 2018 → O*NET-SOC 2019",
    "oews": "OEWS code → O*NET-SOC 2019",
    "soc2010": "SOC 2010 → O*NET-SOC 2010 → O*NET-SOC 2019",
}


@dataclass(frozen=True)
class CodeLinks:
    """The occupations each code reaches, and every code each system knows.

    Attributes
    ----------
    links : DataFrame
        ``code_system, code, onet_soc_code, match_level, specificity, path``, one row per
        code and occupation it reaches.
    known : dict
        Code system → every code it accepts (including codes that reach no occupation,
        e.g. a SOC code whose O*NET occupations were dropped).
    """

    links: pd.DataFrame
    known: dict[str, frozenset[str]]


def _digits(code: str) -> str:
    return code[:2] + code[3:7]


def _code(digits: str) -> str:
    return f"{digits[:2]}-{digits[2:]}"


def group_level(specificity: int) -> str:
    """How a group code of that specificity is named."""
    return {5: "broad group", 4: "minor group", 3: "minor group"}.get(specificity, "major group")


def _groups(detailed: str) -> list[tuple[str, int]]:
    """The group codes a detailed SOC code belongs to, with their specificity."""
    digits = _digits(detailed)
    found: dict[str, int] = {}
    for keep in range(5, 1, -1):
        head = digits[:keep].rstrip("0") if keep > 2 else digits[:2]
        found.setdefault(_code(head.ljust(6, "0")), max(len(head), 2))
    return list(found.items())


def _soc_links(system: str, pairs: pd.DataFrame, path: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Links of detailed codes (``code``, ``onet_soc_code`` pairs), and of their groups."""
    detailed = pairs.assign(match_level="detailed", specificity=6)
    rows = [
        (group, occupation, group_level(spec), spec)
        for code, occupation in zip(pairs["code"], pairs["onet_soc_code"], strict=True)
        for group, spec in _groups(code)
    ]
    groups = pd.DataFrame(rows, columns=["code", "onet_soc_code", "match_level", "specificity"])
    return detailed.assign(code_system=system, path=path), groups.assign(
        code_system=system, path=path
    )


def build_links(
    occupations: pd.DataFrame,
    soc_codes: Collection[str],
    crosswalk_2010: pd.DataFrame | None,
) -> CodeLinks:
    """Every code of each system and the occupations it reaches.

    Parameters
    ----------
    occupations : DataFrame
        ``onet_soc_code``, ``soc_code`` (SOC 2018, from the O*NET crosswalk; may be NULL)
        and ``oews_code`` (the OEWS code counting its workers; may be NULL), one row per
        O*NET-SOC 2019 occupation in the store.
    soc_codes : collection of str
        SOC 2018 codes known besides the occupations' own: the SOC structure's codes at
        every level and the codes OEWS publishes.
    crosswalk_2010 : DataFrame or None
        From :func:`jobimpact.history.read_taxonomy_crosswalk`; without it, SOC 2010 codes
        are not linked.
    """
    occupations = occupations.astype({"onet_soc_code": str})
    in_store = set(occupations["onet_soc_code"])
    codes = occupations["onet_soc_code"]
    frames = [_links(codes, codes, "detailed", 7, "onet2019", PATHS["onet2019"])]
    mapped = occupations.dropna(subset=["soc_code"])
    soc_pairs = pd.DataFrame({"code": mapped["soc_code"], "onet_soc_code": mapped["onet_soc_code"]})
    detailed, groups = _soc_links("soc2018", soc_pairs, PATHS["soc2018"])
    counted = occupations.dropna(subset=["oews_code"])
    aggregates = counted[counted["oews_code"] != counted["soc_code"]]
    # In rule order: a code that is both an OEWS aggregate and a group code (13-1020)
    # is linked as the aggregate.
    frames += [
        detailed,
        _links(
            aggregates["oews_code"],
            aggregates["onet_soc_code"],
            "OEWS aggregate",
            5,
            "soc2018",
            PATHS["oews"],
        ),
        groups,
    ]
    known_2010: set[str] = set()
    if crosswalk_2010 is not None:
        usable = crosswalk_2010[crosswalk_2010["code_2019"].isin(in_store)]
        pairs_2010 = pd.DataFrame(
            {"code": usable["code_2010"].str.slice(0, 7), "onet_soc_code": usable["code_2019"]}
        ).drop_duplicates()
        frames += _soc_links("soc2010", pairs_2010, PATHS["soc2010"])
        known_2010 = set(crosswalk_2010["code_2010"].str.slice(0, 7))
    links = (
        pd.concat(frames, ignore_index=True)
        .astype({"code": str, "onet_soc_code": str, "specificity": int})
        # A code linked to an occupation twice (e.g. 13-1020 as OEWS aggregate and as
        # broad group) keeps its most specific link, the first rule listed on a tie.
        .sort_values("specificity", ascending=False, kind="stable")
        .drop_duplicates(["code_system", "code", "onet_soc_code"])
        .sort_values(["code_system", "code", "onet_soc_code"])
        .reset_index(drop=True)[LINK_COLUMNS]
    )
    linked = links.groupby("code_system")["code"].agg(set).to_dict()
    groups_2010 = {group for code in known_2010 for group, _ in _groups(code)}
    known = {
        "onet2019": frozenset(in_store),
        "soc2018": frozenset(set(soc_codes) | linked.get("soc2018", set())),
        "soc2010": frozenset(known_2010 | groups_2010),
    }
    return CodeLinks(links=links, known=known)


def _links(
    codes: pd.Series,
    occupations: pd.Series,
    match_level: str,
    specificity: int,
    system: str,
    path: str,
) -> pd.DataFrame:
    """Link rows: each code to the O*NET-SOC occupation beside it, at one match level."""
    return pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "onet_soc_code": occupations.to_numpy(),
            "match_level": match_level,
            "specificity": specificity,
            "code_system": system,
            "path": path,
        }
    )


def describe_codes(system: str) -> str:
    """What a valid code of ``system`` looks like, for messages."""
    from jobimpact.comparison.catalog import CODE_SYSTEMS

    return f"a {CODE_SYSTEMS[system]} code like {EXAMPLES[system]}"
