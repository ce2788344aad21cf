"""Output files written whole or not at all.

Every file jobimpact writes for a user (reports, exports, heads) goes to a temporary file
beside its destination and is renamed into place once complete, so a full disk or a crash
never leaves half a file where a good one was. A failed write is an
:class:`~jobimpact.errors.OutputError` naming the path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from jobimpact.errors import OutputError

__all__ = ["bytes_writer", "write_atomic", "write_together", "write_with"]


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
    return write_together({Path(path): writer})[0]


def write_together(writers: Mapping[Path, Callable[[Path], None]]) -> list[Path]:
    """Write several files that belong together (a report's HTML and PDF): each is written
    to a temporary beside it, and they are renamed into place only when every one is
    complete, so a failure leaves every destination with its previous content.

    Raises
    ------
    OutputError
        Naming the file that could not be written; no temporary is left.
    """
    staged: list[tuple[Path, Path]] = []
    target = Path()
    try:
        for target, writer in writers.items():
            staged.append((_temporary(target), target))
            writer(staged[-1][0])
            os.chmod(staged[-1][0], 0o666 & ~_umask())  # mkstemp makes it private
        for temporary, target in staged:
            os.replace(temporary, target)
    except OSError as error:
        raise OutputError(f"{target}: cannot write ({error.strerror or error})") from error
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    return list(writers)


def _temporary(target: Path) -> Path:
    """An empty file beside ``target`` (its folder made when missing), to write first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def _umask() -> int:
    """The process's file-creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def bytes_writer(data: bytes) -> Callable[[Path], None]:
    """A writer for :func:`write_with` that writes ``data`` and syncs it to disk."""

    def write(temporary: Path) -> None:
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    return write


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all (see :func:`write_with`)."""
    return write_with(path, bytes_writer(data))
