"""Output files written whole or not at all.

Every file jobimpact writes for a user (reports, exports, heads) goes to a temporary file
beside its destination and is renamed into place once complete, so a full disk or a crash
never leaves half a file where a good one was. A failed write is an
:class:`~jobimpact.errors.OutputError` naming the path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from jobimpact.errors import OutputError

__all__ = ["write_atomic", "write_with"]


def write_with(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer`` on a temporary path beside ``path``, then rename it into place.

    Parameters
    ----------
    path : destination; its folder is created when missing
    writer : callable
        Writes the complete file at the path it is given.

    Raises
    ------
    OutputError
        When the folder cannot be made or the file cannot be written (disk full, no
        permission); the destination keeps its previous content and no temporary is left.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as error:
        raise OutputError(f"{target}: cannot write ({error.strerror or error})") from error
    temporary = Path(name)
    try:
        writer(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; a report is not
        os.replace(temporary, target)
    except OSError as error:
        raise OutputError(f"{target}: cannot write ({error.strerror or error})") from error
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _umask() -> int:
    """The process's file-creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (see :func:`write_with`)."""

    def write(temporary: Path) -> None:
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    return write_with(path, write)
