"""The manifest written beside each fetched source version, and checks against it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jobimpact.errors import DataError, FetchError
from jobimpact.sources.base import raw_dir
from jobimpact.sources.checks import sha256_file
from jobimpact.sources.registry import get_source

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ManifestFile:
    """One fetched file: where it came from, its digest, size and data-row count."""

    name: str
    url_or_path: str
    sha256: str
    bytes: int
    n_rows: int | None


@dataclass(frozen=True)
class Manifest:
    """What one ``fetch`` of a source version stored, and from where.

    Attributes
    ----------
    source, version
        The source name and version fetched.
    origin
        The official URL or the mirror (folder or URL) the files came from.
    fetched_at
        UTC time of the fetch, ISO 8601.
    jobimpact_version
        Version of jobimpact that fetched the files.
    files
        One entry per stored file.
    """

    source: str
    version: str
    origin: str
    fetched_at: str
    jobimpact_version: str
    files: tuple[ManifestFile, ...]

    def to_json(self) -> str:
        """Serialise to indented JSON."""
        return json.dumps(asdict(self), indent=2) + "\n"


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` into ``folder`` and return its path."""
    path = folder / MANIFEST
    path.write_text(manifest.to_json(), encoding="utf-8")
    return path


def read_manifest(path: Path) -> Manifest:
    """Read a manifest written by ``fetch``.

    Parameters
    ----------
    path
        The ``manifest.json`` file, or the source version folder that holds it.

    Returns
    -------
    Manifest
        The parsed manifest.

    Raises
    ------
    FetchError
        When there is no manifest (the source was not fetched).
    DataError
        When the manifest is not valid JSON of the expected shape.
    """
    if path.suffix != ".json":
        path = path / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FetchError(
            f"got no manifest at {path}, expected a fetched source (run `jobimpact fetch`)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(path, f"got unreadable JSON ({exc}), expected a fetch manifest") from None
    try:
        return _from_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(
            path, f"got a malformed manifest ({exc!r}), expected the keys fetch writes"
        ) from None


def _from_dict(raw: dict[str, Any]) -> Manifest:
    """Build a Manifest from parsed JSON; missing keys raise KeyError."""
    files = tuple(
        ManifestFile(
            name=str(item["name"]),
            url_or_path=str(item["url_or_path"]),
            sha256=str(item["sha256"]),
            bytes=int(item["bytes"]),
            n_rows=None if item["n_rows"] is None else int(item["n_rows"]),
        )
        for item in raw["files"]
    )
    return Manifest(
        source=str(raw["source"]),
        version=str(raw["version"]),
        origin=str(raw["origin"]),
        fetched_at=str(raw["fetched_at"]),
        jobimpact_version=str(raw["jobimpact_version"]),
        files=files,
    )


def check_folder(folder: Path) -> Manifest:
    """Recheck every file listed in ``folder``'s manifest; raise FetchError on any change."""
    manifest = read_manifest(folder)
    for item in manifest.files:
        path = folder / item.name
        if not path.is_file():
            raise FetchError(
                f"{item.name}: got no file at {path}, expected the file listed in its manifest "
                "(run `jobimpact fetch --force`)"
            )
        actual = sha256_file(path)
        if actual != item.sha256:
            raise FetchError(
                f"{item.name}: got sha256 {actual}, expected {item.sha256} from its manifest; "
                "the file changed since it was fetched (run `jobimpact fetch --force`)"
            )
    return manifest


def verify(source: str, version: str | None = None, *, data_dir: Path) -> Manifest:
    """Recheck the sha256 of a fetched source's files against its manifest.

    Parameters
    ----------
    source
        Source name, e.g. ``"onet"``.
    version
        Source version; the source's default when None.
    data_dir
        The data folder; files live in ``<data_dir>/raw/<source>/<version>/``.

    Returns
    -------
    Manifest
        The manifest, once every file matched it.

    Raises
    ------
    ConfigError
        When the source name is unknown.
    FetchError
        When the manifest or a file is missing, or a file's sha256 changed.
    """
    spec = get_source(source)
    return check_folder(raw_dir(data_dir, spec.name, version or spec.default_version))
