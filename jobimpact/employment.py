"""Parse BLS OEWS and the SOC crosswalks; map O*NET-SOC occupations to employment (pure).

O*NET describes work at the level of O*NET-SOC 2019 occupations (``11-1011.03``); OEWS
counts workers by SOC 2018 code (``11-1011``). The O*NET crosswalk maps each O*NET-SOC code
to one SOC detailed code, and several O*NET-SOC codes may share one. OEWS publishes most SOC
detailed codes, but for a few it publishes only an aggregate at its ``detailed`` level that is
not itself a SOC code (e.g. ``13-1020`` for ``13-1021``..``13-1023``); a SOC code missing from
OEWS is matched to the one such aggregate in its SOC broad group. :func:`allocate_employment`
then splits each OEWS code's employment equally among the O*NET-SOC occupations mapped to it
that have task statements, so no worker is counted twice.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jobimpact.errors import DataError
from jobimpact.headers import column_positions
from jobimpact.tabular import (
    STRING,
    check_in,
    check_not_empty,
    check_pattern,
    check_unique,
    finish,
    read_table,
    to_float,
    to_string,
    to_whole,
)

log = logging.getLogger(__name__)

SOC_PATTERN = r"\d{2}-\d{4}"
ONET_SOC_PATTERN = r"\d{2}-\d{4}\.\d{2}"
TOTAL_CODE = "00-0000"
O_GROUPS = ("total", "major", "minor", "broad", "detailed")
LEVELS = ("major", "minor", "broad", "detailed")

OEWS_WHAT = "the BLS OEWS national estimates (national_M<year>_dl)"
CROSSWALK_WHAT = "the O*NET-SOC 2019 to SOC 2018 crosswalk"
SOC_WHAT = "the BLS SOC 2018 structure"

# BLS marks in place of a number: ** no employment estimate, # at or above the top code,
# * no annual (or hourly) wage published.
EMPLOYMENT_MARKS = ("**", "#")
WAGE_MARKS = ("*", "#")
_OTHER_MARKS = ("*", "**", "#", "~")

MATCH_DETAILED = "detailed"
MATCH_AGGREGATE = "oews_aggregate"
MATCH_NONE = "none"
SPLIT_WITH_TASKS = "equal among occupations with tasks"
SPLIT_ALL = "equal among all"

OEWS_COLUMNS = (
    "occ_code",
    "occ_title",
    "o_group",
    "tot_emp",
    "tot_emp_mark",
    "emp_prse",
    "h_mean",
    "a_mean",
    "h_median",
    "a_median",
    "a_mean_mark",
    "a_median_mark",
)
EMPLOYMENT_COLUMNS = (
    "onet_soc_code",
    "soc_code",
    "oews_code",
    "oews_match",
    "oews_tot_emp",
    "n_sharing",
    "emp_share",
    "split_method",
    "tot_emp",
    "a_mean",
    "a_median",
    "wage_bill",
)


# --- OEWS ----------------------------------------------------------------------------------


def read_oews(path: Path) -> pd.DataFrame:
    """Read the OEWS national file (CSV of the ``national_M<year>_dl`` workbook).

    Parameters
    ----------
    path
        The CSV file. Column names are matched regardless of case (older vintages write
        them in lower case), by the rule ``fetch`` checks the file with
        (:mod:`jobimpact.headers`); ``EMP_PRSE``, ``H_MEAN`` and ``H_MEDIAN`` are optional.

    Returns
    -------
    pandas.DataFrame
        The columns of the ``oews`` table, one row per OEWS code. Suppressed or top-coded
        figures are NULL with the BLS mark beside them (``tot_emp_mark`` ``**`` or ``#``,
        ``a_mean_mark`` / ``a_median_mark`` ``*`` or ``#``). Thousands separators are accepted.
        OEWS lists a few codes twice, as a broad group and as a detailed row with the same
        figures (e.g. ``13-1020``); such a pair becomes one row with ``o_group`` ``detailed``,
        the level the employment mapping uses.

    Raises
    ------
    DataError
        On a missing column, a malformed code, an unknown ``O_GROUP``, a non-numeric figure
        that is not a BLS mark, or a code listed twice with different figures.
    """
    raw = read_table(
        path,
        required=("OCC_CODE", "OCC_TITLE", "O_GROUP", "TOT_EMP", "A_MEAN", "A_MEDIAN"),
        optional=("EMP_PRSE", "H_MEAN", "H_MEDIAN"),
        what=OEWS_WHAT,
        delimiter=",",
    )
    check_pattern(raw, "OCC_CODE", SOC_PATTERN, expected="a SOC code like 11-1011")
    check_not_empty(raw, "OCC_TITLE", expected="an occupation title")
    raw["O_GROUP"] = raw["O_GROUP"].str.strip().str.lower()
    check_in(raw, "O_GROUP", O_GROUPS, expected="one of " + ", ".join(O_GROUPS))
    raw = _merge_broad_detailed(raw)
    check_unique(raw, ["OCC_CODE"], what="OCC_CODE (is this the national file?)")
    tot_emp, tot_emp_mark = to_float(raw, "TOT_EMP", marks=EMPLOYMENT_MARKS, thousands=True)
    a_mean, a_mean_mark = to_float(raw, "A_MEAN", marks=WAGE_MARKS, thousands=True)
    a_median, a_median_mark = to_float(raw, "A_MEDIAN", marks=WAGE_MARKS, thousands=True)
    optional = {
        name: to_float(raw, name, marks=_OTHER_MARKS, thousands=True, allow_empty=True)[0]
        for name in ("EMP_PRSE", "H_MEAN", "H_MEDIAN")
    }
    return finish(
        {
            "occ_code": raw["OCC_CODE"].str.strip().astype(STRING),
            "occ_title": to_string(raw, "OCC_TITLE", empty_is_null=False),
            "o_group": raw["O_GROUP"].astype(STRING),
            "tot_emp": to_whole(tot_emp, raw, "TOT_EMP"),
            "tot_emp_mark": tot_emp_mark,
            "emp_prse": optional["EMP_PRSE"],
            "h_mean": optional["H_MEAN"],
            "a_mean": a_mean,
            "h_median": optional["H_MEDIAN"],
            "a_median": a_median,
            "a_mean_mark": a_mean_mark,
            "a_median_mark": a_median_mark,
        }
    )


def _merge_broad_detailed(raw: pd.DataFrame) -> pd.DataFrame:
    """Drop the broad row of a code OEWS also lists at detailed level with the same figures."""
    code = raw["OCC_CODE"].str.strip()
    repeated = code.duplicated(keep=False) & (raw["O_GROUP"] == "broad")
    drop = []
    figures = [c for c in raw.columns if c != "O_GROUP"]
    for row in raw.index[repeated.to_numpy(dtype=bool)]:
        twin = raw[(code == code.at[row]) & (raw["O_GROUP"] == "detailed")]
        if len(twin) == 1 and (twin[figures].iloc[0] == raw.loc[row, figures]).all():
            drop.append(row)
    if drop:
        log.debug("OEWS codes listed as broad and detailed, kept once: %s", list(code[drop]))
    return raw.drop(index=drop)


# --- crosswalk and SOC structure -----------------------------------------------------------


def read_crosswalk(path: Path) -> pd.DataFrame:
    """Read the O*NET-SOC 2019 to SOC 2018 crosswalk (CSV from onetcenter.org).

    Parameters
    ----------
    path
        The CSV; its header (``O*NET-SOC 2019 Code``, ..., ``2018 SOC Code``) may follow a
        few title rows.

    Returns
    -------
    pandas.DataFrame
        ``onet_soc_code, soc_code``, one row per O*NET-SOC code.

    Raises
    ------
    DataError
        On a missing column, a malformed code or an O*NET-SOC code listed twice.
    """
    onet, soc = "O*NET-SOC 2019 Code", "2018 SOC Code"
    raw = read_table(path, required=(onet, soc), what=CROSSWALK_WHAT, delimiter=",", header_scan=10)
    check_pattern(raw, onet, ONET_SOC_PATTERN, expected="an O*NET-SOC code like 11-1011.00")
    check_pattern(raw, soc, SOC_PATTERN, expected="a SOC code like 11-1011")
    check_unique(raw, [onet], what=onet)
    frame = finish(
        {
            "onet_soc_code": raw[onet].str.strip().astype(STRING),
            "soc_code": raw[soc].str.strip().astype(STRING),
        }
    )
    frame.attrs["file"] = path.name
    return frame


def read_soc_structure(path: Path) -> pd.DataFrame:
    """Read the SOC 2018 hierarchy (CSV of the BLS ``soc_structure_2018`` workbook).

    Parameters
    ----------
    path
        The CSV. A title block precedes the header ``Major Group, Minor Group, Broad Group,
        Detailed Occupation`` (found by content, not position); the title is in the column
        after ``Detailed Occupation``. Each row fills exactly one of the four code columns.

    Returns
    -------
    pandas.DataFrame
        The ``soc_groups`` table: ``soc_code, level, title, soc_major``.

    Raises
    ------
    DataError
        On a missing column, a row with no title or with other than one code, a malformed
        code or a code listed twice. Rows without any code (notes) are skipped.
    """
    headers = ("Major Group", "Minor Group", "Broad Group", "Detailed Occupation")
    raw = read_table(
        path, required=headers, what=SOC_WHAT, delimiter=",", header_scan=30, keep_all=True
    )
    title = _title_column(path, raw, after=headers[-1])
    codes = raw[list(headers)].apply(lambda col: col.str.strip())
    filled = (codes != "").sum(axis=1).to_numpy()
    if (filled > 1).any():
        row = int(raw.index[filled > 1][0])
        found = ", ".join(c for c in codes.loc[row] if c)
        raise DataError(path, f"got codes {found} on one row, expected one code per row", row=row)
    # Rows without a code are notes under the table.
    raw, codes = raw[filled == 1], codes[filled == 1]
    for column in headers:
        check_pattern(
            raw[codes[column] != ""], column, SOC_PATTERN, expected="a SOC code like 11-1011"
        )
    check_not_empty(raw, title, expected="the title of the SOC group")
    code = codes.max(axis=1)
    keyed = raw.assign(**{"SOC code": code})
    check_unique(keyed, ["SOC code"], what="SOC code")
    level = codes.ne("").idxmax(axis=1).map(dict(zip(headers, LEVELS, strict=True)))
    return finish(
        {
            "soc_code": code.astype(STRING),
            "level": level.astype(STRING),
            "title": raw[title].str.strip().astype(STRING),
            "soc_major": soc_major(code),
        }
    )


def _title_column(path: Path, raw: pd.DataFrame, *, after: str) -> str:
    """Name of the title column: the one right after ``after`` in the header."""
    header: list[str] = raw.attrs["header"]
    # Found by the rule the header was read with (case-insensitive), not by exact text.
    position = column_positions(header, [after])[after] + 1
    if position >= len(header):
        raise DataError(
            path,
            f"got no column after {after!r} (found: {', '.join(map(repr, header))}), "
            "expected the titles of the SOC groups there",
        )
    return header[position]


def soc_major(codes: pd.Series) -> pd.Series:
    """The SOC major group of each code: its first two digits and ``-0000``.

    Parameters
    ----------
    codes
        SOC (``11-1011``) or O*NET-SOC (``11-1011.03``) codes.

    Returns
    -------
    pandas.Series
        E.g. ``11-0000`` for both examples.
    """
    return (codes.astype(STRING).str.slice(0, 2) + "-0000").astype(STRING)


def occupation_soc(
    occupations: pd.DataFrame, crosswalk: pd.DataFrame, soc_groups: pd.DataFrame
) -> pd.DataFrame:
    """Add the SOC 2018 detailed code and the SOC major group to each occupation.

    Parameters
    ----------
    occupations
        ``onet_soc_code, title, description, job_zone`` from :func:`jobimpact.onet.read_onet`.
    crosswalk
        From :func:`read_crosswalk`.
    soc_groups
        From :func:`read_soc_structure`.

    Returns
    -------
    pandas.DataFrame
        The ``occupations`` table. ``soc_code`` is NULL (with a warning) for an occupation the
        crosswalk lacks; ``soc_major`` comes from the first two digits of the O*NET-SOC code.

    Raises
    ------
    DataError
        When the crosswalk maps an occupation to a code that is not a SOC detailed code, or
        an occupation's major group is not in the SOC structure.
    """
    mapping = dict(zip(crosswalk["onet_soc_code"], crosswalk["soc_code"], strict=True))
    codes = occupations["onet_soc_code"].astype(str)
    soc = codes.map(mapping)
    missing = codes[soc.isna()]
    if not missing.empty:
        log.warning(
            "%d occupation(s) not in the crosswalk, left without a SOC code: %s",
            len(missing),
            ", ".join(missing[:10]),
        )
    detailed = set(soc_groups.loc[soc_groups["level"] == "detailed", "soc_code"])
    unknown = soc.notna() & ~soc.isin(detailed)
    if unknown.any():
        i = unknown.to_numpy(dtype=bool).argmax()
        raise DataError(
            crosswalk.attrs.get("file", "crosswalk"),
            f"got SOC code {soc.iloc[i]!r} for {codes.iloc[i]!r}, expected a detailed code of "
            "the SOC structure",
            field="2018 SOC Code",
        )
    major = soc_major(codes)
    majors = set(soc_groups.loc[soc_groups["level"] == "major", "soc_code"])
    stray = ~major.isin(majors)
    if stray.any():
        i = stray.to_numpy(dtype=bool).argmax()
        raise DataError(
            "Occupation Data.txt",
            f"got {codes.iloc[i]!r} in major group {major.iloc[i]!r}, expected a major group "
            "of the SOC structure",
            field="O*NET-SOC Code",
        )
    return finish(
        {
            "onet_soc_code": occupations["onet_soc_code"].astype(STRING),
            "title": occupations["title"].astype(STRING),
            "description": occupations["description"].astype(STRING),
            "soc_code": soc.astype(STRING),
            "soc_major": major,
            "job_zone": occupations["job_zone"].astype("Int64"),
        }
    )


# --- employment ----------------------------------------------------------------------------


def oews_match(soc_codes: pd.Series, oews: pd.DataFrame, *, soc_detailed: set[str]) -> pd.DataFrame:
    """The OEWS code that counts the workers of each SOC detailed code.

    Parameters
    ----------
    soc_codes
        SOC 2018 detailed codes (NULL allowed).
    oews
        From :func:`read_oews`.
    soc_detailed
        Every SOC 2018 detailed code; OEWS ``detailed`` rows outside it are OEWS aggregates.

    Returns
    -------
    pandas.DataFrame
        ``oews_code`` and ``oews_match`` on the index of ``soc_codes``: ``detailed`` when
        OEWS publishes the code itself; ``oews_aggregate`` when it publishes instead exactly
        one aggregate in the code's SOC broad group (same first six characters, e.g.
        ``21-101``); ``none`` otherwise (a warning is logged when several aggregates compete).
    """
    published = oews.loc[oews["o_group"] == "detailed", "occ_code"].astype(str)
    direct = set(published)
    aggregates = published[~published.isin(soc_detailed)]
    by_broad: dict[str, list[str]] = {}
    for aggregate in aggregates:
        by_broad.setdefault(aggregate[:6], []).append(aggregate)
    codes: list[str | None] = []
    kinds: list[str] = []
    for soc in soc_codes:
        code, kind = _match_one(None if pd.isna(soc) else str(soc), direct, by_broad)
        codes.append(code)
        kinds.append(kind)
    return pd.DataFrame(
        {"oews_code": pd.array(codes, dtype=STRING), "oews_match": pd.array(kinds, dtype=STRING)},
        index=soc_codes.index,
    )


def _match_one(
    soc: str | None, direct: set[str], by_broad: dict[str, list[str]]
) -> tuple[str | None, str]:
    """(OEWS code, match kind) of one SOC code."""
    if soc is None:
        return None, MATCH_NONE
    if soc in direct:
        return soc, MATCH_DETAILED
    candidates = by_broad.get(soc[:6], [])
    if len(candidates) == 1:
        return candidates[0], MATCH_AGGREGATE
    if candidates:
        log.warning(
            "SOC %s: OEWS has several aggregates in its broad group (%s); left unmatched",
            soc,
            ", ".join(candidates),
        )
    return None, MATCH_NONE


def allocate_employment(
    occupations: pd.DataFrame,
    tasks: pd.DataFrame,
    crosswalk: pd.DataFrame,
    oews: pd.DataFrame,
    *,
    soc_groups: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ``employment`` table: OEWS employment and wages given to each O*NET-SOC occupation.

    Parameters
    ----------
    occupations
        One row per O*NET-SOC occupation (``onet_soc_code``).
    tasks
        The task statements (``onet_soc_code``); an occupation "has tasks" when it has one.
    crosswalk
        From :func:`read_crosswalk`.
    oews
        From :func:`read_oews`.
    soc_groups
        From :func:`read_soc_structure`, to tell OEWS aggregates from SOC detailed codes;
        without it the crosswalk's SOC codes stand for the SOC detailed codes.

    Returns
    -------
    pandas.DataFrame
        The columns of the ``employment`` table, one row per occupation. Each OEWS code's
        ``tot_emp`` is split equally among the occupations mapped to it that have tasks
        (``n_sharing`` of them, ``emp_share = 1 / n_sharing``); occupations without tasks
        that share the code get ``emp_share`` 0. When none of the occupations sharing a code
        has tasks it is split equally among all of them (``n_sharing`` then counts them all;
        ``split_method`` says which rule applied). ``tot_emp`` is NULL where OEWS
        suppressed the figure, ``wage_bill = tot_emp * a_mean`` NULL where either is.
    """
    frame = pd.DataFrame({"onet_soc_code": occupations["onet_soc_code"].astype(str)})
    mapping = dict(zip(crosswalk["onet_soc_code"], crosswalk["soc_code"], strict=True))
    frame["soc_code"] = frame["onet_soc_code"].map(mapping).astype(STRING)
    if soc_groups is not None:
        detailed = set(soc_groups.loc[soc_groups["level"] == "detailed", "soc_code"])
    else:
        detailed = set(crosswalk["soc_code"])
    frame = frame.join(oews_match(frame["soc_code"], oews, soc_detailed=detailed))
    frame["has_tasks"] = frame["onet_soc_code"].isin(set(tasks["onet_soc_code"].astype(str)))
    frame = frame.join(_split(frame))
    published = oews.drop_duplicates("occ_code").set_index("occ_code")
    matched = frame["oews_code"]
    frame["oews_tot_emp"] = matched.map(published["tot_emp"]).astype("Int64")
    frame["a_mean"] = matched.map(published["a_mean"]).astype("float64")
    frame["a_median"] = matched.map(published["a_median"]).astype("float64")
    frame["tot_emp"] = frame["oews_tot_emp"].astype("float64") * frame["emp_share"]
    frame["wage_bill"] = frame["tot_emp"] * frame["a_mean"]
    frame["onet_soc_code"] = frame["onet_soc_code"].astype(STRING)
    return finish({name: frame[name] for name in EMPLOYMENT_COLUMNS})


