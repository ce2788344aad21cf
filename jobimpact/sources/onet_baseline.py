"""An earlier O*NET text release, for the task statements only: the baseline against which
a task of the current release counts as new (default O*NET 20.1, October 2015)."""

from __future__ import annotations

from jobimpact.sources import onet
from jobimpact.sources.base import FileSpec, Source

_TASKS = "Task Statements.txt"
_COLUMNS = ("O*NET-SOC Code", "Task ID", "Task")


def files(version: str) -> tuple[FileSpec, ...]:
    """The task statements of the baseline release."""
    folder = onet.release_dir(version)
    return (FileSpec(_TASKS, f"onet/{folder}/{_TASKS}", _COLUMNS, member=f"{folder}/{_TASKS}"),)


SOURCE = Source(
    name="onet_baseline",
    default_version="20.1",
    title="the task statements of an earlier O*NET release",
    url=onet.url,
    files=files,
)
