"""Reference labels of tasks (the GPTs-are-GPTs label set, or any file with its columns),
read with checks and matched to the tasks of the store.

The labels are the targets of calibration heads and the reference of validation. A file
needs the key columns and ``human_exposure_agg``; ``gpt4_exposure``, ``gpt4_automation``
and ``Task Type`` are used when present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from jobimpact import tabular
from jobimpact.headers import missing_columns
from jobimpact.sources.base import raw_dir
from jobimpact.sources.checks import sha256_file

__all__ = ["EXPOSURE_LABELS", "Labels", "default_labels_path", "match_labels", "read_labels"]

EXPOSURE_LABELS = ("E0", "E1", "E2")
AUTOMATION_LABELS = ("T0", "T1", "T2", "T3", "T4")
_WHAT = "a task label file with the columns of GPTs-are-GPTs' full_labelset.tsv"
_REQUIRED = ("O*NET-SOC Code", "Task ID", "Task", "human_exposure_agg")
_OPTIONAL = ("gpt4_exposure", "gpt4_automation", "Task Type")
_CODE = r"\d{2}-\d{4}\.\d{2}"


@dataclass(frozen=True)
class Labels:
    """Labelled tasks read from one file.

    Attributes
    ----------
    frame : DataFrame
        ``onet_soc_code``, ``label_task_id``, ``task``, ``task_type`` (Core, Supplemental or
        NULL), ``human`` (E0/E1/E2), ``gpt4`` and ``gpt4_automation`` (NULL when absent).
    name : str
        File name, recorded as provenance.
    sha256 : str
        Of the file's bytes.
    """

    frame: pd.DataFrame
    name: str
    sha256: str


def default_labels_path(data_dir: Path) -> Path:
    """Where ``jobimpact fetch`` puts the GPTs-are-GPTs label set."""
    return raw_dir(data_dir, "gpts_labels", "main") / "full_labelset.tsv"


def read_labels(path: Path) -> Labels:
    """Read and check a label file (tab-separated, or comma-separated when named .csv).

    Raises
    ------
    DataError
        Naming the file, row and field of the first bad cell.
    """
    delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    raw = tabular.read_table(
        path, required=_REQUIRED, optional=_OPTIONAL, what=_WHAT, delimiter=delimiter
    )
    tabular.check_pattern(raw, "O*NET-SOC Code", _CODE, expected="a code like 11-1011.00")
    tabular.check_not_empty(raw, "Task", expected="the task statement")
    tabular.check_in(raw, "human_exposure_agg", EXPOSURE_LABELS, expected="one of E0, E1, E2")
    for column, allowed in (
        ("gpt4_exposure", EXPOSURE_LABELS),
        ("gpt4_automation", AUTOMATION_LABELS),
    ):
        if not missing_columns(raw.attrs["header"], [column]):
            tabular.check_in(raw, column, allowed, expected=f"one of {', '.join(allowed)}")
    task_ids = tabular.to_int(raw, "Task ID", allow_integral_float=True)
    keyed = raw.assign(**{"Task ID": task_ids.astype(str)})
    tabular.check_unique(keyed, ["O*NET-SOC Code", "Task ID"], what="labelled task")
    frame = tabular.finish(
        {
            "onet_soc_code": raw["O*NET-SOC Code"].str.strip(),
            "label_task_id": task_ids,
            "task": raw["Task"],
            "task_type": tabular.to_string(raw, "Task Type"),
            "human": raw["human_exposure_agg"],
            "gpt4": tabular.to_string(raw, "gpt4_exposure"),
            "gpt4_automation": tabular.to_string(raw, "gpt4_automation"),
        }
    )
    return Labels(frame=frame, name=path.name, sha256=sha256_file(path))


def _normalised(text: pd.Series) -> pd.Series:
    """Task text compared case- and whitespace-insensitively."""
    return text.map(lambda t: re.sub(r"\s+", " ", str(t)).strip().casefold())


@dataclass(frozen=True)
class Matched:
    """Labels joined to store tasks, and how they matched."""

    frame: pd.DataFrame  # label columns + task_id
    n_labelled: int
    n_by_id: int
    n_by_text: int


def match_labels(labels: Labels, tasks: pd.DataFrame) -> Matched:
    """Join labelled tasks to store tasks: by (O*NET-SOC code, task id) when the texts agree,
    else by occupation and task text (a later release may renumber tasks).

    Parameters
    ----------
    labels : Labels
    tasks : DataFrame
        ``task_id``, ``onet_soc_code``, ``task`` of the store.
    """
    frame = labels.frame
    store = tasks[["task_id", "onet_soc_code", "task"]].assign(norm=_normalised(tasks["task"]))
    wanted = frame.assign(norm=_normalised(frame["task"]))
    by_id = wanted.merge(
        store.rename(columns={"task_id": "label_task_id"}),
        on=["onet_soc_code", "label_task_id", "norm"],
        how="inner",
        suffixes=("", "_store"),
    ).assign(task_id=lambda f: f["label_task_id"].astype("int64"))
    matched_keys = set(zip(by_id["onet_soc_code"], by_id["label_task_id"], strict=True))
    keys = zip(wanted["onet_soc_code"], wanted["label_task_id"], strict=True)
    rest = wanted[[key not in matched_keys for key in keys]]
    by_text = rest.merge(
        store.drop_duplicates(["onet_soc_code", "norm"]),
        on=["onet_soc_code", "norm"],
        how="inner",
        suffixes=("", "_store"),
    )
    columns = [*frame.columns, "task_id"]
    joined = pd.concat([by_id[columns], by_text[columns]], ignore_index=True)
    joined = joined.drop_duplicates("task_id").reset_index(drop=True)
    return Matched(frame=joined, n_labelled=len(frame), n_by_id=len(by_id), n_by_text=len(by_text))
