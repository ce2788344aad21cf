"""Reading and checking the delimited files of the public sources (shared by ingest parsers).

Every file is read as text, cell by cell, and converted with explicit checks, so an error
names the file, the row and the field. Rows are numbered as a spreadsheet shows them: the
header is row 1 (or the row where the header was found), the first data row the next one.
Frames returned by :func:`read_table` keep that number as their index (named ``row``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from jobimpact.errors import DataError
from jobimpact.headers import column_key, column_positions, find_header

ROW = "row"
STRING = pd.StringDtype()
# Thousands separators as spreadsheets write them: 1,234 or 1,234,567.89.
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def text_sha256(text: str) -> str:
    """Hex sha256 of ``text`` encoded as UTF-8: the content address of a statement.

    Parameters
    ----------
    text
        The text exactly as released (no trimming or normalisation).

    Returns
    -------
    str
        64 lowercase hex digits.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_table(
    path: Path,
    *,
    required: Sequence[str],
    what: str,
    optional: Sequence[str] = (),
    delimiter: str = "\t",
    header_scan: int = 1,
    allow_empty: bool = False,
    keep_all: bool = False,
    missing: Collection[str] = (),
    nullable: Collection[str] = (),
) -> pd.DataFrame:
    """Read a delimited UTF-8 file into a frame of strings, checking its layout.

    Parameters
    ----------
    path
        The file.
    required
        Columns the header must have; missing ones raise.
    what
        What the file should be, for messages, e.g. ``"the O*NET 29.x text release"``.
    optional
        Columns read when present; absent ones come back as empty strings.
    delimiter
        Field separator (tab for O*NET, comma for CSV). Fields may be quoted as Excel does.
    header_scan
        How many leading rows may hold the header (workbooks start with a title block).
        Column names are matched as :mod:`jobimpact.headers` says (ignoring case), the same
        rule ``fetch`` checks files with.
    allow_empty
        Accept a header without data rows.
    keep_all
        Also keep every other column of the header, after the named ones.
    missing
        The publisher's documented markers of a missing value (O*NET writes ``n/a``),
        compared ignoring case and blanks.
    nullable
        Columns where the publisher allows a missing value: a ``missing`` marker there
        becomes an empty cell, read as NULL by the converters that accept empty cells.
        Elsewhere a marker stays text and is refused where a value is required.

    Returns
    -------
    pandas.DataFrame
        Columns ``required`` then ``optional``, named as given, every cell a ``str``
        (object dtype, never NaN); the index is the spreadsheet row number (``row``).
        Blank lines are skipped. ``attrs["file"]`` is the file name and ``attrs["header"]``
        the header's column names in order, blank ones named ``Unnamed: <position>``.

    Raises
    ------
    DataError
        When the file is missing, not UTF-8, unparsable, empty, lacks a required column, or
        has a row with more fields than the header.
    """
    text = _read_text(path, what)
    records = _records(path, text, what, delimiter)
    header_row, header = find_header(path, records[:header_scan], required, what)
    header = [cell or f"Unnamed: {pos}" for pos, cell in enumerate(header)]
    wanted = [*required, *optional]
    if keep_all:
        named = {column_key(name) for name in wanted}
        wanted += [c for c in dict.fromkeys(header) if column_key(c) not in named]
    positions = column_positions(header, wanted)
    rows, cells = _cells(path, records[header_row:], wanted, positions, len(header))
    if not rows and not allow_empty:
        raise DataError(path, f"got a header and no data rows, expected the rows of {what}")
    frame = pd.DataFrame(cells, index=pd.Index(rows, name=ROW), dtype=object)
    _blank_missing(frame, [name for name in wanted if name in set(nullable)], missing)
    frame.attrs["file"] = path.name
    frame.attrs["header"] = header
    return frame


def _cells(
    path: Path,
    records: Sequence[tuple[int, list[str]]],
    wanted: Sequence[str],
    positions: Mapping[str, int | None],
    width: int,
) -> tuple[list[int], dict[str, list[str]]]:
    """Row numbers and the wanted columns' cells of the non-blank records."""
    rows: list[int] = []
    cells: dict[str, list[str]] = {name: [] for name in wanted}
    for number, record in records:
        if not any(cell.strip() for cell in record):
            continue
        _check_width(path, number, record, width)
        rows.append(number)
        for name in wanted:
            pos = positions.get(name)
            cells[name].append(record[pos] if pos is not None and pos < len(record) else "")
    return rows, cells


def _blank_missing(frame: pd.DataFrame, columns: Sequence[str], missing: Collection[str]) -> None:
    """Empty the cells of ``columns`` that hold a missing-value marker, in place."""
    marks = {mark.strip().casefold() for mark in missing}
    for column in columns:
        marked = frame[column].str.strip().str.casefold().isin(marks)
        frame.loc[marked, column] = ""


