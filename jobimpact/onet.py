"""Parse the O*NET database text release into the reference tables (pure: no store access).

The release is a folder of tab-separated UTF-8 files (``db_29_3_text/``). :func:`read_onet`
reads the eight files the store needs, checks that they are complete and consistent with
each other, and returns one DataFrame per table of ``store/sql/001_foundation.sql``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from jobimpact.errors import DataError
from jobimpact.tabular import (
    STRING,
    cell,
    check_in,
    check_known,
    check_not_empty,
    check_pattern,
    check_unique,
    finish,
    read_table,
    text_sha256,
    to_float,
    to_int,
    to_string,
)

log = logging.getLogger(__name__)

WHAT = "the O*NET 29.x text release"
CODE = "O*NET-SOC Code"
ONET_SOC_PATTERN = r"\d{2}-\d{4}\.\d{2}"

TASK_STATEMENTS = "Task Statements.txt"
OCCUPATION_DATA = "Occupation Data.txt"
TASK_RATINGS = "Task Ratings.txt"
TASKS_TO_DWAS = "Tasks to DWAs.txt"
DWA_REFERENCE = "DWA Reference.txt"
IWA_REFERENCE = "IWA Reference.txt"
EMERGING_TASKS = "Emerging Tasks.txt"
JOB_ZONES = "Job Zones.txt"
FILES = (
    TASK_STATEMENTS,
    OCCUPATION_DATA,
    TASK_RATINGS,
    TASKS_TO_DWAS,
    DWA_REFERENCE,
    IWA_REFERENCE,
    EMERGING_TASKS,
    JOB_ZONES,
)

TASK_TYPES = ("Core", "Supplemental", "")
EMERGING_CATEGORIES = ("New", "Revision")
# Scale IDs of Task Ratings kept in the tasks table, and the column prefix each fills.
RATING_SCALES = {"IM": "importance", "RT": "relevance"}

# The text release writes "n/a" where the database forms of the same release hold NULL; the
# O*NET data dictionary shows it in Task Ratings (Category of the IM and RT rows, CI bounds
# when the standard error is 0, N, Standard Error and Recommend Suppress of ratings that
# have none). Read it as missing in the columns the dictionary lets be NULL, listed here per
# file; anywhere else it is refused like any other text where a value is required.
MISSING_MARKS = ("n/a",)
NULLABLE: dict[str, tuple[str, ...]] = {
    TASK_STATEMENTS: ("Task Type", "Incumbents Responding"),
    TASK_RATINGS: (
        "Category",
        "N",
        "Standard Error",
        "Lower CI Bound",
        "Upper CI Bound",
        "Recommend Suppress",
    ),
    EMERGING_TASKS: ("Original Task ID", "Original Task"),
}


@dataclass(frozen=True)
class OnetTables:
    """The O*NET reference tables, each with the columns of its table in the store.

    Attributes
    ----------
    occupations
        ``onet_soc_code, title, description, job_zone`` (the SOC columns are added by
        :func:`jobimpact.employment.occupation_soc`).
    tasks
        One row per task statement with its IM and RT ratings (NULL where unrated).
    iwas, dwas, task_dwas, emerging_tasks
        As in the store.
    """

    occupations: pd.DataFrame
    tasks: pd.DataFrame
    iwas: pd.DataFrame
    dwas: pd.DataFrame
    task_dwas: pd.DataFrame
    emerging_tasks: pd.DataFrame


def read_onet(folder: Path) -> OnetTables:
    """Read and check the O*NET text release in ``folder``.

    Parameters
    ----------
    folder
        The release folder (e.g. ``data/raw/onet/29.3``) holding ``Task Statements.txt``,
        ``Occupation Data.txt``, ``Task Ratings.txt``, ``Tasks to DWAs.txt``,
        ``DWA Reference.txt``, ``IWA Reference.txt``, ``Emerging Tasks.txt`` and
        ``Job Zones.txt``.

    Returns
    -------
    OnetTables
        The tables, with nullable dtypes (``Int64``, ``float64``, ``string``). The release's
        missing-value mark ``n/a`` is NULL in the columns that may be empty
        (:data:`NULLABLE`); in a column that needs a value it is refused.

    Raises
    ------
    DataError
        When a file is missing, unreadable or malformed, or when files disagree (a task of an
        occupation that Occupation Data lacks, a rating of an unknown task, ...). The message
        names the file, and the row and field where known.
    """
    folder = Path(folder)
    _check_files(folder)
    occupations = read_occupations(folder / OCCUPATION_DATA, folder / JOB_ZONES)
    codes = set(occupations["onet_soc_code"])
    tasks = read_tasks(folder / TASK_STATEMENTS, folder / TASK_RATINGS, occupation_codes=codes)
    iwas = read_iwas(folder / IWA_REFERENCE)
    dwas = read_dwas(folder / DWA_REFERENCE, iwa_ids=set(iwas["iwa_id"]))
    task_dwas = read_task_dwas(
        folder / TASKS_TO_DWAS,
        task_ids=set(tasks["task_id"].astype(int)),
        dwa_ids=set(dwas["dwa_id"]),
    )
    emerging = read_emerging_tasks(folder / EMERGING_TASKS, occupation_codes=codes)
    return OnetTables(occupations, tasks, iwas, dwas, task_dwas, emerging)


def _read(path: Path, *, required: Sequence[str], optional: Sequence[str] = ()) -> pd.DataFrame:
    """Read one file of the release, its missing-value marks read as empty where allowed."""
    return read_table(
        path,
        required=required,
        optional=optional,
        what=WHAT,
        missing=MISSING_MARKS,
        nullable=NULLABLE.get(path.name, ()),
    )


def _check_files(folder: Path) -> None:
    """Every file the ingest reads must be in the folder; name the missing ones."""
    if not folder.is_dir():
        raise DataError(str(folder), f"got no such folder, expected {WHAT}")
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        raise DataError(
            str(folder),
            f"got no {listed} in this folder, expected the {len(FILES)} files of {WHAT}: "
            + ", ".join(FILES),
        )


def read_occupations(path: Path, job_zones_path: Path) -> pd.DataFrame:
    """Occupation Data joined with Job Zones.

    Parameters
    ----------
    path
        ``Occupation Data.txt``.
    job_zones_path
        ``Job Zones.txt``; occupations it does not list get a NULL job zone.

    Returns
    -------
    pandas.DataFrame
        ``onet_soc_code, title, description, job_zone`` (``job_zone`` is ``Int64``, 1..5).
    """
    raw = _read(path, required=(CODE, "Title", "Description"))
    check_pattern(raw, CODE, ONET_SOC_PATTERN, expected="an O*NET-SOC code like 11-1011.00")
    check_unique(raw, [CODE], what=CODE)
    check_not_empty(raw, "Title", expected="an occupation title")
    codes = raw[CODE].str.strip()
    zones = _read_job_zones(job_zones_path, known=set(codes))
    return finish(
        {
            "onet_soc_code": codes.astype(STRING),
            "title": to_string(raw, "Title", empty_is_null=False),
            "description": to_string(raw, "Description", empty_is_null=False),
            "job_zone": codes.map(zones).astype("Int64"),
        }
    )


def _read_job_zones(path: Path, *, known: set[str]) -> dict[str, int]:
    """Job zone (1..5) of each occupation Job Zones.txt lists."""
    raw = _read(path, required=(CODE, "Job Zone"))
    check_known(raw, CODE, known, reference=OCCUPATION_DATA)
    check_unique(raw, [CODE], what=CODE)
    check_in(raw, "Job Zone", ("1", "2", "3", "4", "5"), expected="a job zone 1 to 5")
    zones = to_int(raw, "Job Zone")
    return {code.strip(): int(zone) for code, zone in zip(raw[CODE], zones, strict=True)}


def read_tasks(path: Path, ratings_path: Path, *, occupation_codes: set[str]) -> pd.DataFrame:
    """Task Statements with their importance and relevance ratings.

    Parameters
    ----------
    path
        ``Task Statements.txt``.
    ratings_path
        ``Task Ratings.txt`` in the release's long format: one row per task and Scale ID.
        ``IM`` fills ``importance`` and ``RT`` fills ``relevance`` (Data Value, and the Lower
        and Upper CI Bound); the other scales (frequency categories) are not kept.
    occupation_codes
        The O*NET-SOC codes of Occupation Data; a task of any other code raises.

    Returns
    -------
    pandas.DataFrame
        The columns of the ``tasks`` table; ``task_id`` is ``Int64``, unique.
    """
    raw = _read(
        path,
        required=(CODE, "Task ID", "Task", "Task Type"),
        optional=("Incumbents Responding", "Date", "Domain Source"),
    )
    task_id = to_int(raw, "Task ID")
    check_known(raw, CODE, occupation_codes, reference=OCCUPATION_DATA)
    check_unique(raw, [CODE, "Task ID"], what="(O*NET-SOC Code, Task ID) pair")
    _check_task_ids_unique(raw, task_id)
    check_not_empty(raw, "Task", expected="a task statement")
    check_in(raw, "Task Type", TASK_TYPES, expected="'Core', 'Supplemental' or an empty cell")
    incumbents, _ = to_float(raw, "Incumbents Responding", allow_empty=True)
    tasks = pd.DataFrame(
        {
            "task_id": task_id,
            "onet_soc_code": raw[CODE].str.strip().astype(STRING),
            "task": to_string(raw, "Task", empty_is_null=False),
            "task_type": to_string(raw, "Task Type"),
            "incumbents_responding": incumbents,
        }
    )
    ratings = _read_ratings(ratings_path, tasks).reindex(task_id.to_numpy(dtype="int64"))
    ratings.index = raw.index
    return finish(
        {
            **{name: tasks[name] for name in tasks.columns},
            **{name: ratings[name].astype("float64") for name in ratings.columns},
            "date": to_string(raw, "Date"),
            "domain_source": to_string(raw, "Domain Source"),
            "text_sha256": raw["Task"].map(text_sha256).astype(STRING),
        }
    )


def _check_task_ids_unique(raw: pd.DataFrame, task_id: pd.Series) -> None:
    """A Task ID names one task of one occupation; raise naming both rows otherwise."""
    repeated = task_id.duplicated(keep="first").to_numpy(dtype=bool)
    if not repeated.any():
        return
    row = int(raw.index[repeated][0])
    value = int(str(task_id.at[row]))
    first = int(task_id.index[(task_id == value).to_numpy(dtype=bool)][0])
    raise DataError(
        TASK_STATEMENTS,
        f"got Task ID {value} for {cell(raw, row, CODE)!r}, already used for "
        f"{cell(raw, first, CODE)!r} at row {first}; expected a Task ID unique across "
        "occupations",
        row=row,
        field="Task ID",
    )


def _read_ratings(path: Path, tasks: pd.DataFrame) -> pd.DataFrame:
    """IM and RT means and confidence bounds per Task ID (index), from the long format."""
    raw = _read(
        path,
        required=(CODE, "Task ID", "Scale ID", "Data Value"),
        optional=("Lower CI Bound", "Upper CI Bound"),
    )
    raw = raw[raw["Scale ID"].str.strip().isin(list(RATING_SCALES))]
    task_id = to_int(raw, "Task ID")
    owner = dict(zip(tasks["task_id"].astype(int), tasks["onet_soc_code"], strict=True))
    check_known(raw, "Task ID", set(owner), reference=TASK_STATEMENTS, values=task_id)
    _check_rating_owner(raw, task_id, owner)
    check_unique(raw, ["Task ID", "Scale ID"], what="(Task ID, Scale ID) pair")
    value, _ = to_float(raw, "Data Value")
    lower, _ = to_float(raw, "Lower CI Bound", allow_empty=True)
    upper, _ = to_float(raw, "Upper CI Bound", allow_empty=True)
    long = pd.DataFrame(
        {"scale": raw["Scale ID"].str.strip(), "": value, "_lower": lower, "_upper": upper}
    ).set_index(task_id.astype("int64").rename("task_id"))
    columns: dict[str, pd.Series] = {}
    for scale, name in RATING_SCALES.items():
        rows = long[long["scale"] == scale]
        for part in ("", "_lower", "_upper"):
            columns[f"{name}{part}"] = rows[part]
    return pd.DataFrame(columns)


def _check_rating_owner(raw: pd.DataFrame, task_id: pd.Series, owner: dict[int, str]) -> None:
    """A rating must name the occupation its task belongs to."""
    expected = task_id.astype(int).map(owner)
    wrong = (raw[CODE].str.strip() != expected).to_numpy(dtype=bool)
    if wrong.any():
        row = int(raw.index[wrong][0])
        raise DataError(
            TASK_RATINGS,
            f"got {cell(raw, row, CODE)!r} for Task ID {int(str(task_id.at[row]))}, expected "
            f"{expected.at[row]!r} as in {TASK_STATEMENTS}",
            row=row,
            field=CODE,
        )


def read_iwas(path: Path) -> pd.DataFrame:
    """IWA Reference: ``iwa_id, iwa_title, gwa_id, gwa_title`` (one row per IWA)."""
    raw = _read(path, required=("Element ID", "Element Name", "IWA ID", "IWA Title"))
    for column in ("Element ID", "IWA ID", "IWA Title"):
        check_not_empty(raw, column, expected=f"an {column}")
    check_unique(raw, ["IWA ID"], what="IWA ID")
    return finish(
        {
            "iwa_id": raw["IWA ID"].str.strip().astype(STRING),
            "iwa_title": to_string(raw, "IWA Title", empty_is_null=False),
            "gwa_id": raw["Element ID"].str.strip().astype(STRING),
            "gwa_title": to_string(raw, "Element Name", empty_is_null=False),
        }
    )


def read_dwas(path: Path, *, iwa_ids: set[str]) -> pd.DataFrame:
    """DWA Reference: ``dwa_id, dwa_title, iwa_id, text_sha256`` (one row per DWA)."""
    raw = _read(path, required=("IWA ID", "DWA ID", "DWA Title"))
    check_not_empty(raw, "DWA ID", expected="a DWA ID")
    check_not_empty(raw, "DWA Title", expected="a DWA title")
    check_unique(raw, ["DWA ID"], what="DWA ID")
    check_known(raw, "IWA ID", iwa_ids, reference=IWA_REFERENCE)
    return finish(
        {
            "dwa_id": raw["DWA ID"].str.strip().astype(STRING),
            "dwa_title": to_string(raw, "DWA Title", empty_is_null=False),
            "iwa_id": raw["IWA ID"].str.strip().astype(STRING),
            "text_sha256": raw["DWA Title"].map(text_sha256).astype(STRING),
        }
    )


def read_task_dwas(path: Path, *, task_ids: set[int], dwa_ids: set[str]) -> pd.DataFrame:
    """Tasks to DWAs: ``task_id, dwa_id, date, domain_source`` (one row per link)."""
    raw = _read(
        path,
        required=(CODE, "Task ID", "DWA ID"),
        optional=("Date", "Domain Source"),
    )
    task_id = to_int(raw, "Task ID")
    check_known(raw, "Task ID", task_ids, reference=TASK_STATEMENTS, values=task_id)
    check_known(raw, "DWA ID", dwa_ids, reference=DWA_REFERENCE)
    check_unique(raw, ["Task ID", "DWA ID"], what="(Task ID, DWA ID) pair")
    return finish(
        {
            "task_id": task_id,
            "dwa_id": raw["DWA ID"].str.strip().astype(STRING),
            "date": to_string(raw, "Date"),
            "domain_source": to_string(raw, "Domain Source"),
        }
    )


def read_emerging_tasks(path: Path, *, occupation_codes: set[str]) -> pd.DataFrame:
    """Emerging Tasks, numbered 1.. in file order (``emerging_id``).

    ``Original Task ID`` is written as a float in the release (``21280.0``); it becomes
    ``Int64``, NULL for new tasks.
    """
    raw = _read(
        path,
        required=(CODE, "Task", "Category"),
        optional=("Original Task ID", "Original Task", "Date", "Domain Source"),
    )
    check_known(raw, CODE, occupation_codes, reference=OCCUPATION_DATA)
    check_not_empty(raw, "Task", expected="a task statement")
    check_in(raw, "Category", EMERGING_CATEGORIES, expected="'New' or 'Revision'")
    original = to_int(raw, "Original Task ID", allow_empty=True, allow_integral_float=True)
    return finish(
        {
            "emerging_id": pd.Series(range(1, len(raw) + 1), index=raw.index, dtype="Int64"),
            "onet_soc_code": raw[CODE].str.strip().astype(STRING),
            "task": to_string(raw, "Task", empty_is_null=False),
            "category": to_string(raw, "Category", empty_is_null=False),
            "original_task_id": original,
            "original_task": to_string(raw, "Original Task"),
            "date": to_string(raw, "Date"),
            "domain_source": to_string(raw, "Domain Source"),
            "text_sha256": raw["Task"].map(text_sha256).astype(STRING),
        }
    )
