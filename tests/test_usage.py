"""Observed use (Economic Index): the files read with checks, and matched to tasks by text
and through the baseline release."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from jobimpact.errors import DataError
from jobimpact.usage import match_modes, read_interaction_modes, read_usage

HEADER = "task_name,feedback_loop,directive,task_iteration,validation,learning,filtered\n"


def write(tmp_path: Path, rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "automation_vs_augmentation_by_task.csv"
    path.write_text(header + rows, encoding="utf-8")
    return path


def test_shares_give_the_augmentation_share_of_classified_conversations(tmp_path: Path) -> None:
    path = write(tmp_path, "analyze user needs.,0.1,0.2,0.3,0.1,0.1,0.2\nfix it.,0,0,0,0,0,1\n")
    modes = read_interaction_modes(path).frame.set_index("task_name")
    assert modes.loc["analyze user needs.", "augmentation_share"] == pytest.approx(0.5 / 0.8)
    assert modes.loc["analyze user needs.", "classified"] == pytest.approx(0.8)
    assert pd.isna(modes.loc["fix it.", "augmentation_share"])  # nothing classified


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (
            "a task.,0.1,0.2,0.3,0.1,0.1,0.3\n",
            HEADER,
            "automation_vs_augmentation_by_task.csv, row 2: got shares summing to 1.1, expected "
            "the six shares (directive, feedback_loop, task_iteration, validation, learning, "
            "filtered) to sum to 1",
        ),
        (
            "a task.,0.1,-0.2,0.5,0.3,0.1,0.2\n",
            HEADER,
            "automation_vs_augmentation_by_task.csv, row 2, field 'directive': got -0.2, "
            "expected a share in [0, 1]",
        ),
        (
            "a task.,0.1,0.2,0.3,0.1,0.1,0.2\nA Task,0.1,0.2,0.3,0.1,0.1,0.2\n",
            HEADER,
            "automation_vs_augmentation_by_task.csv, row 3, field 'task_name': got 'A Task' "
            "again, expected each task once",
        ),
        (
            "a task.,0.1,0.0,0.1,0.0,0.0,0.8\nb task.,0.0,0.0,0.0,0.0,0.0,1.0\n",
            HEADER,
            "automation_vs_augmentation_by_task.csv: got no task with at least 50% of its "
            "conversations classified, expected some (every row is mostly 'filtered')",
        ),
        (
            "a task.,0.1,0.2,0.3,0.1,0.4\n",
            "task_name,feedback_loop,directive,task_iteration,validation,filtered\n",
            "automation_vs_augmentation_by_task.csv: missing column 'learning'",
        ),
    ],
)
def test_bad_files_are_one_line_errors(
    tmp_path: Path, rows: str, header: str, message: str
) -> None:
    with pytest.raises(DataError) as error:
        read_interaction_modes(write(tmp_path, rows, header))
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_matching_ignores_case_spacing_and_the_final_stop_and_follows_task_ids() -> None:
    tasks = pd.DataFrame(
        {
            "task_id": [1, 2, 3, 4],
            "onet_soc_code": ["11-1011.00", "11-1011.00", "15-1252.00", "29-1141.00"],
            "task": [
                "Analyze user needs.",
                "Prepare  budgets for approval",
                "Analyze user needs.",
                "Record patients' conditions and reactions.",  # reworded since the baseline
            ],
        }
    )
    baseline = pd.DataFrame({"task_id": [4], "task": ["Record patient's condition."]})
    modes = pd.DataFrame(
        {
            "norm": [
                "analyze user needs",
                "prepare budgets for approval",
                "record patient's condition",
            ],
            "augmentation_share": [0.2, 0.7, 0.9],
        }
    )
    matched = match_modes(modes, tasks, baseline).sort_values("task_id")
    assert matched["task_id"].tolist() == [1, 2, 3, 4]
    assert matched["matched_by"].tolist() == ["text", "text", "text", "baseline id"]
    assert matched["augmentation_share"].tolist() == [0.2, 0.7, 0.2, 0.9]


def test_usage_shares_are_read_by_text(tmp_path: Path) -> None:
    path = tmp_path / "task_pct_v2.csv"
    path.write_text("task_name,pct\nAnalyze user needs.,0.25\n", encoding="utf-8")
    assert read_usage(path).to_dict("records") == [{"norm": "analyze user needs", "pct": 0.25}]
