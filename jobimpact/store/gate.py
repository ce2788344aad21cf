"""A writer waiting for the store goes before readers that arrive after it.

DuckDB lets readers share the file and a writer have it alone, and refuses a conflicting
open at once; with many readers coming and going, their shared locks can overlap for
longer than a writer waits. So a writer that found the store in use holds an exclusive
lock on a side file, ``<store>.lock``, while it waits, and jobimpact's readers pass that
file (a shared lock, released at once) before they open the store: they wait for the
writer, and the readers already in finish and leave. Other programs ignore the file;
without ``fcntl`` (Windows), or where the file cannot be made, nobody waits at it.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["gate_path", "pass_gate", "writer_waiting"]


def gate_path(store: Path) -> Path:
    """The side file of a store."""
    return store.with_name(store.name + ".lock")


@contextmanager
def writer_waiting(store: Path, deadline: float) -> Iterator[None]:
    """Hold the gate (until ``deadline`` at the latest to get it) while a writer waits."""
    fd = _open(store, os.O_RDWR | os.O_CREAT)
    try:
        if fd is not None and fcntl is not None:
            _lock(fd, fcntl.LOCK_EX, deadline)
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def pass_gate(store: Path, deadline: float) -> None:
    """Wait, until ``deadline`` at the latest, while a writer holds the gate."""
    fd = _open(store, os.O_RDONLY)
    if fd is None or fcntl is None:
        return
    try:
        _lock(fd, fcntl.LOCK_SH, deadline)
    finally:
        os.close(fd)


def _open(store: Path, flags: int) -> int | None:
    """The gate file, or None when it does not exist (readers) or cannot be made."""
    if fcntl is None:
        return None
    try:
        return os.open(gate_path(store), flags, 0o666)
    except OSError:
        return None


def _lock(fd: int, kind: int, deadline: float) -> bool:
    """Take a flock, trying again with jittered backoff until ``deadline``."""
    assert fcntl is not None
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(remaining, delay * random.uniform(0.5, 1.5)))
            delay = min(0.1, delay * 2)
