"""Download public sources into ``data/raw/<source>/<version>/``, verified, with a manifest.

Each source version is assembled in a hidden staging folder beside its final place and
moved there only once every file verified, so a failed fetch leaves nothing half-written
and keeps an earlier good copy untouched.

Some sites refuse programs (bls.gov answers 403 to clients without a browser's headers).
A file downloaded by hand and saved as ``<data_dir>/downloads/<source>/<version>/<name>``,
``<name>`` being what its official URL ends in (:func:`hand_download_path`), is used
instead of downloading it and checked exactly like a download; a failed official download
says where to put it.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import quote, urlsplit

import httpx

from jobimpact import __version__
from jobimpact.errors import ConfigError, FetchError, JobImpactError
from jobimpact.sources.base import FileSpec, Source, raw_dir
from jobimpact.sources.checks import check_file, sha256_file
from jobimpact.sources.convert import extract_member, xlsx_to_csv
from jobimpact.sources.manifest import (
    MANIFEST,
    Manifest,
    ManifestFile,
    check_folder,
    write_manifest,
)
from jobimpact.sources.registry import SOURCES, get_source
from jobimpact.sources.transport import download, new_client

log = logging.getLogger(__name__)

_DOWNLOADS = ".downloads"
HAND_DOWNLOADS = "downloads"


@dataclass
class _Job:
    """One source version being staged."""

    source: Source
    version: str
    staging: Path
    http: httpx.Client
    progress: bool
    data_dir: Path
    # Official archives downloaded (or found downloaded by hand) so far, by URL: one zip
    # serves many files.
    archives: dict[str, Path] = field(default_factory=dict)
    # Files downloaded by hand that this fetch used.
    by_hand: list[Path] = field(default_factory=list)

    def what(self, spec: FileSpec) -> str:
        """How messages name the file: ``the file X of source Y Z``."""
        return f"the file {spec.name} of source {self.source.name} {self.version}"

    def label(self, name: str) -> str:
        """Progress-bar label of a download."""
        return f"{self.source.name} {self.version} {name}"

    def scratch(self) -> Path:
        """The staging folder's download area, created on first use."""
        folder = self.staging / _DOWNLOADS
        folder.mkdir(exist_ok=True)
        return folder


def hand_download_path(data_dir: Path, source: str, version: str, url: str) -> Path:
    """Where ``fetch`` looks for the file at official ``url`` downloaded by hand.

    Parameters
    ----------
    data_dir
        The data folder.
    source, version
        The source name and version, e.g. ``"oews"``, ``"M2024"``.
    url
        The official URL, e.g. ``https://www.bls.gov/oes/special-requests/oesm24nat.zip``.

    Returns
    -------
    Path
        ``<data_dir>/downloads/<source>/<version>/<last part of the URL's path>``, e.g.
        ``data/downloads/oews/M2024/oesm24nat.zip``.
    """
    name = PurePosixPath(urlsplit(url).path).name
    return data_dir / HAND_DOWNLOADS / source / version / name


class _Origin(Protocol):
    """Where files come from: the official URLs, a mirror folder or a mirror URL."""

    def describe(self, job: _Job) -> str:
        """The origin recorded in the manifest."""
        ...

    def get(self, job: _Job, spec: FileSpec, target: Path) -> str | None:
        """Write ``spec`` to ``target``; return its URL or path, or None for a missing optional."""
        ...


def fetch(
    sources: Sequence[str] | None = None,
    *,
    data_dir: Path,
    mirror: str | Path | None = None,
    versions: Mapping[str, str] | None = None,
    force: bool = False,
    progress: bool = True,
    client: httpx.Client | None = None,
) -> list[Manifest]:
    """Download, verify and record public sources under ``<data_dir>/raw/``.

    Parameters
    ----------
    sources
        Source names (keys of ``SOURCES``); all of them when None.
    data_dir
        The data folder; each source version goes to ``<data_dir>/raw/<source>/<version>/``.
    mirror
        A folder or an http(s) base URL laid out like the shared data mirror; the official
        URLs when None.
    versions
        Version per source name; each source's default version otherwise.
    force
        Fetch again even when an intact copy is already there.
    progress
        Show a progress bar per download (only when stderr is a terminal).
    client
        httpx client to use, e.g. with a User-Agent naming a contact; a new one otherwise.

    Returns
    -------
    list of Manifest
        One manifest per source, in the order fetched (skipped sources included).

    Raises
    ------
    ConfigError
        For an unknown source name, a malformed version or a mirror folder that is missing.
    FetchError
        When a download fails, a file is missing or a pinned sha256 differs.
    DataError
        When a file lacks a required column or cannot be parsed.
    """
    versions = dict(versions or {})
    for name in versions:
        get_source(name)
    # Resolve every name, version and file list before any I/O, so a typo fails fast.
    plan = []
    for name in dict.fromkeys(sources or SOURCES):
        source = get_source(name)
        version = versions.get(name, source.default_version)
        plan.append((source, version, source.files(version)))
    origin = _origin(mirror)
    with _client(client) as http:
        return [
            _fetch_source(
                source,
                version,
                specs,
                data_dir=data_dir,
                origin=origin,
                http=http,
                force=force,
                progress=progress,
            )
            for source, version, specs in plan
        ]


