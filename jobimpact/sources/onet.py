"""O*NET database, text release (tab-separated UTF-8 files in one zip per version)."""

from __future__ import annotations

from jobimpact.sources.base import FileSpec, Source, check_version

_CODE = "O*NET-SOC Code"

# File name -> columns the later stages read; the release has more, and Title/Task are only
# in some of its forms, so only the columns every form shares are required.
_FILES: dict[str, tuple[str, ...]] = {
    "Task Statements.txt": (_CODE, "Task ID", "Task", "Task Type"),
    "Occupation Data.txt": (_CODE, "Title", "Description"),
    "Task Ratings.txt": (_CODE, "Task ID", "Scale ID", "Data Value"),
    "Tasks to DWAs.txt": (_CODE, "Task ID", "DWA ID"),
    "DWA Reference.txt": ("Element ID", "IWA ID", "DWA ID", "DWA Title"),
    "IWA Reference.txt": ("Element ID", "IWA ID", "IWA Title"),
    "Emerging Tasks.txt": (_CODE, "Task", "Category"),
    "Job Zones.txt": (_CODE, "Job Zone"),
}


def release_dir(version: str) -> str:
    """Folder name of a release, e.g. ``db_29_3_text`` for ``29.3``."""
    check_version("onet", version, r"\d+\.\d+", "29.3")
    return f"db_{version.replace('.', '_')}_text"


def url(version: str) -> str:
    """Official zip of the text release of ``version``."""
    return f"https://www.onetcenter.org/dl_files/database/{release_dir(version)}.zip"


def files(version: str) -> tuple[FileSpec, ...]:
    """The files of ``version`` that jobimpact reads, plus the optional read-me."""
    folder = release_dir(version)
    specs = [
        FileSpec(name, f"onet/{folder}/{name}", columns, member=f"{folder}/{name}")
        for name, columns in _FILES.items()
    ]
    readme = "Read Me.txt"
    specs.append(
        FileSpec(readme, f"onet/{folder}/{readme}", optional=True, member=f"{folder}/{readme}")
    )
    return tuple(specs)


SOURCE = Source(
    name="onet",
    default_version="29.3",
    title="the O*NET text release",
    url=url,
    files=files,
)
