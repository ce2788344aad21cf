"""Turn official downloads into the mirror's layout: zip members out, workbooks to CSV."""

from __future__ import annotations

import csv
import shutil
import uuid
import zipfile
from collections.abc import Sequence
from datetime import date, time
from pathlib import Path

from jobimpact.errors import FetchError


def extract_member(
    archive: Path,
    member: str,
    *,
    optional: bool,
    url: str,
    what: str,
    folder: Path | None = None,
) -> Path | None:
    """Extract one member of a zip archive into ``folder`` (the archive's folder by default).

    Parameters
    ----------
    archive
        The downloaded zip file.
    member
        Path of the member inside the archive.
    optional
        Return None instead of failing when the archive has no such member.
    url, what
        Where the archive came from and what the member should be, for error messages.
    folder
        Where to write the member; a hand-downloaded archive's own folder is left alone.

    Returns
    -------
    Path or None
        The extracted file, or None for a missing optional member.

    Raises
    ------
    FetchError
        When the archive is damaged or not a zip, or lacks a required member.
    """
    target = (folder or archive.parent) / f"{uuid.uuid4().hex[:8]}-{Path(member).name}"
    try:
        with zipfile.ZipFile(archive) as zf:
            if member not in zf.namelist():
                if optional:
                    return None
                raise FetchError(f"got no member {member!r} in {url}, expected {what}")
            with zf.open(member) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise FetchError(
            f"got a damaged or non-zip file from {url} ({exc}), expected {what}"
        ) from None
    return target


def xlsx_to_csv(workbook: Path, target: Path, *, what: str, sheet: str | None = None) -> None:
    """Write the first sheet (or ``sheet``) of ``workbook`` as UTF-8 CSV laid out like the
    data mirror.

    Rows are written as they are, padded to the widest row; blank cells of the first row are
    named ``Unnamed: <i>`` as the mirror's conversion did, so both read the same way.

    Parameters
    ----------
    workbook
        The ``.xlsx`` file.
    target
        The CSV file to write.
    what
        What the workbook should be, for error messages.
    sheet
        Name of the worksheet to convert; the first one when None.

    Raises
    ------
    FetchError
        When openpyxl is not installed, the file is not a readable workbook, or it has no
        sheet of that name.
    """
    try:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError:
        raise FetchError(
            f"got no openpyxl installed, expected it to convert the workbook of {what} "
            "(pip install openpyxl)"
        ) from None
    try:
        book = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
        try:
            if sheet is not None and sheet not in book.sheetnames:
                found = ", ".join(repr(name) for name in book.sheetnames)
                raise FetchError(
                    f"got a workbook without the sheet {sheet!r} (sheets: {found}), expected {what}"
                )
            chosen = book[sheet] if sheet is not None else book.worksheets[0]
            rows = [_csv_cells(row) for row in chosen.iter_rows(values_only=True)]
        finally:
            book.close()
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        IndexError,
    ) as exc:
        raise FetchError(f"got an unreadable workbook ({exc}), expected {what}") from None
    _write_csv(rows, target)


def _csv_cells(row: Sequence[object]) -> list[str]:
    """Cell values as CSV text: empty for blanks, ISO for dates, as-is otherwise."""
    cells = []
    for value in row:
        if value is None:
            cells.append("")
        elif isinstance(value, date | time):
            cells.append(value.isoformat())
        else:
            cells.append(str(value))
    return cells


def _write_csv(rows: list[list[str]], target: Path) -> None:
    """Write rows padded to a common width, naming blank header cells like pandas does."""
    width = max((_used_width(row) for row in rows), default=0)
    padded = [(row + [""] * width)[:width] for row in rows]
    if padded:
        padded[0] = [cell or f"Unnamed: {i}" for i, cell in enumerate(padded[0])]
    with target.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(padded)


def _used_width(row: list[str]) -> int:
    """Index after the last non-empty cell."""
    return max((i + 1 for i, cell in enumerate(row) if cell), default=0)
