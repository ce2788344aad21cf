"""Large files checked against their sha256 once, and trusted after only while unchanged.

Hashing a model of hundreds of megabytes on every load costs seconds, so the first check
records a stamp beside the file (``<file>.stamp.json``): the hash with the file's size,
modification and change times (nanoseconds), inode and device. A later check trusts the
stamp only while all of these are the same. Any write to the file, even in place and at
the same size, and even with its modification time set back, changes its change time
(``st_ctime_ns``), which no program can set: the file is then hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["sha256_of", "stamp_path", "verified", "write_stamp"]

_CHUNK = 1 << 22


def stamp_path(path: Path) -> Path:
    """Where the stamp of ``path`` is kept."""
    return path.with_name(path.name + ".stamp.json")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _identity(stat: os.stat_result, sha256: str) -> dict[str, Any]:
    """What the stamp records: the hash, and what any change to the file changes."""
    return {
        "sha256": sha256,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "inode": stat.st_ino,
        "device": stat.st_dev,
    }


def _read_stamp(path: Path) -> Any:
    try:
        return json.loads(stamp_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_stamp(path: Path, sha256: str) -> None:
    """Record that ``path``, as it is now, has this sha256 (the caller has checked it)."""
    stamp = stamp_path(path)
    temporary = stamp.with_name(stamp.name + ".tmp")
    temporary.write_text(json.dumps(_identity(path.stat(), sha256)), encoding="utf-8")
    os.replace(temporary, stamp)


def verified(path: Path, sha256: str) -> bool:
    """Whether ``path`` holds content with this sha256 (hex).

    Trusts the file's stamp while the file is unchanged; otherwise hashes it, and stamps
    it when it matches. A missing file is not verified.
    """
    try:
        before = path.stat()
    except OSError:
        return False
    if _read_stamp(path) == _identity(before, sha256):
        return True
    if sha256_of(path) != sha256:
        return False
    # Stamp only what was hashed: a file that changed while being read is checked again.
    if _identity(path.stat(), sha256) == _identity(before, sha256):
        write_stamp(path, sha256)
    return True
