"""Anthropic Economic Index (Handa et al. 2025; Hugging Face dataset Anthropic/EconomicIndex,
CC BY): per O*NET task statement, the observed shares of LLM conversations in five
interaction modes, and each task's share of all conversations."""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

MODES = ("directive", "feedback_loop", "task_iteration", "validation", "learning", "filtered")
_BASE = "https://huggingface.co/datasets/Anthropic/EconomicIndex/resolve/main/"


def url(version: str) -> str:
    """Base URL of one release folder of the dataset, e.g. ``release_2025_03_27``."""
    check_version("economic_index", version, r"release_\d{4}_\d{2}_\d{2}", "release_2025_03_27")
    return f"{_BASE}{version}/"


def files(version: str) -> tuple[FileSpec, ...]:
    """The interaction-mode shares and the usage shares per task."""
    modes, usage = "automation_vs_augmentation_by_task.csv", "task_pct_v2.csv"
    return (
        FileSpec(modes, f"aei/{version}/{modes}", ("task_name", *MODES), url_path=modes),
        FileSpec(usage, f"aei/{version}/{usage}", ("task_name", "pct"), url_path=usage),
    )


SOURCE = Source(
    name="economic_index",
    default_version="release_2025_03_27",
    title="the Anthropic Economic Index task files",
    url=url,
    files=files,
)
