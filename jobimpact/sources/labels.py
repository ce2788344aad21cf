"""Task-level exposure labels of Eloundou et al. (2023), "GPTs are GPTs" (GitHub, MIT)."""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

_KEY = ("O*NET-SOC Code", "Task ID", "Task")
_MIRROR = "labels/gpts-are-gpts"


def url(version: str) -> str:
    """Raw-file base of the repository at git ref ``version`` (a branch, tag or commit)."""
    check_version("gpts_labels", version, r"[\w.\-]+", "main")
    return f"https://raw.githubusercontent.com/openai/GPTs-are-GPTs/{version}/"


def files(version: str) -> tuple[FileSpec, ...]:
    """The two label tables and the licence that must travel with them."""
    full, automation = "full_labelset.tsv", "automation_gpt4_human_labels.tsv"
    return (
        FileSpec(
            full,
            f"{_MIRROR}/{full}",
            (*_KEY, "human_exposure_agg", "gpt4_exposure"),
            url_path=f"data/{full}",
        ),
        FileSpec(
            automation,
            f"{_MIRROR}/{automation}",
            (*_KEY, "gpt4_automation"),
            url_path=f"data/{automation}",
        ),
        FileSpec("LICENSE", f"{_MIRROR}/LICENSE", url_path="LICENSE"),
    )


SOURCE = Source(
    name="gpts_labels",
    default_version="main",
    title="the GPTs-are-GPTs label sets",
    url=url,
    files=files,
)