def _origin(mirror: str | Path | None) -> _Origin:
    """Pick the origin for a ``mirror`` argument."""
    if mirror is None:
        return _Official()
    text = str(mirror)
    if text.startswith(("http://", "https://")):
        return _HttpMirror(text.rstrip("/"))
    root = Path(mirror)
    if not root.is_dir():
        raise ConfigError(
            f"mirror: got {text!r}, expected a folder or an http(s) URL "
            "laid out like the data mirror"
        )
    return _LocalMirror(root.resolve())


@contextmanager
def _client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    """Yield the caller's client, or a new one closed afterwards."""
    if client is not None:
        yield client
        return
    with new_client() as own:
        yield own


def _fetch_source(
    source: Source,
    version: str,
    specs: Sequence[FileSpec],
    *,
    data_dir: Path,
    origin: _Origin,
    http: httpx.Client,
    force: bool,
    progress: bool,
) -> Manifest:
    """Fetch one source version unless an intact copy is there; swap it in when verified."""
    dest = raw_dir(data_dir, source.name, version)
    if not force and (kept := _intact(dest, specs)) is not None:
        log.info("%s %s: already fetched and intact, skipped", source.name, version)
        return kept
    dest.parent.mkdir(parents=True, exist_ok=True)
    # mkdir rather than mkdtemp: the folder keeps the umask's permissions once moved in place.
    staging = dest.with_name(f".{version}.partial-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    try:
        job = _Job(source, version, staging, http, progress, data_dir)
        manifest = _stage(job, specs, origin)
        _swap_in(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info(
        "%s %s: fetched %d files from %s",
        source.name,
        version,
        len(manifest.files),
        manifest.origin,
    )
    return manifest


def _intact(dest: Path, specs: Sequence[FileSpec]) -> Manifest | None:
    """The manifest of an earlier fetch whose required files are all there unchanged, else None."""
    if not (dest / MANIFEST).is_file():
        return None
    try:
        manifest = check_folder(dest)
    except JobImpactError:
        return None
    listed = {item.name for item in manifest.files}
    required = {spec.name for spec in specs if not spec.optional}
    return manifest if required <= listed else None


def _stage(job: _Job, specs: Sequence[FileSpec], origin: _Origin) -> Manifest:
    """Fetch and check every file into the staging folder, then write the manifest there."""
    files = [item for spec in specs if (item := _stage_file(job, spec, origin)) is not None]
    shutil.rmtree(job.staging / _DOWNLOADS, ignore_errors=True)
    manifest = Manifest(
        source=job.source.name,
        version=job.version,
        origin=origin.describe(job),
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        jobimpact_version=__version__,
        files=tuple(files),
    )
    write_manifest(job.staging, manifest)
    return manifest


def _stage_file(job: _Job, spec: FileSpec, origin: _Origin) -> ManifestFile | None:
    """Fetch one file to a temporary name, check it, then rename it to its own name."""
    part = job.staging / f".{spec.name}.part"
    where = origin.get(job, spec, part)
    if where is None:
        log.info("%s %s: optional %s not found, skipped", job.source.name, job.version, spec.name)
        return None
    digest = sha256_file(part)
    n_rows = check_file(part, spec, job.source, job.version, sha256=digest)
    final = job.staging / spec.name
    os.replace(part, final)
    return ManifestFile(spec.name, where, digest, final.stat().st_size, n_rows)


def _swap_in(staging: Path, dest: Path) -> None:
    """Move the staged folder to ``dest``, replacing an earlier copy only once this succeeds."""
    if not dest.exists():
        staging.rename(dest)
        return
    old = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
    dest.rename(old)
    try:
        staging.rename(dest)
    except OSError:
        old.rename(dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


class _LocalMirror:
    """A folder laid out like the shared data mirror."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self, job: _Job) -> str:
        """The mirror folder."""
        return str(self.root)

    def get(self, job: _Job, spec: FileSpec, target: Path) -> str | None:
        """Copy the file from the mirror."""
        path = self.root / spec.mirror_path
        if not path.is_file():
            if spec.optional:
                return None
            raise FetchError(f"got no file {path}, expected {job.what(spec)} in mirror {self.root}")
        if spec.mirror_workbook:
            xlsx_to_csv(path, target, what=job.what(spec), sheet=spec.sheet)
        else:
            shutil.copyfile(path, target)
        return str(path)


class _HttpMirror:
    """An http(s) server laid out like the shared data mirror."""

    def __init__(self, base: str) -> None:
        self.base = base

    def describe(self, job: _Job) -> str:
        """The mirror's base URL."""
        return self.base

    def get(self, job: _Job, spec: FileSpec, target: Path) -> str | None:
        """Download the file at the mirror's base URL plus its quoted relative path."""
        url = f"{self.base}/{quote(spec.mirror_path)}"
        if not spec.mirror_workbook:
            return _download_file(job, spec, url, target)
        workbook = target.with_name(f"{target.name}.xlsx")
        try:
            if _download_file(job, spec, url, workbook) is None:
                return None
            xlsx_to_csv(workbook, target, what=job.what(spec), sheet=spec.sheet)
        finally:
            workbook.unlink(missing_ok=True)
        return url


class _Official:
    """The publishers' own URLs: plain files, zip archives and xlsx workbooks, or the same
    files downloaded by hand into the data folder (see :func:`hand_download_path`)."""

    def describe(self, job: _Job) -> str:
        """The source's official URL for this version, and the files downloaded by hand."""
        url = job.source.url(job.version)
        if not job.by_hand:
            return url
        return f"{url} (downloaded by hand: {', '.join(str(p) for p in job.by_hand)})"

    def get(self, job: _Job, spec: FileSpec, target: Path) -> str | None:
        """Download (or take the hand-downloaded file), then extract the member and convert
        the workbook the spec names."""
        url = job.source.official_url(job.version, spec)
        what = job.what(spec)
        if spec.member is None and not spec.xlsx:
            placed = _by_hand(job, url)
            if placed is not None:
                shutil.copyfile(placed, target)
                return str(placed)
            with _way_out(job, url):
                return _download_file(job, spec, url, target)
        fetched, where = _archive(job, url, what=what)
        if spec.member is not None:
            member = extract_member(
                fetched,
                spec.member,
                optional=spec.optional,
                url=where,
                what=what,
                folder=job.scratch(),
            )
            if member is None:
                return None
            fetched, where = member, f"{where}#{spec.member}"
        if spec.xlsx:
            xlsx_to_csv(fetched, target, what=what, sheet=spec.sheet)
        else:
            os.replace(fetched, target)
        return where


def _by_hand(job: _Job, url: str) -> Path | None:
    """The file at ``url`` downloaded by hand into the data folder, when it is there."""
    placed = hand_download_path(job.data_dir, job.source.name, job.version, url)
    if not placed.is_file():
        return None
    log.info(
        "%s %s: using %s (downloaded by hand) for %s", job.source.name, job.version, placed, url
    )
    if placed not in job.by_hand:
        job.by_hand.append(placed)
    return placed


@contextmanager
def _way_out(job: _Job, url: str) -> Iterator[None]:
    """Say how to go on when an official download fails: by hand, or from a mirror."""
    try:
        yield
    except FetchError as exc:
        placed = hand_download_path(job.data_dir, job.source.name, job.version, url)
        raise FetchError(
            f"{exc}; to go on, download {url} in a web browser and save it as {placed} "
            "(fetch checks and uses it), then run `jobimpact fetch` again; or fetch from a "
            "copy laid out like the data mirror with `jobimpact fetch --mirror DIR|URL`"
        ) from None


def _download_file(job: _Job, spec: FileSpec, url: str, target: Path) -> str | None:
    """Download one file of ``spec``; None when it is optional and the server has none."""
    found = download(
        job.http,
        url,
        target,
        what=job.what(spec),
        label=job.label(spec.name),
        progress=job.progress,
        missing_ok=spec.optional,
    )
    return url if found else None


def _archive(job: _Job, url: str, *, what: str) -> tuple[Path, str]:
    """The official archive or workbook at ``url``, downloaded once per job into the staging
    folder's download area, or the copy downloaded by hand: (its path, where it came from)."""
    if url not in job.archives:
        placed = _by_hand(job, url)
        if placed is not None:
            job.archives[url] = placed
        else:
            name = PurePosixPath(urlsplit(url).path).name
            path = job.scratch() / f"{len(job.archives)}-{name}"
            with _way_out(job, url):
                download(
                    job.http, url, path, what=what, label=job.label(name), progress=job.progress
                )
            job.archives[url] = path
    path = job.archives[url]
    return path, (str(path) if path in job.by_hand else url)
