"""Checks on a fetched file: digest, header columns, row count."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Generator
from contextlib import closing
from pathlib import Path

from jobimpact.errors import DataError, FetchError
from jobimpact.headers import find_header
from jobimpact.sources.base import FileSpec, Source

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(
    path: Path, spec: FileSpec, source: Source, version: str, *, sha256: str
) -> int | None:
    """Check a fetched file (whose digest is ``sha256``) against its spec; return its row count.

    Raises FetchError when the digest differs from the one pinned for the source, DataError
    when the file is not UTF-8, cannot be parsed or lacks a required column. Files that are
    not tables (no required columns) have no row count.
    """
    expected = source.expected_sha256(version, spec.name)
    if expected is not None and sha256 != expected:
        raise FetchError(
            f"{spec.name}: got sha256 {sha256}, expected {expected} "
            f"as pinned for source {source.name} {version}"
        )
    if not spec.columns:
        return None
    what = f"{source.title} {version}"
    try:
        return _count_rows(path, spec, what)
    except UnicodeDecodeError as exc:
        raise DataError(
            spec.name, f"got bytes that are not UTF-8 ({exc.reason}), expected UTF-8 text of {what}"
        ) from None


def _rows(path: Path, spec: FileSpec, what: str) -> Generator[list[str]]:
    """Rows of a delimited file; a parse error becomes a DataError naming the line."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=spec.delimiter)
        try:
            yield from reader
        except csv.Error as exc:
            raise DataError(
                spec.name, f"got unparsable text ({exc}), expected {what}", row=reader.line_num
            ) from None


def _count_rows(path: Path, spec: FileSpec, what: str) -> int:
    """Find the header among the first ``spec.header_scan`` rows, then count the rows after it.

    The header is found by :func:`jobimpact.headers.find_header`, the rule ingest reads
    the file with, so fetch never refuses a file that ingest would read.
    """
    with closing(_rows(path, spec, what)) as rows:
        candidates = [
            (number, row) for number, row in zip(range(1, spec.header_scan + 1), rows, strict=False)
        ]
        header_row, _ = find_header(spec.name, candidates, spec.columns, what)
        n_rows = len(candidates) - header_row + sum(1 for _ in rows)
    if n_rows == 0:
        raise DataError(spec.name, f"got a header and no data rows, expected {what}")
    return n_rows
