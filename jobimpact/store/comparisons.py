"""Reads and writes of the compare stage: external measures, code links, comparisons.

The caller holds one transaction around :func:`write_external_measures`, the reads that
follow and :func:`write_comparison` (see :func:`jobimpact.pipeline.compare.run_compare`),
so a comparison is stored with exactly the measures it read, or nothing is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pandas as pd

__all__ = [
    "comparison_frames",
    "external_coverage",
    "latest_comparison",
    "link_inputs",
    "write_comparison",
    "write_external_measures",
]

SELECT_LINK_OCCUPATIONS = """
SELECT o.onet_soc_code, o.soc_code, e.oews_code
FROM occupations AS o LEFT JOIN employment AS e USING (onet_soc_code)
ORDER BY o.onet_soc_code
"""
SELECT_SOC_CODES = """
SELECT soc_code FROM soc_groups
UNION SELECT occ_code FROM oews WHERE o_group <> 'total'
"""
DELETE_MEASURE_VALUES = (
    "DELETE FROM external_measures WHERE measure IN (SELECT unnest(?::VARCHAR[]))"
)
DELETE_MEASURE_INFO = (
    "DELETE FROM external_measure_info WHERE measure IN (SELECT unnest(?::VARCHAR[]))"
)
DELETE_LINKS = "DELETE FROM code_links WHERE code_system IN (SELECT unnest(?::VARCHAR[]))"
INSERT_MEASURE_VALUES = "INSERT INTO external_measures BY NAME SELECT * FROM _values"
INSERT_MEASURE_INFO = "INSERT INTO external_measure_info BY NAME SELECT * FROM _info"
INSERT_LINKS = "INSERT INTO code_links BY NAME SELECT * FROM _links"
SELECT_OURS = """
SELECT onet_soc_code, title, soc_major, major_group, employment, beta, displacement, creation
FROM occupation_impact
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
ORDER BY onet_soc_code
"""
# External values at occupations with tasks (the population the coverage counts).
SELECT_EXTERNAL = """
SELECT x.measure, x.onet_soc_code, x.value, x.crosswalk_rule, o.title, o.employment
FROM external_measure_occupations AS x
JOIN occupation_overview AS o USING (onet_soc_code)
WHERE o.n_tasks > 0 AND x.measure IN (SELECT unnest(?::VARCHAR[]))
ORDER BY x.measure, x.onet_soc_code
"""
SELECT_COVERAGE = """
SELECT c.*, i.title, i.source, i.file, i.origin, i.sha256, i.citation, i.licence, i.note,
       i.unknown_codes, i.counterpart
