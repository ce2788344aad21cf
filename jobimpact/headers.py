"""How the header of a delimited file is found and its columns matched: one rule for all.

``fetch`` checks a downloaded file's columns and ``ingest`` reads them; both go through
:func:`find_header`, so a file one accepts the other reads. Column names are compared
ignoring case and surrounding blanks: publishers change the case of a header between
vintages (OEWS wrote ``occ_code`` in some years, ``OCC_CODE`` in others) without changing
what the column holds. Kept free of pandas so that ``fetch`` stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from jobimpact.errors import DataError

__all__ = ["column_key", "column_positions", "find_header", "missing_columns"]


def column_key(name: str) -> str:
    """A column name as compared: trimmed and case-folded."""
    return name.strip().casefold()


def missing_columns(header: Sequence[str], required: Sequence[str]) -> list[str]:
    """The required columns that ``header`` lacks, in the order required."""
    have = {column_key(cell) for cell in header}
    return [name for name in required if column_key(name) not in have]


def column_positions(header: Sequence[str], wanted: Sequence[str]) -> dict[str, int]:
    """Position of each wanted column in ``header`` (the first one when a name repeats)."""
    index: dict[str, int] = {}
    for pos, cell in enumerate(header):
        index.setdefault(column_key(cell), pos)
    return {name: index[key] for name in wanted if (key := column_key(name)) in index}


def find_header(
    file: str | Path,
    candidates: Sequence[tuple[int, Sequence[str]]],
    required: Sequence[str],
    what: str,
) -> tuple[int, list[str]]:
    """The first candidate row that holds every required column.

    Parameters
    ----------
    file
        The file, for messages.
    candidates
        ``(row number, cells)`` of the rows that may hold the header, in file order.
    required
        Columns the header must have.
    what
        What the file should be, e.g. ``"the O*NET text release 29.3"``.

    Returns
    -------
    tuple
        The header's row number and its cells, trimmed.

    Raises
    ------
    DataError
        ``got an empty file`` when there is no candidate, else ``missing column 'X'
        (found: ...)`` reported on the candidate closest to the header.
    """
    if not candidates:
        raise DataError(file, f"got an empty file, expected a header row and data of {what}")
    headers = [(number, [cell.strip() for cell in cells]) for number, cells in candidates]
    for number, header in headers:
        if not missing_columns(header, required):
            return number, header
    # The row closest to the expected header is most likely the header: report on it.
    best = min((h for _, h in headers), key=lambda h: len(missing_columns(h, required)))
    missing = missing_columns(best, required)
    plural = "s" if len(missing) > 1 else ""
    found = ", ".join(repr(cell) for cell in best if cell) or "nothing"
    listed = ", ".join(repr(name) for name in missing)
    raise DataError(file, f"missing column{plural} {listed} (found: {found}); expected {what}")