def _read_text(path: Path, what: str) -> str:
    """The file decoded as UTF-8 (a byte-order mark is dropped); errors name the line."""
    if not path.is_file():
        raise DataError(path, f"got no such file in {path.parent}, expected {what}")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.end]
        raise DataError(
            path,
            f"got bytes that are not UTF-8 ({bad!r} at byte {exc.start}), expected UTF-8 text "
            f"of {what}",
            row=line,
        ) from None


def _records(path: Path, text: str, what: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Parsed records with their 1-based record number; a parse error names the record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[tuple[int, list[str]]] = []
    try:
        for record in reader:
            records.append((len(records) + 1, record))
    except csv.Error as exc:
        raise DataError(
            path, f"got unparsable text ({exc}), expected {what}", row=len(records) + 1
        ) from None
    return records


def _check_width(path: Path, number: int, record: list[str], width: int) -> None:
    """A row may not carry values beyond the header (it would shift into other columns)."""
    if len(record) > width and any(cell.strip() for cell in record[width:]):
        raise DataError(
            path,
            f"got {len(record)} fields, expected at most {width} (the header's columns)",
            row=number,
        )


# --- conversions ---------------------------------------------------------------------------


def cell(frame: pd.DataFrame, row: int, column: str) -> str:
    """The text of one cell of a frame from :func:`read_table`, trimmed."""
    return str(frame.at[row, column]).strip()


def _fail(frame: pd.DataFrame, row: int, field: str, message: str) -> DataError:
    """A DataError naming the frame's file, the row and the field."""
    return DataError(str(frame.attrs.get("file", "input")), message, row=row, field=field)


def to_string(frame: pd.DataFrame, column: str, *, empty_is_null: bool = True) -> pd.Series:
    """Column as pandas ``string`` dtype; empty cells become NULL unless ``empty_is_null=False``.

    Parameters
    ----------
    frame
        A frame from :func:`read_table`.
    column
        The column to convert.
    empty_is_null
        Map cells that are empty or only blanks to ``<NA>``.

    Returns
    -------
    pandas.Series
        The values, unchanged otherwise (no trimming).
    """
    values = frame[column].astype(STRING)
    if empty_is_null:
        values = values.mask(values.str.strip() == "")
    return values


def to_int(
    frame: pd.DataFrame,
    column: str,
    *,
    allow_empty: bool = False,
    allow_integral_float: bool = False,
) -> pd.Series:
    """Column as nullable ``Int64``, raising on the first cell that is not an integer.

    Parameters
    ----------
    frame
        A frame from :func:`read_table`.
    column
        The column to convert.
    allow_empty
        Empty cells become ``<NA>`` instead of raising.
    allow_integral_float
        Accept ``21280.0`` (a float holding an integer, as some releases write IDs).

    Returns
    -------
    pandas.Series
        ``Int64`` values on the frame's index.

    Raises
    ------
    DataError
        ``got '12a', expected an integer`` with the row and field.
    """
    text = frame[column].str.strip()
    pattern = r"[+-]?\d+(\.0*)?" if allow_integral_float else r"[+-]?\d+"
    ok = text.str.fullmatch(pattern) | ((text == "") & allow_empty)
    if not ok.all():
        row = int(ok.index[~ok.to_numpy()][0])
        expected = "an integer" + (" or an empty cell" if allow_empty else "")
        raise _fail(frame, row, column, f"got {frame.at[row, column]!r}, expected {expected}")
    integral = text.str.replace(r"\.0*$", "", regex=True)
    return pd.Series(
        [int(v) if v else pd.NA for v in integral], index=frame.index, dtype="Int64", name=column
    )


def to_float(
    frame: pd.DataFrame,
    column: str,
    *,
    allow_empty: bool = False,
    marks: Collection[str] = (),
    thousands: bool = False,
) -> tuple[pd.Series, pd.Series]:
    """Column as ``float64`` with NaN for empty or marked cells, and the mark of each cell.

    Parameters
    ----------
    frame
        A frame from :func:`read_table`.
    column
        The column to convert.
    allow_empty
        Empty cells become NaN instead of raising.
    marks
        Non-numeric codes a publisher uses for suppressed or top-coded values (e.g. BLS ``**``,
        ``#``): they become NaN, and the mark is returned beside the value.
    thousands
        Accept thousands separators (``1,234,560``), as in figures copied from workbooks.

    Returns
    -------
    tuple of pandas.Series
        The values (``float64``) and the marks (``string``, NULL where the cell was a number).

    Raises
    ------
    DataError
        On the first cell that is neither a finite number, nor a mark, nor (when allowed) empty.
    """
    text = frame[column].str.strip()
    if thousands:
        grouped = text.str.fullmatch(_THOUSANDS.pattern)
        text = text.where(~grouped, text.str.replace(",", "", regex=False))
    is_mark = text.isin(list(marks))
    is_empty = text == ""
    values = pd.to_numeric(text.where(~(is_mark | is_empty)), errors="coerce").astype("float64")
    ok = np.isfinite(values.to_numpy()) | is_mark.to_numpy() | (is_empty & allow_empty).to_numpy()
    if not ok.all():
        row = int(frame.index[~ok][0])
        raise _fail(
            frame, row, column, f"got {frame.at[row, column]!r}, expected {_number_words(marks)}"
        )
    mark = text.where(is_mark).astype(STRING)
    return values.rename(column), mark.rename(column)


def _number_words(marks: Collection[str]) -> str:
    """'a number' plus the accepted marks, for messages."""
    if not marks:
        return "a number"
    return "a number or one of the marks " + ", ".join(repr(m) for m in sorted(marks))


def to_whole(values: pd.Series, frame: pd.DataFrame, column: str) -> pd.Series:
    """Floats that must be whole numbers (counts) as ``Int64``; raises naming the row."""
    finite = values.dropna()
    fractional = finite[finite.map(lambda v: not math.isclose(v, round(v)))]
    if not fractional.empty:
        row = int(fractional.index[0])
        raise _fail(frame, row, column, f"got {frame.at[row, column]!r}, expected a whole number")
    return values.round().astype("Int64")


# --- checks --------------------------------------------------------------------------------


def check_pattern(frame: pd.DataFrame, column: str, pattern: str, *, expected: str) -> None:
    """Every cell of ``column`` must fully match ``pattern`` (after trimming blanks).

    Parameters
    ----------
    frame
        A frame from :func:`read_table`.
    column
        The column to check.
    pattern
        A regular expression the whole trimmed cell must match.
    expected
        What a valid cell looks like, for the message, e.g. ``"a code like 11-1011.00"``.

    Raises
    ------
    DataError
        On the first cell that does not match, naming its row and the column.
    """
    ok = frame[column].str.strip().str.fullmatch(pattern).to_numpy(dtype=bool)
    if not ok.all():
        row = int(frame.index[~ok][0])
        raise _fail(frame, row, column, f"got {frame.at[row, column]!r}, expected {expected}")


def check_not_empty(frame: pd.DataFrame, column: str, *, expected: str) -> None:
    """Every cell of ``column`` must hold text; raises naming the first empty one."""
    empty = (frame[column].str.strip() == "").to_numpy(dtype=bool)
    if empty.any():
        row = int(frame.index[empty][0])
        raise _fail(frame, row, column, f"got an empty cell, expected {expected}")


def check_in(frame: pd.DataFrame, column: str, allowed: Collection[str], *, expected: str) -> None:
    """Every cell of ``column`` must be one of ``allowed``; raises naming the first other one."""
    bad = ~frame[column].isin(list(allowed)).to_numpy(dtype=bool)
    if bad.any():
        row = int(frame.index[bad][0])
        raise _fail(frame, row, column, f"got {frame.at[row, column]!r}, expected {expected}")


def check_unique(frame: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    """No two rows may share the values of ``columns``; the message names both rows.

    Parameters
    ----------
    frame
        A frame from :func:`read_table`.
    columns
        The key columns.
    what
        What must be unique, for the message, e.g. ``"(O*NET-SOC Code, Task ID) pair"``.

    Raises
    ------
    DataError
        ``row 9: got O*NET-SOC Code '11-1011.00', Task ID '8823' again (first at row 3),
        expected each (O*NET-SOC Code, Task ID) pair once``.
    """
    keys = frame[list(columns)].apply(lambda col: col.str.strip())
    repeated = keys.duplicated(keep="first").to_numpy(dtype=bool)
    if not repeated.any():
        return
    row = int(frame.index[repeated][0])
    same = (keys == keys.loc[row]).all(axis=1).to_numpy(dtype=bool)
    first = int(frame.index[same][0])
    values = ", ".join(f"{name} {keys.at[row, name]!r}" for name in columns)
    field = columns[0] if len(columns) == 1 else None
    raise DataError(
        str(frame.attrs.get("file", "input")),
        f"got {values} again (first at row {first}), expected each {what} once",
        row=row,
        field=field,
    )


def check_known(
    frame: pd.DataFrame,
    column: str,
    known: Collection[object],
    *,
    reference: str,
    values: pd.Series | None = None,
) -> None:
    """Every cell of ``column`` must be a code listed in another file.

    Parameters
    ----------
    frame
        A frame from :func:`read_table`.
    column
        The column holding references.
    known
        The codes the other file lists.
    reference
        Where they are listed, for the message, e.g. ``"Occupation Data.txt"``.
    values
        The column already converted (e.g. integer IDs), compared instead of its trimmed text.

    Raises
    ------
    DataError
        ``got '11-9999.00', expected a code listed in Occupation Data.txt`` naming the row.
    """
    compared = frame[column].str.strip() if values is None else values
    bad = ~compared.isin(list(known)).to_numpy(dtype=bool)
    if bad.any():
        row = int(frame.index[bad][0])
        raise _fail(
            frame,
            row,
            column,
            f"got {cell(frame, row, column)!r}, expected a code listed in {reference}",
        )


def finish(columns: Mapping[str, pd.Series]) -> pd.DataFrame:
    """A table from named series, with a plain 0..n-1 index (the row numbers are dropped)."""
    frame = pd.DataFrame(dict(columns))
    return frame.reset_index(drop=True)
