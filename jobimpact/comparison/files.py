"""Reading an external measure's file: one value per occupation code, every cell checked.

Bad input stops with one line naming the file, the row and the field: a missing column,
a malformed code, a code the code system does not know (unless the measure is a
published one known to carry a few, which are then left out and counted), a value that
is not a number, or a code listed twice with different values. A code listed twice with
the same value is kept once (published tables re-keyed to a newer taxonomy repeat rows).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from jobimpact.comparison.catalog import MeasureSpec
from jobimpact.comparison.codes import CODE_PATTERNS, describe_codes
from jobimpact.errors import DataError
from jobimpact.sources.checks import sha256_file
from jobimpact.tabular import check_pattern, read_table, to_float

__all__ = ["MeasureValues", "read_measure"]

KNOWN_FROM = {
    "soc2010": "the O*NET-SOC 2010 to 2019 crosswalk",
    "soc2018": "the SOC 2018 structure, the O*NET crosswalk or OEWS",
    "onet2019": "the O*NET occupations of the store",
}


@dataclass(frozen=True)
class MeasureValues:
    """An external measure as read from its file.

    Attributes
    ----------
    spec : the measure
    values : DataFrame
        ``code, value, source_row``: one row per code kept, in file order.
    path, sha256 : the file and its digest
    n_rows : data rows in the file
    unknown : codes left out because the code system does not know them
    """

    spec: MeasureSpec
    values: pd.DataFrame
    path: Path
    sha256: str
    n_rows: int
    unknown: tuple[str, ...]


def read_measure(spec: MeasureSpec, path: Path, *, known: Collection[str]) -> MeasureValues:
    """Read and check the file of ``spec``.

    Parameters
    ----------
    spec : the measure (its key and value columns and code system)
    path : the file: comma-separated, or tab-separated when it ends in ``.tsv`` / ``.txt``
    known : every code of the measure's code system (:class:`~jobimpact.comparison.codes.CodeLinks`)

    Raises
    ------
    DataError
        ``scores.csv, row 4, field 'soc': got '99-9999', expected a SOC 2018 code known to
        the SOC 2018 structure, the O*NET crosswalk or OEWS``, and the like.
    """
    key, value = spec.key_column, spec.value_column
    delimiter = "\t" if path.suffix.lower() in (".tsv", ".txt") else ","
    what = f"a table of {spec.label}: {key!r} codes and {value!r} values"
    raw = read_table(path, required=(key, value), what=what, delimiter=delimiter)
    raw[key] = raw[key].str.strip()
    check_pattern(
        raw, key, CODE_PATTERNS[spec.code_system], expected=describe_codes(spec.code_system)
    )
    numbers, _ = to_float(raw, value)
    frame = pd.DataFrame({"code": raw[key], "value": numbers, "source_row": raw.index})
    frame = _one_value_per_code(frame, path, key)
    unknown = ~frame["code"].isin(set(known))
    if unknown.any() and spec.unknown_codes == "error":
        first = frame[unknown].iloc[0]
        raise DataError(
            path,
            f"got {first['code']!r}, expected {describe_codes(spec.code_system)} known to "
            f"{KNOWN_FROM[spec.code_system]}",
            row=int(first["source_row"]),
            field=key,
        )
    kept = frame[~unknown].reset_index(drop=True)
    if kept.empty:
        raise DataError(
            path,
            f"got no code known to {KNOWN_FROM[spec.code_system]} in column {key!r}, expected "
            f"{describe_codes(spec.code_system)}",
        )
    return MeasureValues(
        spec=spec,
        values=kept,
        path=path,
        sha256=sha256_file(path),
        n_rows=len(raw),
        unknown=tuple(frame.loc[unknown, "code"]),
    )


def _one_value_per_code(frame: pd.DataFrame, path: Path, key: str) -> pd.DataFrame:
    """Drop exact repeats of a code; a code repeated with another value is an error."""
    first = frame.drop_duplicates("code", keep="first").set_index("code")
    earlier = frame["code"].map(first["value"])
    clash = frame["value"] != earlier
    if clash.any():
        row = frame[clash].iloc[0]
        before = first.loc[row["code"]]
        raise DataError(
            path,
            f"got code {row['code']!r} again with value {row['value']:g} (first at row "
            f"{int(before['source_row'])} with {before['value']:g}), expected each code once",
            row=int(row["source_row"]),
            field=key,
        )
    return first.reset_index()[["code", "value", "source_row"]]
