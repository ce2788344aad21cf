"""A tiny, consistent release of every ingested source, written by tests into a folder.

``write_fixture_release(root)`` lays the files out as ``jobimpact fetch`` does, under
``root/raw/<source>/<version>/``, so a test can point ``data_dir`` at ``root``. Import it
with ``from fixtures import write_fixture_release`` (pytest puts ``tests/`` on the path).

What the fixture holds, and what a correct ingest makes of it:

- 11 O*NET-SOC occupations in 4 SOC major groups (11, 13, 15, 45); 8 have task statements
  (12 tasks, 11 rated; task 21601 is new and unrated).
- 11-1011.00 and 11-1011.03 share SOC 11-1011 (both have tasks: half of OEWS each).
- 13-1021/13-1022/13-1023 are published by OEWS only as the aggregate 13-1020, which OEWS
  lists twice (broad and detailed, same figures) as the real file does; 13-1023.00 has no
  tasks, so it gets a share of 0 and the other two half each.
- 15-1253 has a suppressed TOT_EMP (``**``); 15-1252's TOT_EMP has a thousands separator;
  15-1255 (two occupations, neither with tasks) has no annual wage (``*``): split among all.
- 45-3031 (fishers) is not covered by OEWS: no match.
- Task texts include Excel-style quoted quotes and non-ASCII characters.

Corrupt a copy with ``overrides`` / ``omit``, or edit a written file with
:func:`replace_in_file` and :func:`append_line`.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

Table = tuple[list[str], list[list[str]]]

# The data mirror beside the checkout (also there in CI); tests that need it skip without it.
MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"
ONET_VERSION = "29.3"
OEWS_VERSION = "M2024"
CROSSWALK_VERSION = "2019"
SOC_VERSION = "2018"
OEWS_FILE = f"national_{OEWS_VERSION}_dl.csv"
CROSSWALK_FILE = "onet_soc_2019_to_soc_2018.csv"
SOC_FILE = "soc_structure_2018.csv"
BASELINE_VERSION = "20.1"
BASELINE_FILE = "baseline/Task Statements.txt"  # key of the baseline release's file
TAXONOMY_VERSION = "2019"
TAXONOMY_FILE = "onet_soc_2010_to_2019.csv"

CODE = "O*NET-SOC Code"

OCCUPATIONS: list[list[str]] = [
    ["11-1011.00", "Chief Executives", "Determine and formulate policies."],
    ["11-1011.03", "Chief Sustainability Officers", "Coordinate sustainability work."],
    ["11-1021.00", "General and Operations Managers", "Plan and direct operations."],
    ["13-1021.00", "Buyers and Purchasing Agents, Farm Products", "Buy farm products."],
    ["13-1022.00", "Wholesale and Retail Buyers, Except Farm Products", "Buy goods for resale."],
    [
        "13-1023.00",
        "Purchasing Agents, Except Wholesale, Retail, and Farm Products",
        "Purchase supplies.",
    ],
    ["15-1252.00", "Software Developers", "Design and build software."],
    ["15-1253.00", "Software Quality Assurance Analysts and Testers", "Test software."],
    ["15-1255.00", "Web and Digital Interface Designers", "Design websites."],
    ["15-1255.01", "Video Game Designers", "Design video games."],
    ["45-3031.00", "Fishing and Hunting Workers", "Catch fish and hunt animals."],
]
TITLES = {code: title for code, title, _ in OCCUPATIONS}

# code, Task ID, Task, Task Type, Incumbents Responding, Date
_TASKS: list[list[str]] = [
    ["11-1011.00", "8823", "Direct financial or budget activities.", "Core", "95.0", "08/2023"],
    ["11-1011.00", "8824", "Confer with board members.", "Core", "95.0", "08/2023"],
    ["11-1011.00", "8827", "Prepare budgets for approval.", "Supplemental", "95.0", "08/2023"],
    ["11-1011.03", "19598", 'Identify "green" opportunities.', "Core", "28.0", "08/2021"],
    ["11-1021.00", "2007", "Oversee daily operations.", "Core", "111.0", "08/2023"],
    ["13-1021.00", "2236", "Purchase farm products for resale.", "Core", "30.0", "07/2016"],
    [
        "13-1022.00",
        "2242",
        "Négocier — negotiate with suppliers’ agents.",
        "Core",
        "40.0",
        "07/2016",
    ],
    ["15-1252.00", "16363", "Analyze user needs.", "Core", "60.0", "08/2022"],
    [
        "15-1252.00",
        "16987",
        "Modify software to correct errors.",
        "Supplemental",
        "60.0",
        "08/2022",
    ],
    ["15-1253.00", "21600", "Design test plans.", "Core", "22.0", "08/2022"],
    ["15-1253.00", "21601", "Document software defects.", "", "", "05/2025"],
    ["45-3031.00", "5670", "Locate fish with sonar.", "Core", "12.0", "06/2014"],
]
_TASK_HEADER = "Title\tTask ID\tTask\tTask Type\tIncumbents Responding\tDate\tDomain Source"
TASK_STATEMENTS: Table = (
    [CODE, *_TASK_HEADER.split("\t")],
    [
        [c, TITLES[c], tid, text, kind, n, date, "Analyst" if not kind else "Incumbent"]
        for c, tid, text, kind, n, date in _TASKS
    ],
)

# Task ID -> (IM mean, lower, upper, RT mean, lower, upper); 8824's IM has no bounds.
RATINGS: dict[str, tuple[str, str, str, str, str, str]] = {
    "8823": ("4.52", "4.3146", "4.735", "74.44", "57.6139", "86.1881"),
    "8824": ("4.32", "", "", "100.00", "100.0", "100.0"),
    "8827": ("3.10", "2.8", "3.4", "40.5", "30.1", "51.0"),
    "19598": ("4.00", "3.7", "4.3", "88.0", "70.0", "96.0"),
    "2007": ("4.80", "4.6", "5.0", "99.1", "95.0", "100.0"),
    "2236": ("4.10", "3.9", "4.3", "90.0", "80.0", "95.0"),
    "2242": ("3.90", "3.6", "4.2", "85.0", "75.0", "92.0"),
    "16363": ("4.60", "4.4", "4.8", "97.0", "90.0", "99.0"),
    "16987": ("3.20", "3.0", "3.4", "55.0", "45.0", "65.0"),
    "21600": ("4.20", "4.0", "4.4", "93.0", "85.0", "97.0"),
    "5670": ("3.50", "3.2", "3.8", "70.0", "60.0", "80.0"),
}
_OWNER = {row[1]: row[0] for row in _TASKS}

# The baseline release (O*NET 20.1, 2010 taxonomy) and what each current task is against it:
#   8823, 2007, 2236, 2242, 5670: established (same Task ID)
#   8824: renumbered (same text as baseline task 7001 of the same occupation)
#   8827: revised (near-duplicate of baseline task 7002, "Prepare budgets for the approval")
#   19598: new (11-1011.03 existed, with another task)
#   16363: renumbered (text of a task of 15-1132.00, its 2010 predecessor)
#   16987: new (nothing like it in 15-1132.00)
#   21600, 21601: new occupation (15-1253.00's predecessor 15-1199.01 had no tasks)
TASK_HISTORY = {
    8823: "established", 2007: "established", 2236: "established", 2242: "established",
    5670: "established", 8824: "renumbered", 8827: "revised", 19598: "new",
    16363: "renumbered", 16987: "new", 21600: "new occupation", 21601: "new occupation",
}  # fmt: skip
_BASELINE_ROWS = [
    ("11-1011.00", "8823", "Direct financial or budget activities."),
    ("11-1011.00", "7001", "Confer with board members."),
    ("11-1011.00", "7002", "Prepare budgets for the approval."),
    ("11-1011.03", "7003", "Track carbon emissions."),
    ("11-1021.00", "2007", "Oversee daily operations."),
    ("13-1021.00", "2236", "Purchase farm products for resale."),
    ("13-1022.00", "2242", "Negotiate with suppliers."),
    ("15-1132.00", "7004", "Analyze user needs"),
    ("45-3031.00", "5670", "Locate fish with sonar."),
]
BASELINE_TASKS: Table = (
    [CODE, "Task ID", "Task", "Task Type", "Incumbents Responding", "Date", "Domain Source"],
    [[code, tid, text, "Core", "30", "07/2014", "Incumbent"] for code, tid, text in _BASELINE_ROWS],
)
TAXONOMY: Table = (
    ["O*NET-SOC 2010 Code", "O*NET-SOC 2010 Title", "O*NET-SOC 2019 Code", "O*NET-SOC 2019 Title"],
    [
        [code, TITLES[code], code, TITLES[code]]
        for code in TITLES
        if code not in ("15-1252.00", "15-1253.00")
    ]
    + [
        ["15-1132.00", "Software Developers, Applications", "15-1252.00", TITLES["15-1252.00"]],
        ["15-1199.01", "Software Quality Assurance Engineers", "15-1253.00", TITLES["15-1253.00"]],
    ],
)


def _rating_rows() -> list[list[str]]:
    """IM and RT rows of every rated task, plus frequency rows that ingest must skip."""
    rows = []
    for tid, (im, im_lo, im_hi, rt, rt_lo, rt_hi) in RATINGS.items():
        code = _OWNER[tid]
        rows.append([code, tid, "IM", "n/a", im, "", "", im_lo, im_hi, "", "", ""])
        rows.append([code, tid, "RT", "n/a", rt, "", "", rt_lo, rt_hi, "", "", ""])
    for category in ("1", "2", "3"):
        rows.append(["11-1011.00", "8823", "FT", category, "33.3", "", "", "", "", "", "", ""])
    return rows


_RATING_HEADER = (
    "Task ID\tScale ID\tCategory\tData Value\tN\tStandard Error\tLower CI Bound\t"
    "Upper CI Bound\tRecommend Suppress\tDate\tDomain Source"
)
TASK_RATINGS: Table = ([CODE, *_RATING_HEADER.split("\t")], _rating_rows())

_GWA = {
    "4.A.4.b.4": "Guiding, Directing, and Motivating Subordinates",
    "4.A.4.a.2": "Communicating with Supervisors, Peers, or Subordinates",
    "4.A.3.b.1": "Working with Computers",
}
_IWAS = [
    ("4.A.4.b.4", "4.A.4.b.4.I09", "Direct financial operations or activities."),
    ("4.A.4.a.2", "4.A.4.a.2.I03", "Confer with others about operational activities."),
    ("4.A.3.b.1", "4.A.3.b.1.I06", "Program computer systems or production equipment."),
]
_DWAS = [
    ("4.A.4.b.4.I09", "4.A.4.b.4.I09.D02", "Direct financial operations."),
    ("4.A.4.a.2.I03", "4.A.4.a.2.I03.D14", "Confer with organizational members."),
    ("4.A.3.b.1.I06", "4.A.3.b.1.I06.D01", "Modify software programs to improve performance."),
    ("4.A.3.b.1.I06", "4.A.3.b.1.I06.D04", "Test software performance."),
]
IWA_REFERENCE: Table = (
    ["Element ID", "Element Name", "IWA ID", "IWA Title"],
    [[gwa, _GWA[gwa], iwa, title] for gwa, iwa, title in _IWAS],
)
DWA_REFERENCE: Table = (
    ["Element ID", "Element Name", "IWA ID", "IWA Title", "DWA ID", "DWA Title"],
    [
        [iwa[:9], _GWA[iwa[:9]], iwa, next(t for _, i, t in _IWAS if i == iwa), dwa, title]
        for iwa, dwa, title in _DWAS
    ],
)
_LINKS = [
    ("8823", "4.A.4.b.4.I09.D02"),
    ("8824", "4.A.4.a.2.I03.D14"),
    ("16363", "4.A.3.b.1.I06.D01"),
    ("16987", "4.A.3.b.1.I06.D01"),
    ("21600", "4.A.3.b.1.I06.D04"),
]
_TEXT = {row[1]: row[2] for row in _TASKS}
_DWA_TITLE = {dwa: title for _, dwa, title in _DWAS}
TASKS_TO_DWAS: Table = (
    [CODE, "Title", "Task ID", "Task", "DWA ID", "DWA Title", "Date", "Domain Source"],
    [
        [_OWNER[t], TITLES[_OWNER[t]], t, _TEXT[t], d, _DWA_TITLE[d], "03/2014", "Analyst"]
        for t, d in _LINKS
    ],
)
_EMERGING_HEADER = "Title\tTask\tCategory\tOriginal Task ID\tOriginal Task\tDate\tDomain Source"
EMERGING_TASKS: Table = (
    [CODE, *_EMERGING_HEADER.split("\t")],
    [
        [
            "11-1011.00",
            "Chief Executives",
            "Oversee the use of generative AI tools.",
            "New",
            "",
            "",
            "08/2024",
            "Incumbent",
        ],
        [
            "15-1252.00",
            "Software Developers",
            "Modify software to correct errors and improve performance.",
            "Revision",
            "16987.0",
            "Modify software to correct errors.",
            "08/2024",
            "Incumbent",
        ],
    ],
)
_ZONES = {
    "11-1011.00": "5",
    "11-1011.03": "5",
    "11-1021.00": "4",
    "13-1021.00": "3",
    "13-1022.00": "3",
    "15-1252.00": "4",
    "15-1253.00": "4",
    "15-1255.00": "4",
    "45-3031.00": "1",
}  # 13-1023.00 and 15-1255.01 have no job zone
JOB_ZONES: Table = (
    [CODE, "Title", "Job Zone", "Date", "Domain Source"],
    [[code, TITLES[code], zone, "08/2023", "Analyst"] for code, zone in _ZONES.items()],
)
OCCUPATION_DATA: Table = ([CODE, "Title", "Description"], OCCUPATIONS)

ONET_FILES: dict[str, Table] = {
    "Task Statements.txt": TASK_STATEMENTS,
    "Occupation Data.txt": OCCUPATION_DATA,
    "Task Ratings.txt": TASK_RATINGS,
    "Tasks to DWAs.txt": TASKS_TO_DWAS,
    "DWA Reference.txt": DWA_REFERENCE,
    "IWA Reference.txt": IWA_REFERENCE,
    "Emerging Tasks.txt": EMERGING_TASKS,
    "Job Zones.txt": JOB_ZONES,
}

CROSSWALK: Table = (
    ["O*NET-SOC 2019 Code", "O*NET-SOC 2019 Title", "2018 SOC Code", "2018 SOC Title"],
    [[code, title, code[:7], title] for code, title, _ in OCCUPATIONS],
)

# (level column 0..3, code, title)
SOC_GROUPS: list[tuple[int, str, str]] = [
    (0, "11-0000", "Management Occupations"),
    (1, "11-1000", "Top Executives"),
    (2, "11-1010", "Chief Executives"),
    (3, "11-1011", "Chief Executives"),
    (2, "11-1020", "General and Operations Managers"),
    (3, "11-1021", "General and Operations Managers"),
    (0, "13-0000", "Business and Financial Operations Occupations"),
    (1, "13-1000", "Business Operations Specialists"),
    (2, "13-1020", "Buyers and Purchasing Agents"),
    (3, "13-1021", "Buyers and Purchasing Agents, Farm Products"),
    (3, "13-1022", "Wholesale and Retail Buyers, Except Farm Products"),
    (3, "13-1023", "Purchasing Agents, Except Wholesale, Retail, and Farm Products"),
    (0, "15-0000", "Computer and Mathematical Occupations"),
    (1, "15-1200", "Computer Occupations"),
    (2, "15-1250", "Software and Web Developers, Programmers, and Testers"),
    (3, "15-1252", "Software Developers"),
    (3, "15-1253", "Software Quality Assurance Analysts and Testers"),
    (3, "15-1255", "Web and Digital Interface Designers"),
    (0, "45-0000", "Farming, Fishing, and Forestry Occupations"),
    (1, "45-3000", "Fishing and Hunting Workers"),
    (2, "45-3030", "Fishing and Hunting Workers"),
    (3, "45-3031", "Fishing and Hunting Workers"),
]
# The title block the BLS workbook (and so the mirror's CSV) has above the header.
SOC_PREAMBLE: list[list[str]] = [
    ["U.S. Bureau of Labor Statistics", "Unnamed: 1", "Unnamed: 2", "Unnamed: 3", "Unnamed: 4"],
    ["On behalf of the Office of Management and Budget (OMB)", "", "", "", ""],
    ["", "", "", "", ""],
    ["November 2017 (for reference year January 2018)", "", "", "", ""],
]
SOC_STRUCTURE: Table = (
    ["Major Group", "Minor Group", "Broad Group", "Detailed Occupation", ""],
    [[code if i == level else "" for i in range(4)] + [title] for level, code, title in SOC_GROUPS],
)

_OEWS_HEADER = (
    "AREA,AREA_TITLE,AREA_TYPE,PRIM_STATE,NAICS,NAICS_TITLE,I_GROUP,OWN_CODE,OCC_CODE,"
    "OCC_TITLE,O_GROUP,TOT_EMP,EMP_PRSE,JOBS_1000,LOC_QUOTIENT,PCT_TOTAL,PCT_RPT,H_MEAN,"
    "A_MEAN,MEAN_PRSE,H_PCT10,H_PCT25,H_MEDIAN,H_PCT75,H_PCT90,A_PCT10,A_PCT25,A_MEDIAN,"
    "A_PCT75,A_PCT90,ANNUAL,HOURLY"
)
OEWS_HEADER = _OEWS_HEADER.split(",")
# code, O_GROUP, then TOT_EMP EMP_PRSE H_MEAN A_MEAN H_MEDIAN A_MEDIAN (space-separated).
# 13-1020 is listed twice (broad and detailed) as in the real file.
OEWS_ROWS: list[tuple[str, str, str]] = [
    ("00-0000", "total", "1000000 0.0 28.85 60000 23.08 48000"),
    ("11-0000", "major", "300000 0.2 70.0 145600 55.0 114400"),
    ("11-1000", "minor", "300000 0.3 70.0 145600 55.0 114400"),
    ("11-1010", "broad", "200000 1.2 120.19 250000 # #"),
    ("11-1011", "detailed", "200000 1.2 120.19 250000 # #"),
    ("11-1020", "broad", "100000 0.4 57.69 120000 48.08 100000"),
    ("11-1021", "detailed", "100000 0.4 57.69 120000 48.08 100000"),
    ("13-0000", "major", "150000 0.3 38.46 80000 36.06 75000"),
    ("13-1000", "minor", "150000 0.3 38.46 80000 36.06 75000"),
    ("13-1020", "broad", "150000 0.8 38.46 80000 36.06 75000"),
    ("13-1020", "detailed", "150000 0.8 38.46 80000 36.06 75000"),
    ("15-0000", "major", "500000 0.5 62.5 130000 57.69 120000"),
    ("15-1200", "minor", "500000 0.5 62.5 130000 57.69 120000"),
    ("15-1250", "broad", "500000 0.5 62.5 130000 57.69 120000"),
    ("15-1252", "detailed", "400,000 0.6 67.31 140000 62.5 130000"),
    ("15-1253", "detailed", "** ** 48.08 100000 47.12 98000"),
    ("15-1255", "detailed", "50000 2.1 45.5 * 40.0 *"),
]
OEWS_TITLES = {"00-0000": "All Occupations", **{code: title for _, code, title in SOC_GROUPS}}


def _oews_rows() -> list[list[str]]:
    """Full OEWS rows (32 columns) from the short form above."""
    rows = []
    figures = ("TOT_EMP", "EMP_PRSE", "H_MEAN", "A_MEAN", "H_MEDIAN", "A_MEDIAN")
    for code, group, values in OEWS_ROWS:
        row = dict.fromkeys(OEWS_HEADER, "")
        row.update(AREA="99", AREA_TITLE="U.S.", AREA_TYPE="1", PRIM_STATE="US", NAICS="0")
        row.update(NAICS_TITLE="Cross-industry", I_GROUP="cross-industry", OWN_CODE="1235")
        row.update(OCC_CODE=code, OCC_TITLE=OEWS_TITLES[code], O_GROUP=group)
        row.update(zip(figures, values.split(), strict=True))
        if row["A_MEAN"] == "*":
            row["HOURLY"] = "True"
        rows.append([row[name] for name in OEWS_HEADER])
    return rows


OEWS: Table = (OEWS_HEADER, _oews_rows())


@dataclass(frozen=True)
class FixturePaths:
    """Where :func:`write_fixture_release` put each source."""

    data_dir: Path
    onet_dir: Path
    oews: Path
    crosswalk: Path
    soc_structure: Path
    baseline: Path
    taxonomy: Path

    def onet(self, name: str) -> Path:
        """Path of one O*NET file, e.g. ``paths.onet("Task Statements.txt")``."""
        return self.onet_dir / name

    def file(self, name: str) -> Path:
        """Path of any fixture file by its name (O*NET, OEWS, crosswalk or SOC file)."""
        named = {
            self.oews.name: self.oews,
            self.crosswalk.name: self.crosswalk,
            self.soc_structure.name: self.soc_structure,
            BASELINE_FILE: self.baseline,
            self.taxonomy.name: self.taxonomy,
        }
        return named.get(name, self.onet_dir / name)


def table_text(table: Table, *, delimiter: str, preamble: list[list[str]] | None = None) -> str:
    """A table as delimited text, quoted as Excel writes it, lines ending in a newline."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerows(preamble or [])
    header, rows = table
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def fixture_texts() -> dict[str, str]:
    """File name -> text of every file of the fixture release."""
    texts = {name: table_text(table, delimiter="\t") for name, table in ONET_FILES.items()}
    texts[OEWS_FILE] = table_text(OEWS, delimiter=",")
    texts[CROSSWALK_FILE] = table_text(CROSSWALK, delimiter=",")
    texts[SOC_FILE] = table_text(SOC_STRUCTURE, delimiter=",", preamble=SOC_PREAMBLE)
    texts[BASELINE_FILE] = table_text(BASELINE_TASKS, delimiter="\t")
    texts[TAXONOMY_FILE] = table_text(TAXONOMY, delimiter=",")
    return texts


