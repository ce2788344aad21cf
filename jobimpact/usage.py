"""Observed LLM use per task (Anthropic Economic Index, Handa et al. 2025; CC BY), read with
checks and matched to the store's tasks.

The Economic Index classifies conversations mapped to an O*NET task statement into five
interaction modes: *directive* and *feedback loop* hand the work over (automation);
*task iteration*, *validation* and *learning* keep the worker in it (augmentation);
*filtered* is what could not be classified. A task's **augmentation share** is
augmentation / (augmentation + automation): the label of the creation head. Its
**classified share** (1 − filtered) says how much evidence stands behind it.

The files name tasks by their lower-cased O*NET 20.1 text, without code or id, so they are
matched to the current release by text (case, spacing and a final full stop ignored), and
through the baseline release: a text equal to a baseline statement leads, by its Task ID
(stable across releases), to the current task however it was reworded since.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from jobimpact.errors import DataError
from jobimpact.history import normalise_task
from jobimpact.sources.base import raw_dir
from jobimpact.sources.checks import sha256_file
from jobimpact.tabular import check_not_empty, read_table, to_float

__all__ = [
    "AUGMENTATION_MODES",
    "AUTOMATION_MODES",
    "MIN_CLASSIFIED",
    "InteractionModes",
    "default_modes_path",
    "default_usage_path",
    "match_modes",
    "read_interaction_modes",
    "read_usage",
]

AUTOMATION_MODES = ("directive", "feedback_loop")
AUGMENTATION_MODES = ("task_iteration", "validation", "learning")
MODES = (*AUTOMATION_MODES, *AUGMENTATION_MODES, "filtered")
# A task whose conversations are mostly unclassified carries too little evidence.
MIN_CLASSIFIED = 0.5
_SUM_TOLERANCE = 1e-6
_WHAT = "an Economic Index file of interaction modes by task (automation_vs_augmentation_by_task)"
_USAGE_WHAT = "an Economic Index file of usage shares by task (task_pct_v2)"


@dataclass(frozen=True)
class InteractionModes:
    """Interaction-mode shares per task text, read from one file.

    Attributes
    ----------
    frame : DataFrame
        ``task_name``, ``norm`` (compared text), the six mode shares, ``augmentation_share``
        and ``classified``.
    name, sha256 : str
        The file's name and checksum, kept as provenance.
    """

    frame: pd.DataFrame
    name: str
    sha256: str


def default_modes_path(data_dir: Path, version: str = "release_2025_03_27") -> Path:
    """Where ``jobimpact fetch`` puts the interaction-mode file."""
    return raw_dir(data_dir, "economic_index", version) / "automation_vs_augmentation_by_task.csv"


def default_usage_path(data_dir: Path, version: str = "release_2025_03_27") -> Path:
    """Where ``jobimpact fetch`` puts the usage-share file."""
    return raw_dir(data_dir, "economic_index", version) / "task_pct_v2.csv"


def read_interaction_modes(path: Path) -> InteractionModes:
    """Read and check the interaction-mode shares.

    Raises
    ------
    DataError
        A missing column, a share that is not a number in [0, 1], shares of a row that do not
        sum to 1, a repeated task text, or no task with at least half its conversations
        classified — naming the file, row and field.
    """
    raw = read_table(path, required=("task_name", *MODES), what=_WHAT, delimiter=",")
    check_not_empty(raw, "task_name", expected="the task text")
    shares = pd.DataFrame({mode: to_float(raw, mode)[0] for mode in MODES})
    _check_shares(path, shares)
    norm = raw["task_name"].map(normalise_task)
    if norm.duplicated().any():
        row = int(norm.index[norm.duplicated().to_numpy()][0])
        raise DataError(
            path,
            f"got {raw.at[row, 'task_name']!r} again, expected each task once",
            row=row,
            field="task_name",
        )
    automation = shares[list(AUTOMATION_MODES)].sum(axis=1)
    augmentation = shares[list(AUGMENTATION_MODES)].sum(axis=1)
    classified = automation + augmentation
    frame = pd.concat([raw[["task_name"]].assign(norm=norm), shares], axis=1).assign(
        augmentation_share=(augmentation / classified).where(classified > 0),
        classified=classified,
    )
    if not (frame["classified"] >= MIN_CLASSIFIED).any():
        raise DataError(
            path,
            f"got no task with at least {MIN_CLASSIFIED:.0%} of its conversations classified, "
            "expected some (every row is mostly 'filtered')",
        )
    frame = frame.reset_index(drop=True)
    return InteractionModes(frame=frame, name=path.name, sha256=sha256_file(path))


def _check_shares(path: Path, shares: pd.DataFrame) -> None:
    """Every share in [0, 1] and each row's six shares summing to 1 (index: file rows)."""
    for mode in MODES:
        bad = (shares[mode] < 0) | (shares[mode] > 1)
        if bad.any():
            row = int(shares.index[bad.to_numpy()][0])
            value = float(shares[mode].to_numpy()[bad.to_numpy()][0])
            raise DataError(path, f"got {value:g}, expected a share in [0, 1]", row=row, field=mode)
    total = shares.sum(axis=1)
    off = (total - 1).abs() > _SUM_TOLERANCE
    if off.any():
        row = int(total.index[off.to_numpy()][0])
        value = float(total.to_numpy()[off.to_numpy()][0])
        raise DataError(
            path,
            f"got shares summing to {value:.6g}, expected the six shares "
            f"({', '.join(MODES)}) to sum to 1",
            row=row,
        )


def read_usage(path: Path) -> pd.DataFrame:
    """Read the usage shares: ``norm`` (compared text) and ``pct`` (percent of all
    conversations mapped to O*NET tasks)."""
    raw = read_table(path, required=("task_name", "pct"), what=_USAGE_WHAT, delimiter=",")
    pct, _ = to_float(raw, "pct")
    frame = pd.DataFrame({"norm": raw["task_name"].map(normalise_task), "pct": pct})
    return frame.drop_duplicates("norm").reset_index(drop=True)


def match_modes(modes: pd.DataFrame, tasks: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Join task texts of the Economic Index to the store's tasks.

    Parameters
    ----------
    modes : DataFrame
        With ``norm`` (e.g. :attr:`InteractionModes.frame` or :func:`read_usage`).
    tasks : DataFrame
        Current tasks: ``task_id``, ``onet_soc_code``, ``task``.
    baseline : DataFrame
        Baseline statements: ``task_id``, ``task``.

    Returns
    -------
    DataFrame
        ``modes``' columns, ``task_id``, ``onet_soc_code`` and ``matched_by`` (``text``:
        the current wording; ``baseline id``: the baseline's wording, then its Task ID). A
        text may match several tasks (a statement shared by occupations): one row each.
    """
    current = tasks.assign(norm=tasks["task"].map(normalise_task))[
        ["task_id", "onet_soc_code", "norm"]
    ]
    by_text = modes.merge(current, on="norm").assign(matched_by="text")
    old = baseline.assign(norm=baseline["task"].map(normalise_task))[["task_id", "norm"]]
    via = modes.merge(old.drop_duplicates(), on="norm").merge(
        tasks[["task_id", "onet_soc_code"]], on="task_id"
    )
    via = via[~via["task_id"].isin(by_text["task_id"])].assign(matched_by="baseline id")
    return pd.concat([by_text, via], ignore_index=True).drop_duplicates("task_id")
