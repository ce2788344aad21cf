"""Tests of jobimpact.sources: fetching from mirrors and official-style URLs, checks, manifests.

A real http.server on 127.0.0.1 serves a tiny mirror written by the tests; no network.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from click.testing import CliRunner

from jobimpact.cli import cli
from jobimpact.errors import ConfigError, DataError, FetchError
from jobimpact.sources import SOURCES, fetch, get_source, read_manifest, transport, verify
from jobimpact.sources import onet as onet_source

# --- a tiny mirror laid out like shared/data ---------------------------------------------

Table = tuple[list[str], list[list[str]]]

_CODE = "O*NET-SOC Code"
_ONET: dict[str, Table] = {
    "Task Statements.txt": (
        [
            _CODE,
            "Title",
            "Task ID",
            "Task",
            "Task Type",
            "Incumbents Responding",
            "Date",
            "Domain Source",
        ],
        [
            [
                "11-1011.00",
                "Chief Executives",
                "8823",
                "Direct budget activities.",
                "Core",
                "95.0",
                "08/2023",
                "Incumbent",
            ],
            [
                "11-1031.00",
                "Legislators",
                "15287",
                'Conduct "head counts"\tbefore votes.',
                "",
                "",
                "06/2006",
                "Analyst",
            ],
            [
                "15-1252.00",
                "Software Developers",
                "16363",
                "Write code.",
                "Core",
                "40.0",
                "08/2023",
                "Incumbent",
            ],
        ],
    ),
    "Occupation Data.txt": (
        [_CODE, "Title", "Description"],
        [["11-1011.00", "Chief Executives", "Lead."], ["11-1031.00", "Legislators", "Vote."]],
    ),
    "Task Ratings.txt": (
        [
            _CODE,
            "Task ID",
            "Scale ID",
            "Category",
            "Data Value",
            "N",
            "Standard Error",
            "Lower CI Bound",
            "Upper CI Bound",
            "Recommend Suppress",
            "Date",
            "Domain Source",
        ],
        [["11-1011.00", "8823", "IM", "n/a", "4.52", "", "", "4.31", "4.73", "", "", ""]],
    ),
    "Tasks to DWAs.txt": (
        [_CODE, "Title", "Task ID", "Task", "DWA ID", "DWA Title", "Date", "Domain Source"],
        [
            [
                "11-1011.00",
                "Chief Executives",
                "8823",
                "Direct budget activities.",
                "4.A.1.a.1.I01.D01",
                "Review art.",
                "07/2014",
                "Analyst",
            ]
        ],
    ),
    "DWA Reference.txt": (
        ["Element ID", "Element Name", "IWA ID", "IWA Title", "DWA ID", "DWA Title"],
        [
            [
                "4.A.1.a.1",
                "Getting Information",
                "4.A.1.a.1.I01",
                "Study.",
                "4.A.1.a.1.I01.D01",
                "Review art.",
            ]
        ],
    ),
    "IWA Reference.txt": (
        ["Element ID", "Element Name", "IWA ID", "IWA Title"],
        [["4.A.1.a.1", "Getting Information", "4.A.1.a.1.I01", "Study."]],
    ),
    "Emerging Tasks.txt": (
        [
            _CODE,
            "Title",
            "Task",
            "Category",
            "Original Task ID",
            "Original Task",
            "Date",
            "Domain Source",
        ],
        [
            [
                "11-3013.00",
                "Facilities Managers",
                "Review payroll.",
                "New",
                "",
                "",
                "08/2024",
                "Incumbent",
            ]
        ],
    ),
    "Job Zones.txt": (
        [_CODE, "Title", "Job Zone", "Date", "Domain Source"],
        [
            ["11-1011.00", "Chief Executives", "5", "08/2023", "Analyst"],
            ["11-1031.00", "Legislators", "4", "08/2023", "Analyst"],
        ],
    ),
}
_OEWS: Table = (
    ["AREA", "OCC_CODE", "OCC_TITLE", "O_GROUP", "TOT_EMP", "A_MEAN", "A_MEDIAN"],
    [
        ["99", "00-0000", "All Occupations", "total", "154187380", "67920", "49500"],
        ["99", "11-1011", "Chief Executives", "detailed", "211230", "258900", "#"],
        ["99", "53-7121", "Tank Car, Truck, and Ship Loaders", "detailed", "10920", "60010.5", ""],
    ],
)
_CROSSWALK: Table = (
    ["O*NET-SOC 2019 Code", "O*NET-SOC 2019 Title", "2018 SOC Code", "2018 SOC Title"],
    [
        ["11-1011.00", "Chief Executives", "11-1011", "Chief Executives"],
        ["11-1011.03", "Chief Sustainability Officers", "11-1011", "Chief Executives"],
    ],
)
_SOC_PREAMBLE = [["U.S. Bureau of Labor Statistics", "", "", "", ""], ["", "", "", "", ""]]
_SOC: Table = (
    ["Major Group", "Minor Group", "Broad Group", "Detailed Occupation", ""],
    [
        ["11-0000", "", "", "", "Management Occupations"],
        ["", "11-1000", "", "", "Top Executives"],
        ["", "", "", "11-1011", "Chief Executives"],
    ],
)
_LABEL_KEY = [_CODE, "Task ID", "Task", "Task Type", "Title"]
_FULL: Table = (
    ["Unnamed: 0", *_LABEL_KEY, "human_exposure_agg", "gpt4_exposure", "alpha", "beta"],
    [
        [
            "0",
            "11-1011.00",
            "8823.0",
            "Direct budget activities.",
            "Core",
            "Chief Executives",
            "E0",
            "E2",
            "0.0",
            "0.5",
        ]
    ],
)
_AUTOMATION: Table = (
    ["gpt4_automation", *_LABEL_KEY, "human_automation"],
    [["T2", "11-1011.00", "8823", "Direct budget activities.", "Core", "Chief Executives", "T2"]],
)

_BASELINE: Table = (
    [_CODE, "Task ID", "Task", "Task Type", "Incumbents Responding", "Date", "Domain Source"],
    [["11-1011.00", "8823", "Direct budget activities.", "Core", "87", "07/2014", "Incumbent"]],
)
_MODES: Table = (
    ["task_name", "feedback_loop", "directive", "task_iteration", "validation", "learning",
     "filtered"],
    [["direct budget activities.", "0.1", "0.2", "0.3", "0.1", "0.1", "0.2"]],
)  # fmt: skip
_USAGE: Table = (["task_name", "pct"], [["direct budget activities.", "0.01"]])
_AEI_DIR = "aei/release_2025_03_27"
_CROSSWALK_2010: Table = (
    ["O*NET-SOC 2010 Code", "O*NET-SOC 2010 Title", "O*NET-SOC 2019 Code", "O*NET-SOC 2019 Title"],
    [["11-1011.00", "Chief Executives", "11-1011.00", "Chief Executives"]],
)
_FREY_OSBORNE: Table = (
    ["Rank", "Probability", "Label", "SOC code", "Occupation", "2010 SOC Code", "2018 SOC Code"],
    [["1", "0.015", "", "11-1011", "Chief executives", "11-1011", "11-1011"]],
)
_APPLICABILITY: Table = (
    ["SOC Code", "title", "ai_applicability_score"],
    [["11-1011", "Chief Executives", "0.155"], ["53-7121", "Tank Car Loaders", "0.02"]],
)
_OCC_LEVEL: Table = (
    ["O*NET-SOC Code", "Title", "dv_rating_beta", "human_rating_beta"],
    [["11-1011.00", "Chief Executives", "0.46", "0.35"]],
)
# The AIOE workbook: the industry sheet first, so the occupation sheet is found by name.
_AIOE_SHEETS: dict[str, Table] = {
    "LM AIIE": (
        ["NAICS", "NAICS Description", "Language Modeling AIIE"],
        [["611100", "Schools", "1.4"]],
    ),
    "LM AIOE": (
        ["SOC Code", "Occupation Title", "Language Modeling AIOE"],
        [["11-1011", "Chief Executives", "1.308912"], ["53-7121", "Tank Car Loaders", "-1.4"]],
    ),
}
_AIOE = "measures/aioe/Language Modeling AIOE and AIIE.xlsx"

_ONET_DIR = "onet/db_29_3_text"
_TABLES: dict[str, Table] = {
    **{f"{_ONET_DIR}/{name}": table for name, table in _ONET.items()},
    "bls/oews/national_M2024_dl.csv": _OEWS,
    "crosswalks/onet_soc_2019_to_soc_2018.csv": _CROSSWALK,
    "labels/gpts-are-gpts/full_labelset.tsv": _FULL,
    "labels/gpts-are-gpts/automation_gpt4_human_labels.tsv": _AUTOMATION,
    "onet/db_20_1_text/Task Statements.txt": _BASELINE,
    f"{_AEI_DIR}/automation_vs_augmentation_by_task.csv": _MODES,
    f"{_AEI_DIR}/task_pct_v2.csv": _USAGE,
    "crosswalks/onet_soc_2010_to_2019.csv": _CROSSWALK_2010,
    "measures/frey-osborne/automation_risk_soc2018.csv": _FREY_OSBORNE,
    "measures/ms-working-with-ai/soc_ai_applicability_scores.csv": _APPLICABILITY,
    "measures/gpts-are-gpts/occ_level.csv": _OCC_LEVEL,
}
_TEXTS = {
    f"{_ONET_DIR}/Read Me.txt": "O*NET 29.3 Database (test fixture)\n",
    "labels/gpts-are-gpts/LICENSE": "MIT License (test fixture)\n",
}


def _delimited(rows: list[list[str]], delimiter: str) -> str:
    """Rows as CSV/TSV text quoted the way the mirror is."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _workbook(sheets: dict[str, Table]) -> bytes:
    """A workbook with one sheet per table, numbers stored as numbers."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append([_numeric(cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _delimiter(path: str) -> str:
    return "\t" if path.endswith((".txt", ".tsv")) else ","


def write_mirror(root: Path) -> dict[str, int]:
    """Write the tiny mirror under ``root``; return the data-row count per relative path."""
    counts = {}
    for rel, (header, rows) in _TABLES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(_delimited([header, *rows], _delimiter(rel)), encoding="utf-8")
        counts[rel] = len(rows)
    soc = root / "crosswalks/soc_structure_2018.csv"
    soc.write_text(_delimited([*_SOC_PREAMBLE, _SOC[0], *_SOC[1]], ","), encoding="utf-8")
    counts["crosswalks/soc_structure_2018.csv"] = len(_SOC[1])
    for rel, text in _TEXTS.items():
        (root / rel).write_text(text, encoding="utf-8")
    (root / _AIOE).parent.mkdir(parents=True, exist_ok=True)
    (root / _AIOE).write_bytes(_workbook(_AIOE_SHEETS))
    counts[_AIOE] = len(_AIOE_SHEETS["LM AIOE"][1])
    return counts


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- a local HTTP server -----------------------------------------------------------------


@dataclass
class Server:
    """What the tests see of the running server."""

    root: Path
    url: str = ""
    requests: list[str] = field(default_factory=list)
    truncate: set[str] = field(default_factory=set)
    fail_once: set[str] = field(default_factory=set)
    refuse: set[str] = field(default_factory=set)


class _Handler(SimpleHTTPRequestHandler):
    """Serves files, counts requests, can cut a body short, answer 503 once or refuse (403)
    as bls.gov does for clients that do not look like a browser."""

    state: Server

    def do_GET(self) -> None:
        path = unquote(self.path.split("?")[0]).lstrip("/")
        self.state.requests.append(path)
        if path in self.state.refuse:
            self.send_error(403, "Forbidden")
            return
        if path in self.state.fail_once:
            self.state.fail_once.discard(path)
            self.send_error(503, "try again")
            return
        if path in self.state.truncate:
            body = (self.state.root / path).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry without the real backoff delay; the number of attempts is unchanged."""
    monkeypatch.setattr(transport, "BACKOFF_S", 0.0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "served"
    root.mkdir()
    state = Server(root)
    handler = type("Handler", (_Handler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def mirror(server: Server) -> dict[str, int]:
    """The tiny mirror, written into the server's folder; row counts by relative path."""
    return write_mirror(server.root)


def _leftovers(data: Path) -> list[str]:
    """Hidden staging or backup folders left anywhere under ``data/raw``."""
    return [p.name for p in (data / "raw").glob("*/.*")] if (data / "raw").exists() else []


# --- tests -------------------------------------------------------------------------------


def test_fetch_from_http_mirror_writes_files_and_manifest(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    data = tmp_path / "data"
    manifests = fetch(data_dir=data, mirror=server.url + "/", progress=True)

    assert [m.source for m in manifests] == list(SOURCES)
    for manifest in manifests:
        folder = data / "raw" / manifest.source / manifest.version
        assert read_manifest(folder / "manifest.json") == manifest
        assert manifest.origin == server.url
        stored = sorted(p.name for p in folder.iterdir())
        assert stored == sorted([*(f.name for f in manifest.files), "manifest.json"])
        source = get_source(manifest.source)
        by_name = {spec.name: spec for spec in source.files(manifest.version)}
        for item in manifest.files:
            rel = by_name[item.name].mirror_path
            assert item.sha256 == _sha256(folder / item.name)
            if not by_name[item.name].mirror_workbook:
                assert item.sha256 == _sha256(server.root / rel)
                assert item.bytes == (server.root / rel).stat().st_size
            assert item.n_rows == mirror.get(rel)
            assert item.url_or_path.startswith(server.url + "/")
    onet = manifests[0]
    assert {f.name for f in onet.files} == {*_ONET, "Read Me.txt"}
    assert any(f.url_or_path.endswith("/Task%20Statements.txt") for f in onet.files)
    # The AIOE workbook's occupation sheet (its second) is stored as CSV; the optional
    # licence the mirror lacks is skipped.
    with (data / "raw/aioe/main/lm_aioe.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [_AIOE_SHEETS["LM AIOE"][0], *_AIOE_SHEETS["LM AIOE"][1]]
    applicability = next(m for m in manifests if m.source == "working_with_ai")
    assert [f.name for f in applicability.files] == ["soc_ai_applicability_scores.csv"]
    assert _leftovers(data) == []


def test_rerun_skips_without_requests_and_refetches_a_changed_file(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    data = tmp_path / "data"
    first = fetch(["onet", "gpts_labels"], data_dir=data, mirror=server.url, progress=False)
    n_requests = len(server.requests)
    assert n_requests == len(_ONET) + 1 + 3

    again = fetch(["onet", "gpts_labels"], data_dir=data, mirror=server.url, progress=False)
    assert again == first
    assert len(server.requests) == n_requests

    stored = data / "raw/onet/29.3/Job Zones.txt"
    stored.write_text("edited by hand\n")
    with pytest.raises(FetchError, match=r"Job Zones\.txt: got sha256 \w+, expected"):
        verify("onet", data_dir=data)
    fetch(["onet"], data_dir=data, mirror=server.url, progress=False)
    assert len(server.requests) == n_requests + len(_ONET) + 1
    assert stored.read_bytes() == (server.root / _ONET_DIR / "Job Zones.txt").read_bytes()
    assert verify("onet", "29.3", data_dir=data).source == "onet"

    fetch(["gpts_labels"], data_dir=data, mirror=server.url, progress=False, force=True)
    assert len(server.requests) == n_requests + len(_ONET) + 1 + 3


def test_truncated_download_fails_and_keeps_the_good_copy(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    data = tmp_path / "data"
    fetch(["onet"], data_dir=data, mirror=server.url, progress=False)
    folder = data / "raw/onet/29.3"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    rel = f"{_ONET_DIR}/Tasks to DWAs.txt"
    server.truncate.add(rel)
    with pytest.raises(FetchError) as caught:
        fetch(["onet"], data_dir=data, mirror=server.url, progress=False, force=True)
    message = str(caught.value)
    assert "Tasks%20to%20DWAs.txt" in message
    assert "expected the file Tasks to DWAs.txt of source onet 29.3" in message
    assert "gave up after 3 attempts" in message
    assert server.requests.count(rel) == 1 + 3

    assert _leftovers(data) == []
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    verify("onet", data_dir=data)


def test_a_first_fetch_that_fails_leaves_nothing(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    data = tmp_path / "data"
    server.truncate.add("labels/gpts-are-gpts/LICENSE")
    with pytest.raises(FetchError):
        fetch(["gpts_labels"], data_dir=data, mirror=server.url, progress=False)
    assert not (data / "raw/gpts_labels/main").exists()
    assert _leftovers(data) == []


def test_a_transient_503_is_retried(tmp_path: Path, server: Server, mirror: dict[str, int]) -> None:
    rel = "bls/oews/national_M2024_dl.csv"
    server.fail_once.add(rel)
    (manifest,) = fetch(["oews"], data_dir=tmp_path / "data", mirror=server.url, progress=False)
    assert server.requests.count(rel) == 2
    assert manifest.files[0].n_rows == len(_OEWS[1])


def test_404_names_the_url_and_the_source(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    (server.root / _ONET_DIR / "Job Zones.txt").unlink()
    data = tmp_path / "data"
    url = f"{server.url}/{_ONET_DIR}/Job%20Zones.txt"
    expected = f"got HTTP 404 for {url}, expected the file Job Zones.txt of source onet 29.3"
    with pytest.raises(FetchError) as caught:
        fetch(["onet"], data_dir=data, mirror=server.url, progress=False)
    assert str(caught.value) == expected
    assert not (data / "raw/onet/29.3").exists()
    assert _leftovers(data) == []


def test_a_missing_optional_file_is_skipped(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    (server.root / _ONET_DIR / "Read Me.txt").unlink()
    (manifest,) = fetch(["onet"], data_dir=tmp_path / "data", mirror=server.url, progress=False)
    assert {f.name for f in manifest.files} == set(_ONET)


def test_a_missing_column_names_the_file_and_the_column(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    header, rows = _ONET["Task Statements.txt"]
    keep = [i for i, name in enumerate(header) if name != "Task ID"]
    text = _delimited([[row[i] for i in keep] for row in [header, *rows]], "\t")
    (server.root / _ONET_DIR / "Task Statements.txt").write_text(text)
    data = tmp_path / "data"
    with pytest.raises(DataError) as caught:
        fetch(["onet"], data_dir=data, mirror=server.url, progress=False)
    assert caught.value.file == "Task Statements.txt"
    assert str(caught.value).startswith(
        "Task Statements.txt: missing column 'Task ID' (found: 'O*NET-SOC Code', 'Title', "
        "'Task', 'Task Type', "
    )
    assert str(caught.value).endswith("expected the O*NET text release 29.3")
    assert not (data / "raw/onet/29.3").exists()
    assert _leftovers(data) == []


def test_fetch_and_ingest_read_column_names_by_one_rule(tmp_path: Path) -> None:
    from jobimpact.employment import read_oews

    # Older OEWS vintages spell the columns in lower case; ingest reads such a file, so
    # fetch must accept it, and a file both refuse is refused with the same words.
    rel = "bls/oews/national_M2024_dl.csv"
    root = tmp_path / "mirror"
    (root / rel).parent.mkdir(parents=True)
    header = [name.lower() for name in _OEWS[0]]
    rows = [row for row in _OEWS[1] if row[-1]]
    (root / rel).write_text(_delimited([header, *rows], ","), encoding="utf-8")
    data = tmp_path / "data"
    (manifest,) = fetch(["oews"], data_dir=data, mirror=root, progress=False)
    assert manifest.files[0].n_rows == 2
    oews = read_oews(data / "raw/oews/M2024/national_M2024_dl.csv")
    assert oews["occ_code"].tolist() == ["00-0000", "11-1011"]
    assert oews["tot_emp"].tolist() == [154_187_380, 211_230]

    keep = [i for i, name in enumerate(header) if name != "a_median"]
    text = _delimited([[row[i] for i in keep] for row in [header, *rows]], ",")
    (root / rel).write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as refused_by_fetch:
        fetch(["oews"], data_dir=data, mirror=root, progress=False, force=True)
    with pytest.raises(DataError) as refused_by_ingest:
        read_oews(root / rel)
    said = "national_M2024_dl.csv: missing column 'A_MEDIAN' (found: 'area', 'occ_code', "
    assert str(refused_by_fetch.value).startswith(said)
    assert str(refused_by_fetch.value).split(";")[0] == str(refused_by_ingest.value).split(";")[0]


def test_fetch_from_a_local_mirror_folder_matches_the_http_mirror(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    via_http = fetch(data_dir=tmp_path / "a", mirror=server.url, progress=False)
    n_requests = len(server.requests)
    via_folder = fetch(data_dir=tmp_path / "b", mirror=server.root, progress=False)
    assert len(server.requests) == n_requests
    for http_manifest, folder_manifest in zip(via_http, via_folder, strict=True):
        assert folder_manifest.origin == str(server.root.resolve())
        assert [(f.name, f.sha256, f.n_rows) for f in folder_manifest.files] == [
            (f.name, f.sha256, f.n_rows) for f in http_manifest.files
        ]

    with pytest.raises(ConfigError, match=r"mirror: got .*nowhere', expected a folder"):
        fetch(data_dir=tmp_path / "c", mirror=tmp_path / "nowhere")


def test_a_pinned_checksum_is_enforced(
    tmp_path: Path, server: Server, mirror: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = "crosswalks/onet_soc_2019_to_soc_2018.csv"
    good = _sha256(server.root / rel)
    source = SOURCES["onet_soc_crosswalk"]
    name = Path(rel).name
    monkeypatch.setitem(SOURCES, source.name, replace(source, checksums={"2019": {name: "0" * 64}}))
    with pytest.raises(FetchError, match=f"{name}: got sha256 {good}, expected 0{{64}} as pinned"):
        fetch([source.name], data_dir=tmp_path / "data", mirror=server.root, progress=False)

    monkeypatch.setitem(SOURCES, source.name, replace(source, checksums={"2019": {name: good}}))
    (manifest,) = fetch([source.name], data_dir=tmp_path / "data", mirror=server.root)
    assert manifest.files[0].sha256 == good


def _xlsx(rows: Sequence[Sequence[object]]) -> bytes:
    """A one-sheet workbook holding ``rows``."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _numeric(cell: str) -> object:
    """A cell as a workbook would hold it: numbers as numbers."""
    for kind in (int, float):
        try:
            return kind(cell)
        except ValueError:
            pass
    return cell


def test_official_urls_with_zip_extraction_and_xlsx_conversion(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged = tmp_path / "mirror"
    write_mirror(staged)
    official = server.root / "official"
    official.mkdir()
    onet_members = {
        f"db_29_3_text/{name}": (staged / _ONET_DIR / name).read_bytes()
        for name in [*_ONET, "Read Me.txt"]
    }
    (official / "db_29_3_text.zip").write_bytes(_zip(onet_members))
    oews_rows: list[list[object]] = [list(_OEWS[0])]
    oews_rows += [[_numeric(c) for c in row] for row in _OEWS[1]]
    oews_zip = _zip({"oesm24nat/national_M2024_dl.xlsx": _xlsx(oews_rows)})
    (official / "oesm24nat.zip").write_bytes(oews_zip)
    (official / "soc_structure_2018.xlsx").write_bytes(_xlsx([*_SOC_PREAMBLE, _SOC[0], *_SOC[1]]))
    (official / "crosswalk.csv").write_bytes(
        (staged / "crosswalks/onet_soc_2019_to_soc_2018.csv").read_bytes()
    )
    baseline = (staged / "onet/db_20_1_text/Task Statements.txt").read_bytes()
    (official / "db_20_1_text.zip").write_bytes(
        _zip({"db_20_1_text/Task Statements.txt": baseline})
    )
    for name in ("automation_vs_augmentation_by_task.csv", "task_pct_v2.csv"):
        (official / "aei" / name).parent.mkdir(parents=True, exist_ok=True)
        (official / "aei" / name).write_bytes((staged / _AEI_DIR / name).read_bytes())
    for rel in ("data/full_labelset.tsv", "data/automation_gpt4_human_labels.tsv", "LICENSE"):
        (official / "gpts" / rel).parent.mkdir(parents=True, exist_ok=True)
        (official / "gpts" / rel).write_bytes(
            (staged / "labels/gpts-are-gpts" / Path(rel).name).read_bytes()
        )
    (official / "gpts/data/occ_level.csv").write_bytes(
        (staged / "measures/gpts-are-gpts/occ_level.csv").read_bytes()
    )
    (official / "walk.csv").write_bytes(
        (staged / "crosswalks/onet_soc_2010_to_2019.csv").read_bytes()
    )
    (official / "aioe").mkdir()
    (official / "aioe/Language Modeling AIOE and AIIE.xlsx").write_bytes(_workbook(_AIOE_SHEETS))
    (official / "fo/data_tables").mkdir(parents=True)
    (official / "fo/data_tables/automation_risk_soc2018.csv").write_bytes(
        (staged / "measures/frey-osborne/automation_risk_soc2018.csv").read_bytes()
    )
    (official / "wwai").mkdir()
    (official / "wwai/soc_ai_applicability_scores.csv").write_bytes(
        (staged / "measures/ms-working-with-ai/soc_ai_applicability_scores.csv").read_bytes()
    )
    (official / "wwai/LICENSE.txt").write_text("CC BY 4.0 (test fixture)\n")
    base = f"{server.url}/official"
    urls = {
        "onet": lambda v: f"{base}/{onet_source.release_dir(v)}.zip",
        "oews": lambda v: f"{base}/oesm{v[-2:]}nat.zip",
        "soc_structure": lambda v: f"{base}/soc_structure_{v}.xlsx",
        "onet_soc_crosswalk": lambda v: f"{base}/crosswalk.csv?fmt=csv",
        "gpts_labels": lambda v: f"{base}/gpts/",
        "onet_baseline": lambda v: f"{base}/{onet_source.release_dir(v)}.zip",
        "economic_index": lambda v: f"{base}/aei/",
        "onet_soc_2010_crosswalk": lambda v: f"{base}/walk.csv?fmt=csv",
        "aioe": lambda v: f"{base}/aioe/",
        "frey_osborne": lambda v: f"{base}/fo/",
        "working_with_ai": lambda v: f"{base}/wwai/",
        "gpts_occupations": lambda v: f"{base}/gpts/",
    }
    for name, url in urls.items():
        monkeypatch.setitem(SOURCES, name, replace(SOURCES[name], url=url))

    data = tmp_path / "data"
    manifests = {m.source: m for m in fetch(data_dir=data, progress=False)}
    # One download per archive, however many members it gives.
    assert server.requests.count("official/db_29_3_text.zip") == 1
    assert manifests["onet"].origin == f"{base}/db_29_3_text.zip"

    raw = data / "raw"
    for name in [*_ONET, "Read Me.txt"]:
        assert (raw / "onet/29.3" / name).read_bytes() == (staged / _ONET_DIR / name).read_bytes()
    task_file = next(f for f in manifests["onet"].files if f.name == "Task Statements.txt")
    assert task_file.url_or_path == f"{base}/db_29_3_text.zip#db_29_3_text/Task Statements.txt"

    with (raw / "oews/M2024/national_M2024_dl.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [_OEWS[0], *_OEWS[1]]
    assert manifests["oews"].files[0].n_rows == len(_OEWS[1])

    with (raw / "soc_structure/2018/soc_structure_2018.csv").open(newline="") as handle:
        soc_rows = list(csv.reader(handle))
    assert soc_rows[0] == [
        "U.S. Bureau of Labor Statistics",
        *(f"Unnamed: {i}" for i in range(1, 5)),
    ]
    assert soc_rows[1:] == [_SOC_PREAMBLE[1], _SOC[0], *_SOC[1]]
    assert manifests["soc_structure"].files[0].n_rows == len(_SOC[1])

    labels = {f.name: f for f in manifests["gpts_labels"].files}
    assert labels["full_labelset.tsv"].url_or_path == f"{base}/gpts/data/full_labelset.tsv"
    assert labels["full_labelset.tsv"].n_rows == len(_FULL[1])
    assert labels["LICENSE"].n_rows is None
    assert manifests["onet_soc_crosswalk"].files[0].n_rows == len(_CROSSWALK[1])
    assert (raw / "onet_baseline/20.1/Task Statements.txt").read_bytes() == baseline
    aei = {f.name: f for f in manifests["economic_index"].files}
    assert aei["task_pct_v2.csv"].url_or_path == f"{base}/aei/task_pct_v2.csv"

    aioe = manifests["aioe"].files[0]
    assert aioe.url_or_path == f"{base}/aioe/Language%20Modeling%20AIOE%20and%20AIIE.xlsx"
    with (raw / "aioe/main/lm_aioe.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [_AIOE_SHEETS["LM AIOE"][0], *_AIOE_SHEETS["LM AIOE"][1]]
    assert manifests["frey_osborne"].files[0].url_or_path == (
        f"{base}/fo/data_tables/automation_risk_soc2018.csv"
    )
    assert [f.name for f in manifests["working_with_ai"].files] == [
        "soc_ai_applicability_scores.csv",
        "LICENSE.txt",
    ]
    assert manifests["gpts_occupations"].files[0].n_rows == len(_OCC_LEVEL[1])
    assert manifests["onet_soc_2010_crosswalk"].files[0].n_rows == len(_CROSSWALK_2010[1])
    assert _leftovers(data) == []


def test_an_archive_without_a_required_member_fails(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    (server.root / "db.zip").write_bytes(_zip({"db_29_3_text/Read Me.txt": b"only this\n"}))
    url = f"{server.url}/db.zip"
    monkeypatch.setitem(SOURCES, "onet", replace(SOURCES["onet"], url=lambda v: url))
    message = (
        f"got no member 'db_29_3_text/Task Statements.txt' in {url}, "
        "expected the file Task Statements.txt of source onet 29.3"
    )
    with pytest.raises(FetchError, match=message.replace(".", r"\.").replace("*", r"\*")):
        fetch(["onet"], data_dir=tmp_path / "data", progress=False)

    (server.root / "db.zip").write_bytes(b"not a zip at all")
    with pytest.raises(FetchError, match="got a damaged or non-zip file from"):
        fetch(["onet"], data_dir=tmp_path / "data", progress=False)
    assert _leftovers(tmp_path / "data") == []


def _official_oews(server: Server, monkeypatch: pytest.MonkeyPatch) -> tuple[str, bytes]:
    """The OEWS zip served at an official-style URL; returns the URL and the zip."""
    rows: list[list[object]] = [list(_OEWS[0])]
    rows += [[_numeric(c) for c in row] for row in _OEWS[1]]
    archive = _zip({"oesm24nat/national_M2024_dl.xlsx": _xlsx(rows)})
    (server.root / "oesm24nat.zip").write_bytes(archive)
    url = f"{server.url}/oesm24nat.zip"
    monkeypatch.setitem(SOURCES, "oews", replace(SOURCES["oews"], url=lambda v: url))
    return url, archive


def test_a_refused_download_names_the_way_out_and_a_hand_download_is_used(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, archive = _official_oews(server, monkeypatch)
    server.refuse.add("oesm24nat.zip")
    data = tmp_path / "data"
    placed = data / "downloads/oews/M2024/oesm24nat.zip"
    with pytest.raises(FetchError) as caught:
        fetch(["oews"], data_dir=data, progress=False)
    assert str(caught.value) == (
        f"got HTTP 403 for {url}, expected the file national_M2024_dl.csv of source oews M2024; "
        f"to go on, download {url} in a web browser and save it as {placed} (fetch checks and "
        "uses it), then run `jobimpact fetch` again; or fetch from a copy laid out like the "
        "data mirror with `jobimpact fetch --mirror DIR|URL`"
    )
    assert server.requests.count("oesm24nat.zip") == 1  # a refusal is not retried
    assert not (data / "raw/oews/M2024").exists() and _leftovers(data) == []
    args = ["fetch", "--source", "oews", "--data-dir", str(data), "--no-progress"]
    refused = CliRunner().invoke(cli, args, env={"JOBIMPACT_MIRROR": None})
    assert (refused.exit_code, refused.output) == (1, f"Error: {caught.value}\n")

    # The user follows the advice: the file saved by hand is checked and used, not fetched.
    placed.parent.mkdir(parents=True)
    placed.write_bytes(archive)
    (manifest,) = fetch(["oews"], data_dir=data, progress=False)
    assert server.requests.count("oesm24nat.zip") == 2  # the two refusals above, no more
    assert manifest.origin == f"{url} (downloaded by hand: {placed})"
    (item,) = manifest.files
    assert item.url_or_path == f"{placed}#oesm24nat/national_M2024_dl.xlsx"
    assert item.n_rows == len(_OEWS[1])
    with (data / "raw/oews/M2024/national_M2024_dl.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [_OEWS[0], *_OEWS[1]]
    assert verify("oews", data_dir=data) == manifest
    done = CliRunner().invoke(cli, [*args, "--force"], env={"JOBIMPACT_MIRROR": None})
    assert (done.exit_code, done.output) == (0, f"oews M2024: 1 files from {manifest.origin}\n")
    assert server.requests.count("oesm24nat.zip") == 2
    # The hand download is left as it was, with nothing written beside it.
    assert sorted(placed.parent.iterdir()) == [placed] and placed.read_bytes() == archive
    assert _leftovers(data) == []


def test_the_bls_refusal_says_why_and_what_to_do(tmp_path: Path) -> None:
    # bls.gov's answer to a program, replayed in process: the real URL, nothing sent out.
    seen: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(403, text="Access Denied")

    data = tmp_path / "data"
    with (
        httpx.Client(transport=httpx.MockTransport(refuse)) as client,
        pytest.raises(FetchError) as caught,
    ):
        fetch(["oews"], data_dir=data, client=client, progress=False)
    url = "https://www.bls.gov/oes/special-requests/oesm24nat.zip"
    assert seen == [url]
    assert str(caught.value) == (
        f"got HTTP 403 for {url}, expected the file national_M2024_dl.csv of source oews M2024; "
        "bls.gov refuses downloads from programs that do not send a web browser's headers; "
        f"to go on, download {url} in a web browser and save it as "
        f"{data / 'downloads/oews/M2024/oesm24nat.zip'} (fetch checks and uses it), then run "
        "`jobimpact fetch` again; or fetch from a copy laid out like the data mirror with "
        "`jobimpact fetch --mirror DIR|URL`"
    )


def test_a_hand_download_is_checked_like_a_download(
    tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    _official_oews(server, monkeypatch)
    data = tmp_path / "data"
    placed = data / "downloads/oews/M2024/oesm24nat.zip"
    placed.parent.mkdir(parents=True)
    # What a browser saves when the site shows an error page instead of the file.
    placed.write_bytes(b"<html>Access Denied</html>")
    with pytest.raises(FetchError, match=f"got a damaged or non-zip file from {placed} "):
        fetch(["oews"], data_dir=data, progress=False)
    assert server.requests == [] and not (data / "raw/oews/M2024").exists()
    assert _leftovers(data) == []

    # A plain file (no archive): its name is the URL's last part, without the query.
    staged = tmp_path / "mirror"
    write_mirror(staged)
    crosswalk = staged / "crosswalks/onet_soc_2019_to_soc_2018.csv"
    url = f"{server.url}/taxonomy/2019_to_SOC_Crosswalk.csv?fmt=csv"
    source = SOURCES["onet_soc_crosswalk"]
    monkeypatch.setitem(SOURCES, source.name, replace(source, url=lambda v: url))
    hand = data / "downloads/onet_soc_crosswalk/2019/2019_to_SOC_Crosswalk.csv"
    hand.parent.mkdir(parents=True)
    hand.write_bytes(crosswalk.read_bytes())
    (manifest,) = fetch([source.name], data_dir=data, progress=False)
    assert server.requests == []
    assert manifest.files[0].url_or_path == str(hand)
    assert manifest.files[0].sha256 == _sha256(crosswalk)
    assert manifest.files[0].n_rows == len(_CROSSWALK[1])


def test_official_urls_follow_the_version() -> None:
    onet = get_source("onet")
    task = next(s for s in onet.files("30.1") if s.name == "Task Statements.txt")
    assert onet.official_url("30.1", task) == (
        "https://www.onetcenter.org/dl_files/database/db_30_1_text.zip"
    )
    assert task.mirror_path == "onet/db_30_1_text/Task Statements.txt"
    assert task.member == "db_30_1_text/Task Statements.txt"
    oews = get_source("oews")
    (national,) = oews.files("M2023")
    assert oews.official_url("M2023", national) == (
        "https://www.bls.gov/oes/special-requests/oesm23nat.zip"
    )
    assert (national.name, national.member) == (
        "national_M2023_dl.csv",
        "oesm23nat/national_M2023_dl.xlsx",
    )
    labels = get_source("gpts_labels")
    assert [labels.official_url("main", s) for s in labels.files("main")] == [
        "https://raw.githubusercontent.com/openai/GPTs-are-GPTs/main/data/full_labelset.tsv",
        "https://raw.githubusercontent.com/openai/GPTs-are-GPTs/main/data/automation_gpt4_human_labels.tsv",
        "https://raw.githubusercontent.com/openai/GPTs-are-GPTs/main/LICENSE",
    ]
    measures = {
        name: [get_source(name).official_url(v, s) for s in get_source(name).files(v)]
        for name, v in (
            ("aioe", "main"),
            ("frey_osborne", "main"),
            ("working_with_ai", "main"),
            ("gpts_occupations", "v1.0"),
            ("onet_soc_2010_crosswalk", "2019"),
        )
    }
    assert measures == {
        "aioe": [
            "https://raw.githubusercontent.com/AIOE-Data/AIOE/main/"
            "Language%20Modeling%20AIOE%20and%20AIIE.xlsx"
        ],
        "frey_osborne": [
            "https://raw.githubusercontent.com/ignaciourbina/labor-force/main/"
            "data_tables/automation_risk_soc2018.csv"
        ],
        "working_with_ai": [
            "https://raw.githubusercontent.com/microsoft/working-with-ai/main/"
            "soc_ai_applicability_scores.csv",
            "https://raw.githubusercontent.com/microsoft/working-with-ai/main/LICENSE.txt",
        ],
        "gpts_occupations": [
            "https://raw.githubusercontent.com/openai/GPTs-are-GPTs/v1.0/data/occ_level.csv"
        ],
        "onet_soc_2010_crosswalk": [
            "https://www.onetcenter.org/taxonomy/2019/walk/2010_to_2019_Crosswalk.csv?fmt=csv"
        ],
    }


def test_a_workbook_without_the_named_sheet_fails_and_leaves_nothing(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    (server.root / _AIOE).write_bytes(_workbook({"LM AIIE": _AIOE_SHEETS["LM AIIE"]}))
    data = tmp_path / "data"
    for origin in (server.url, server.root):
        with pytest.raises(FetchError) as caught:
            fetch(["aioe"], data_dir=data, mirror=origin, progress=False)
        assert str(caught.value) == (
            "got a workbook without the sheet 'LM AIOE' (sheets: 'LM AIIE'), expected the "
            "file lm_aioe.csv of source aioe main"
        )
    assert not (data / "raw/aioe/main").exists()
    assert _leftovers(data) == []


def test_unknown_source_and_malformed_version_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"got unknown source 'onett', expected one of: onet, "):
        fetch(["onett"], data_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"got unknown source 'nope'"):
        fetch(["onet"], data_dir=tmp_path, versions={"nope": "1"})
    with pytest.raises(ConfigError, match=r"got version '29', expected a version like '29\.3'"):
        fetch(["onet"], data_dir=tmp_path, versions={"onet": "29"}, mirror=tmp_path)
    with pytest.raises(ConfigError, match=r"got version '2024', expected a version like 'M2024'"):
        get_source("oews").files("2024")


def test_verify_and_read_manifest_report_missing_or_broken_state(
    tmp_path: Path, server: Server, mirror: dict[str, int]
) -> None:
    data = tmp_path / "data"
    with pytest.raises(FetchError, match=r"got no manifest at .*manifest\.json, expected"):
        verify("oews", data_dir=data)
    fetch(["oews"], data_dir=data, mirror=server.root, progress=False)
    folder = data / "raw/oews/M2024"
    assert verify("oews", data_dir=data) == read_manifest(folder)

    (folder / "national_M2024_dl.csv").unlink()
    with pytest.raises(FetchError, match=r"national_M2024_dl\.csv: got no file at"):
        verify("oews", data_dir=data)
    (folder / "manifest.json").write_text('{"source": "oews"}')
    with pytest.raises(DataError, match=r"manifest\.json: got a malformed manifest"):
        read_manifest(folder)
    # A broken earlier copy is replaced by a fresh fetch without force.
    (manifest,) = fetch(["oews"], data_dir=data, mirror=server.root, progress=False)
    assert verify("oews", data_dir=data) == manifest


_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (_SHARED / "README.md").is_file(), reason="no shared data mirror")
def test_fetch_everything_from_the_shared_mirror(tmp_path: Path) -> None:
    manifests = {m.source: m for m in fetch(data_dir=tmp_path, mirror=_SHARED, progress=False)}
    assert set(manifests) == set(SOURCES)
    rows = {(m.source, f.name): f.n_rows for m in manifests.values() for f in m.files}
    rows |= {
        f.name: f.n_rows for m in manifests.values() for f in m.files if m.source != "onet_baseline"
    }
    # Counts documented in the mirror's README.
    assert rows["Task Statements.txt"] == 18_796
    assert rows[("onet_baseline", "Task Statements.txt")] == 19_530
    assert rows["automation_vs_augmentation_by_task.csv"] == 1_541
    assert rows["Occupation Data.txt"] == 1_016
    assert rows["full_labelset.tsv"] == 9_586
    assert rows["automation_gpt4_human_labels.tsv"] == 9_586
    assert rows["lm_aioe.csv"] == 774
    assert rows["automation_risk_soc2018.csv"] == 732
    assert rows["soc_ai_applicability_scores.csv"] == 785
    assert rows["occ_level.csv"] == 459
    assert rows["onet_soc_2010_to_2019.csv"] == 1_164
    for manifest in manifests.values():
        source = get_source(manifest.source)
        required = {s.name for s in source.files(manifest.version) if not s.optional}
        assert required <= {f.name for f in manifest.files}
        specs = {s.name: s for s in source.files(manifest.version)}
        for item in manifest.files:
            if item.n_rows is None or specs[item.name].mirror_workbook:
                continue
            # No field of the mirror spans lines: data rows are the lines after the header.
            lines = (_SHARED / specs[item.name].mirror_path).read_bytes().count(b"\n")
            if specs[item.name].header_scan == 1:
                assert item.n_rows == lines - 1
            else:
                assert 0 < item.n_rows <= lines - 1
        assert verify(manifest.source, manifest.version, data_dir=tmp_path) == manifest
