"""Which task statements are new work: the current O*NET release against an earlier one.

O*NET keeps a task's Task ID from release to release, but renumbers tasks when an
occupation is re-coded (the 2019 taxonomy re-coded a fifth of the occupations), and edits
wording in place. A Task ID absent from the baseline release (O*NET 20.1, 2015) is
therefore only a candidate: on the 29.3 mirror, 1,822 of the 2,686 such tasks have exactly
the text of a 20.1 statement under another ID. :func:`task_history` gives each current
task one status:

``established``
    its Task ID is in the baseline release;
``renumbered``
    a new ID, but a statement of a predecessor occupation (or of the same occupation code)
    in the baseline has the same text, ignoring case, spacing and final full stop;
``revised``
    a new ID whose text is a near-duplicate of such a statement (difflib ratio ≥
    :data:`REVISED_RATIO`): reworded, not new work;
``new``
    none of these, in an occupation that existed in the baseline: new work;
``new occupation``
    the occupation had no predecessor with tasks in the baseline; its tasks are not counted
    as new tasks (the occupation itself is new).

An occupation's predecessors come from the O*NET-SOC 2010 → 2019 crosswalk. Pure: no
store access.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd

from jobimpact.tabular import (
    STRING,
    check_pattern,
    check_unique,
    finish,
    read_table,
    to_int,
)

__all__ = [
    "REVISED_RATIO",
    "STATUSES",
    "normalise_task",
    "read_baseline_tasks",
    "read_taxonomy_crosswalk",
    "task_history",
]

STATUSES = ("established", "renumbered", "revised", "new", "new occupation")
# A reworded statement keeps most of its characters; a new task rarely shares 80% with an
# old one of the same occupation (29.3 vs 20.1: 518 of 2,686 new-ID tasks fall below).
REVISED_RATIO = 0.8
_CODE = "O*NET-SOC Code"
_CODE_PATTERN = r"\d{2}-\d{4}\.\d{2}"
_BASELINE_WHAT = "the Task Statements of an earlier O*NET text release"
_CROSSWALK_WHAT = "the O*NET-SOC 2010 to 2019 crosswalk (onetcenter.org)"
_FROM, _TO = "O*NET-SOC 2010 Code", "O*NET-SOC 2019 Code"


def normalise_task(text: str) -> str:
    """Task text compared across releases: case, runs of spaces and a final full stop
    ignored."""
    return re.sub(r"\s+", " ", str(text)).strip().rstrip(".").strip().casefold()


def read_baseline_tasks(path: Path) -> pd.DataFrame:
    """Read the task statements of the baseline release.

    Returns
    -------
    DataFrame
        ``onet_soc_code`` (of the baseline's taxonomy), ``task_id``, ``task``.

    Raises
    ------
    DataError
        Naming the file, row and field of a missing column, malformed code or id, or a
        duplicate (code, Task ID).
    """
    raw = read_table(path, required=(_CODE, "Task ID", "Task"), what=_BASELINE_WHAT)
    check_pattern(raw, _CODE, _CODE_PATTERN, expected="an O*NET-SOC code like 11-1011.00")
    task_id = to_int(raw, "Task ID")
    check_unique(raw.assign(**{"Task ID": task_id.astype(str)}), [_CODE, "Task ID"], what="task")
    return finish(
        {
            "onet_soc_code": raw[_CODE].str.strip().astype(STRING),
            "task_id": task_id,
            "task": raw["Task"].astype(STRING),
        }
    )


def read_taxonomy_crosswalk(path: Path) -> pd.DataFrame:
    """Read the O*NET-SOC 2010 → 2019 crosswalk.

    Returns
    -------
    DataFrame
        ``code_2010``, ``code_2019``: one row per distinct pair (a code may map to several).
    """
    raw = read_table(
        path, required=(_FROM, _TO), what=_CROSSWALK_WHAT, delimiter=",", header_scan=10
    )
    for column in (_FROM, _TO):
        check_pattern(raw, column, _CODE_PATTERN, expected="an O*NET-SOC code like 11-1011.00")
    frame = finish(
        {
            "code_2010": raw[_FROM].str.strip().astype(STRING),
            "code_2019": raw[_TO].str.strip().astype(STRING),
        }
    )
    return frame.drop_duplicates().reset_index(drop=True)


def task_history(
    tasks: pd.DataFrame,
    baseline: pd.DataFrame,
    crosswalk: pd.DataFrame,
    *,
    baseline_release: str,
) -> pd.DataFrame:
    """The status of each current task against the baseline release.

    Parameters
    ----------
    tasks : DataFrame
        Current tasks: ``task_id``, ``onet_soc_code``, ``task``.
    baseline : DataFrame
        From :func:`read_baseline_tasks`.
    crosswalk : DataFrame
        From :func:`read_taxonomy_crosswalk`.
    baseline_release : str
        The baseline's version, e.g. ``20.1``: the ``new_since`` of new tasks.

    Returns
    -------
    DataFrame
        ``task_id``, ``status`` (see the module docstring), ``new_since`` (the baseline
        release for new tasks, else NULL), ``similarity`` (difflib ratio of the closest
        predecessor statement; NULL for established tasks and new occupations).
    """
    predecessors = _predecessors(tasks["onet_soc_code"], baseline, crosswalk)
    old_ids = set(baseline["task_id"].astype(int))
    texts = baseline.assign(norm=baseline["task"].map(normalise_task))
    by_code = texts.groupby("onet_soc_code")["norm"].apply(list).to_dict()
    rows: list[tuple[int, str, float | None]] = []
    for task_id, code, text in zip(
        tasks["task_id"], tasks["onet_soc_code"], tasks["task"], strict=True
    ):
        if int(task_id) in old_ids:
            rows.append((int(task_id), "established", None))
        elif code not in predecessors:
            rows.append((int(task_id), "new occupation", None))
        else:
            before = [t for old in predecessors[code] for t in by_code.get(old, [])]
            rows.append((int(task_id), *_compare(normalise_task(text), before)))
    frame = pd.DataFrame(rows, columns=["task_id", "status", "similarity"])
    new_since = frame["status"].map(lambda s: baseline_release if s == "new" else None)
    return frame.assign(new_since=new_since.astype(STRING))[
        ["task_id", "status", "new_since", "similarity"]
    ]


def _predecessors(
    codes: pd.Series, baseline: pd.DataFrame, crosswalk: pd.DataFrame
) -> dict[str, list[str]]:
    """Current code → its baseline codes that had tasks (the code itself counts as one)."""
    had_tasks = set(baseline["onet_soc_code"])
    pairs = {
        (str(a), str(b))
        for a, b in zip(crosswalk["code_2010"], crosswalk["code_2019"], strict=True)
    }
    pairs |= {(str(code), str(code)) for code in codes}
    found: dict[str, list[str]] = {}
    for old, new in sorted(pairs):
        if old in had_tasks:
            found.setdefault(new, []).append(old)
    return found


def _compare(text: str, before: list[str]) -> tuple[str, float | None]:
    """Status of a new-ID task against its predecessors' statements, and the similarity of
    the closest one when it is a near-duplicate (None for a new task)."""
    if text in before:
        return "renumbered", 1.0
    best = 0.0
    for old in before:
        matcher = difflib.SequenceMatcher(None, text, old, autojunk=False)
        # upper bounds first: only a possible near-duplicate is scored in full
        if matcher.real_quick_ratio() >= REVISED_RATIO and matcher.quick_ratio() >= REVISED_RATIO:
            best = max(best, matcher.ratio())
    return ("revised", round(best, 4)) if best >= REVISED_RATIO else ("new", None)
