"""What a public source is: its files, where each comes from, and what each must contain.

A :class:`Source` is data. Each module beside this one defines one ``SOURCE``; the code that
downloads, copies, checks and records files (``fetch.py``, ``checks.py``, ``manifest.py``) is
shared by all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urljoin

from jobimpact.errors import ConfigError


@dataclass(frozen=True)
class FileSpec:
    """One file of a source, as stored locally and as found in the mirror and the release.

    Parameters
    ----------
    name
        File name stored under ``data/raw/<source>/<version>/``; the same as the mirror's,
        except that a workbook is stored as CSV under a ``.csv`` name.
    mirror_path
        Path of the file relative to the root of a mirror laid out like ``shared/data``;
        a path ending in ``.xlsx`` (for a ``.csv`` name) is a workbook converted to CSV.
    columns
        Columns the header must contain; empty for a file that is not a table.
    optional
        When true, a file the origin does not have is skipped instead of failing the fetch.
    url_path
        Path relative to the source's official URL; empty when the URL itself is the file.
    member
        Member to extract when the official download is a zip archive.
    xlsx
        The official file is a workbook whose first sheet (or ``sheet``) is converted to CSV.
    header_scan
        How many leading rows may hold the header (a workbook may start with a title block).
    sheet
        The worksheet to convert, by name; the first one when None.
    """

    name: str
    mirror_path: str
    columns: tuple[str, ...] = ()
    optional: bool = False
    url_path: str = ""
    member: str | None = None
    xlsx: bool = False
    header_scan: int = 1
    sheet: str | None = None

    @property
    def mirror_workbook(self) -> bool:
        """The mirror holds this file as a workbook, to convert like the official one."""
        return self.mirror_path.endswith(".xlsx") and not self.name.endswith(".xlsx")

    @property
    def delimiter(self) -> str:
        """Field separator: tab for ``.txt`` and ``.tsv`` files, comma otherwise."""
        return "\t" if self.name.endswith((".txt", ".tsv")) else ","


@dataclass(frozen=True)
class Source:
    """A public data source that ``fetch`` knows how to download and verify.

    Parameters
    ----------
    name
        Registry name, also the folder under ``data/raw/``.
    default_version
        Version fetched when the caller names none.
    title
        Human-readable name used in messages, e.g. ``"the O*NET text release"``.
    url
        Maps a version to the official URL (a file, an archive, or a base for ``url_path``).
    files
        Maps a version to the files of that version.
    checksums
        Optional expected sha256 per version and file name, checked on the stored file.
    """

    name: str
    default_version: str
    title: str
    url: Callable[[str], str]
    files: Callable[[str], tuple[FileSpec, ...]]
    checksums: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))

    def official_url(self, version: str, spec: FileSpec) -> str:
        """Return the official URL that holds ``spec`` in ``version``.

        Parameters
        ----------
        version
            Source version, e.g. ``"29.3"``.
        spec
            One of ``self.files(version)``.

        Returns
        -------
        str
            The URL to download (an archive when ``spec.member`` is set).
        """
        base = self.url(version)
        return urljoin(base, spec.url_path) if spec.url_path else base

    def expected_sha256(self, version: str, name: str) -> str | None:
        """Return the pinned sha256 of file ``name`` in ``version``, or None when none is pinned."""
        return self.checksums.get(version, {}).get(name)


def check_version(source: str, version: str, pattern: str, example: str) -> re.Match[str]:
    """Match ``version`` against ``pattern`` or raise a ConfigError with an example."""
    found = re.fullmatch(pattern, version)
    if found is None:
        raise ConfigError(
            f"source {source}: got version {version!r}, expected a version like {example!r}"
        )
    return found


def raw_dir(data_dir: Path, source: str, version: str) -> Path:
    """Where a fetched source lives: ``<data_dir>/raw/<source>/<version>/``."""
    return data_dir / "raw" / source / version