FROM external_measure_coverage AS c JOIN external_measure_info AS i USING (measure)
WHERE c.measure IN (SELECT unnest(?::VARCHAR[]))
"""
INSERT_COMPARISON = """
INSERT INTO comparisons (comparison_id, run_id, model_id, rubric_hash, head_id, weighting,
                         measures, versions, n_boot, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
INSERT_CORRELATIONS = "INSERT INTO comparison_correlations BY NAME SELECT * FROM _correlations"
INSERT_DISAGREEMENTS = "INSERT INTO comparison_disagreements BY NAME SELECT * FROM _disagreements"
SELECT_LATEST_COMPARISON = """
SELECT * FROM comparisons
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
ORDER BY created_at DESC LIMIT 1
"""
SELECT_CORRELATIONS = "SELECT * FROM comparison_correlations WHERE comparison_id = ?"
SELECT_DISAGREEMENTS = """
SELECT d.*, o.title, o.employment
FROM comparison_disagreements AS d JOIN occupation_overview AS o USING (onet_soc_code)
WHERE d.comparison_id = ?
ORDER BY d.measure, d.direction, d.position
"""
SELECT_PAIRS = """
SELECT onet_soc_code, title, soc_major, employment, beta, displacement, creation, measure, value
FROM measure_comparison
WHERE model_id = ? AND rubric_hash = ? AND head_id = ? AND weighting = ?
  AND measure IN (SELECT unnest(?::VARCHAR[]))
ORDER BY measure, onet_soc_code
"""


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    frame: pd.DataFrame = con.execute(sql, list(params)).df()
    return frame


def link_inputs(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, set[str]]:
    """What code links are built from: each occupation's SOC 2018 and OEWS codes, and the
    SOC 2018 codes the SOC structure and OEWS list."""
    codes = {code for (code,) in con.execute(SELECT_SOC_CODES).fetchall()}
    return _frame(con, SELECT_LINK_OCCUPATIONS), codes


def _insert(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, sql: str) -> None:
    con.register(name, frame)
    try:
        con.execute(sql)
    finally:
        con.unregister(name)


def write_external_measures(
    con: duckdb.DuckDBPyConnection,
    info: pd.DataFrame,
    values: pd.DataFrame,
    links: pd.DataFrame,
) -> None:
    """Replace the measures of ``info`` (their values and descriptions) and the code links
    of the code systems in ``links`` (the caller holds the transaction)."""
    measures = list(info["measure"])
    con.execute(DELETE_MEASURE_VALUES, [measures])
    con.execute(DELETE_MEASURE_INFO, [measures])
    con.execute(DELETE_LINKS, [sorted(set(links["code_system"]))])
    _insert(con, "_values", values, INSERT_MEASURE_VALUES)
    _insert(con, "_info", info, INSERT_MEASURE_INFO)
    _insert(con, "_links", links, INSERT_LINKS)


def comparison_frames(
    con: duckdb.DuckDBPyConnection, params: Sequence[str], measures: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Our roll-up (``params``: model, rubric, head, weighting), one row per occupation, and
    the external measures at occupations with tasks, long (measure, occupation, value)."""
    return _frame(con, SELECT_OURS, params), _frame(con, SELECT_EXTERNAL, [list(measures)])


def external_coverage(con: duckdb.DuckDBPyConnection, measures: Sequence[str]) -> pd.DataFrame:
    """The ``external_measure_coverage`` rows of ``measures`` with their provenance."""
    coverage = _frame(con, SELECT_COVERAGE, [list(measures)])
    order = {name: i for i, name in enumerate(measures)}
    return coverage.sort_values("measure", key=lambda s: s.map(order)).reset_index(drop=True)


def write_comparison(
    con: duckdb.DuckDBPyConnection,
    record: Mapping[str, Any],
    correlations: pd.DataFrame,
    disagreements: pd.DataFrame,
) -> None:
    """Store one comparison with its correlations and disagreements (the caller holds the
    transaction)."""
    con.execute(
        INSERT_COMPARISON,
        [
            record[name]
            for name in (
                "comparison_id",
                "run_id",
                "model_id",
                "rubric_hash",
                "head_id",
                "weighting",
                "measures",
                "versions",
                "n_boot",
                "created_at",
            )
        ],
    )
    comparison_id = record["comparison_id"]
    _insert(
        con, "_correlations", correlations.assign(comparison_id=comparison_id), INSERT_CORRELATIONS
    )
    stored = disagreements.drop(columns=["title", "employment"], errors="ignore")
    _insert(con, "_disagreements", stored.assign(comparison_id=comparison_id), INSERT_DISAGREEMENTS)


def latest_comparison(
    con: duckdb.DuckDBPyConnection, params: Sequence[str]
) -> dict[str, Any] | None:
    """The latest comparison of a roll-up (model, rubric, head, weighting): its record,
    correlations, disagreements (with titles and employment), the coverage of its
    measures, and each occupation's values (ours and theirs); None when there is none."""
    found = _frame(con, SELECT_LATEST_COMPARISON, params)
    if found.empty:
        return None
    record = found.iloc[0].to_dict()
    measures = [str(m) for m in record["measures"]]
    comparison_id = str(record["comparison_id"])
    return {
        "record": record,
        "measures": measures,
        "correlations": _frame(con, SELECT_CORRELATIONS, [comparison_id]),
        "disagreements": _frame(con, SELECT_DISAGREEMENTS, [comparison_id]),
        "coverage": external_coverage(con, measures),
        "pairs": _frame(con, SELECT_PAIRS, [*params, measures]),
    }