def write_fixture_release(
    root: Path,
    *,
    overrides: Mapping[str, str | bytes] | None = None,
    omit: Collection[str] = (),
) -> FixturePaths:
    """Write the fixture release under ``root/raw/<source>/<version>/``.

    Parameters
    ----------
    root
        The data folder (``data_dir``) to write into; created if needed.
    overrides
        File name -> text (or raw bytes) to write instead of the fixture's content.
    omit
        File names not to write.

    Returns
    -------
    FixturePaths
        The paths of the sources.
    """
    raw = root / "raw"
    paths = FixturePaths(
        data_dir=root,
        onet_dir=raw / "onet" / ONET_VERSION,
        oews=raw / "oews" / OEWS_VERSION / OEWS_FILE,
        crosswalk=raw / "onet_soc_crosswalk" / CROSSWALK_VERSION / CROSSWALK_FILE,
        soc_structure=raw / "soc_structure" / SOC_VERSION / SOC_FILE,
        baseline=raw / "onet_baseline" / BASELINE_VERSION / "Task Statements.txt",
        taxonomy=raw / "onet_soc_2010_crosswalk" / TAXONOMY_VERSION / TAXONOMY_FILE,
    )
    contents: dict[str, str | bytes] = {**fixture_texts(), **(overrides or {})}
    for name, content in contents.items():
        if name in omit:
            continue
        path = paths.file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    paths.onet_dir.mkdir(parents=True, exist_ok=True)
    return paths


def replace_in_file(path: Path, old: str, new: str, *, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in a written fixture file; fails if ``old`` is absent."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8", newline="")


def append_line(path: Path, line: str) -> None:
    """Append one line (a newline is added) to a written fixture file."""
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(line + "\n")


def query_rows(db: Path, query: str) -> list[tuple[object, ...]]:
    """Rows of a query on a store, opened read-only and closed again."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


# The CLI in a process of its own, with a backend 'slow-fake': the fake scorer taking
# $SLOW_FAKE_SECONDS per batch, so that another process can act while a run is scoring.
SLOW_CLI = """
import os, sys, time
from jobimpact import register_backend
from jobimpact.cli import main
from jobimpact.scoring.fake import FakeScorer


@register_backend("slow-fake")
class SlowFake(FakeScorer):
    def score_batch(self, items):
        time.sleep(float(os.environ.get("SLOW_FAKE_SECONDS", "0.5")))
        return super().score_batch(items)


sys.argv[0] = "jobimpact"
main()
"""


def cli_process(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``jobimpact ARGS`` started in a subprocess (with the 'slow-fake' backend), its
    stdout and stderr piped as text."""
    environ = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_CLI, *args],
        env={**environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
