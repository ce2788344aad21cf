"""Shared fixtures for the scoring tests: a handful of tasks written here."""

from __future__ import annotations

import pytest

from jobimpact.scoring.base import TaskPrompt

# Eight tasks of quite different lengths, in the style of O*NET task statements.
TASKS = [
    ("Secretaries", "Type letters."),
    ("Financial Analysts", "Analyze financial data and write quarterly reports for management."),
    ("Heavy Truck Drivers", "Drive trucks to deliver goods; load and unload cargo at each stop."),
    (
        "Technical Writers",
        "Review published materials and recommend revisions or changes in scope, format, "
        "content, and methods of reproduction and binding.",
    ),
    ("Roofers", "Lift and install roofing materials, repair leaks, and clean work sites."),
    (
        "Neurodiagnostic Technologists",
        "Conduct tests or studies such as electroencephalography (EEG), polysomnography (PSG), "
        "nerve conduction studies (NCS), electromyography (EMG), and intraoperative monitoring "
        "(IOM) — often at night.",
    ),
    ("Translators", "Translate documents from Spanish into English."),
    ("Home Health Aides", "Bathe, feed, and groom patients in their homes."),
]


@pytest.fixture(scope="session")
def task_prompts() -> list[TaskPrompt]:
    """The eight tasks, with ids t0 … t7 (session-wide; do not mutate)."""
    return [TaskPrompt(occupation=o, task=t, task_id=f"t{i}") for i, (o, t) in enumerate(TASKS)]


@pytest.fixture
def tasks(task_prompts: list[TaskPrompt]) -> list[TaskPrompt]:
    """A fresh list of the eight tasks."""
    return list(task_prompts)