def _split(frame: pd.DataFrame) -> pd.DataFrame:
    """n_sharing, emp_share and split_method of each occupation, from its OEWS code."""
    grouped = frame[frame["oews_code"].notna()].groupby("oews_code")["has_tasks"]
    with_tasks = frame["oews_code"].map(grouped.sum())
    everyone = frame["oews_code"].map(grouped.size())
    by_tasks = with_tasks > 0
    n_sharing = with_tasks.where(by_tasks, everyone)
    share = np.where(
        by_tasks, frame["has_tasks"].astype(float) / with_tasks, 1.0 / everyone.astype(float)
    )
    matched = frame["oews_code"].notna()
    return pd.DataFrame(
        {
            "n_sharing": n_sharing.where(matched).astype("Int64"),
            "emp_share": pd.Series(share, index=frame.index).where(matched).astype("float64"),
            "split_method": pd.Series(
                np.where(by_tasks, SPLIT_WITH_TASKS, SPLIT_ALL), index=frame.index
            )
            .where(matched)
            .astype(STRING),
        }
    )


def employment_coverage(employment: pd.DataFrame, oews: pd.DataFrame) -> dict[str, Any]:
    """How much of US employment the occupations with tasks stand for, and a double-count check.

    Parameters
    ----------
    employment
        From :func:`allocate_employment`.
    oews
        From :func:`read_oews`.

    Returns
    -------
    dict
        ``total_employment`` (OEWS ``00-0000``, None when absent), ``matched_employment``
        (allocated to occupations with tasks), ``matched_share``, ``allocated_employment``
        (to all occupations), ``oews_detailed_employment`` (sum of OEWS detailed rows),
        ``unmatched_oews_codes`` (detailed OEWS codes no occupation maps to),
        ``occupations_by_match`` (counts per ``oews_match``) and ``double_counted_employment``
        (employment allocated beyond what OEWS publishes for a code; 0 when nothing is
        counted twice). Plain Python numbers, ready for JSON.
    """
    total_rows = oews.loc[oews["occ_code"] == TOTAL_CODE, "tot_emp"].dropna()
    total = int(total_rows.iloc[0]) if not total_rows.empty else None
    with_tasks = employment["split_method"] == SPLIT_WITH_TASKS
    matched = float(employment.loc[with_tasks.fillna(False), "tot_emp"].sum())
    allocated = employment.dropna(subset=["oews_code"]).groupby("oews_code")["tot_emp"].sum()
    published = oews.drop_duplicates("occ_code").set_index("occ_code")["tot_emp"]
    excess = (allocated - published.reindex(allocated.index).astype("float64")).clip(lower=0)
    detailed = oews[oews["o_group"] == "detailed"]
    used = set(employment["oews_code"].dropna())
    return {
        "total_employment": total,
        "matched_employment": matched,
        "matched_share": matched / total if total else None,
        "allocated_employment": float(allocated.sum()),
        "oews_detailed_employment": int(detailed["tot_emp"].sum()),
        "unmatched_oews_codes": sorted(set(detailed["occ_code"]) - used),
        "occupations_by_match": {
            str(k): int(v) for k, v in employment["oews_match"].value_counts().items()
        },
        # A tolerance of one worker per code absorbs float rounding in the equal split.
        "double_counted_employment": float(excess[excess > 1.0].sum()),
    }
