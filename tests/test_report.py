"""The report: summary numbers against SQL, self-contained escaped HTML, PDF, CLI."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from fixtures import query_rows, replace_in_file, write_fixture_release

from jobimpact.cli import cli
from jobimpact.embedding.fake import FakeEmbedder
from jobimpact.errors import ConfigError, DependencyError, NotReadyError
from jobimpact.pipeline import run_aggregate, run_cluster, run_embed, run_ingest, run_score
from jobimpact.report import Report, build_report
from jobimpact.scoring import get_backend

SCRIPT_TASK = "Design test plans <script>alert(1)</script> & co."
ESCAPED_TASK = "Design test plans &lt;script&gt;alert(1)&lt;/script&gt; &amp; co."
N_FIXTURE_TASKS = 12


def build_store(root: Path, *, limit: int | None = None, families: bool = True) -> Path:
    """A fixture store with a task text holding markup, scored by the fake scorer
    (the first ``limit`` tasks only when given), clustered and aggregated."""
    from sklearn.cluster import KMeans

    paths = write_fixture_release(root / "data")
    for name in ("Task Statements.txt", "Tasks to DWAs.txt"):
        replace_in_file(paths.onet(name), "Design test plans.", SCRIPT_TASK)
    db = root / "store.duckdb"
    run_ingest(db=db, data_dir=paths.data_dir)
    run_score(db=db, scorer=get_backend("fake"), limit=limit)
    if families:
        embedder = FakeEmbedder(dimension=64)
        run_embed(db=db, embedder=embedder)
        run_cluster(
            db=db, embedder=embedder, estimator=KMeans(n_clusters=3, n_init=2, random_state=0)
        )
    run_aggregate(db=db, n_boot=50)
    return db


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("full"))


@pytest.fixture(scope="module")
def report(store: Path) -> Report:
    return Report.from_store(store)


@pytest.fixture(scope="module")
def html(report: Report) -> str:
    return report.to_html()


def _one(db: Path, sql: str) -> Any:
    return query_rows(db, sql)[0][0]


def test_headline_matches_the_economy_view(store: Path, report: Report) -> None:
    summary = report.summary
    scoring = summary["scoring"]
    assert (scoring["method"], scoring["head_id"], scoring["weighting"]) == (
        "zero-shot",
        "",
        "rating",
    )
    row = query_rows(
        store,
        "SELECT workers_10pct_exposed, workers_50pct_exposed, beta, displacement, "
        "creation, share_at_risk, share_transforming, share_augmented, share_little_change, "
        "employment FROM economy_impact WHERE weighting = 'rating'",
    )[0]
    headline = summary["headline"]
    exposed = [e["share"] for e in headline["exposed"]]
    shares = [q["share"] for q in headline["quadrants"]]
    ours = [*exposed, headline["beta"], headline["displacement"]]
    ours += [headline["creation"], *shares, headline["employment"]]
    assert ours == pytest.approx(list(row))
    for e in headline["exposed"]:
        assert e["low"] <= e["share"] <= e["high"]
    assert sum(q["employment"] for q in headline["quadrants"]) == pytest.approx(row[-1])


def test_coverage_groups_and_occupations_match_sql(store: Path, report: Report) -> None:
    summary = report.summary
    coverage = summary["coverage"]
    assert coverage["tasks_scored"] == _one(
        store, "SELECT count(DISTINCT task_id) FROM task_scores"
    )
    assert coverage["tasks_total"] == N_FIXTURE_TASKS
    assert coverage["occupations_total"] == _one(
        store, "SELECT count(DISTINCT onet_soc_code) FROM tasks"
    )
    assert not coverage["is_partial"]
    assert len(summary["occupations"]) == _one(
        store, "SELECT count(*) FROM occupation_scores WHERE weighting = 'rating'"
    )
    groups = summary["major_groups"].dropna(subset=["displacement"])
    expected = query_rows(
        store,
        "SELECT soc_major, displacement, employment_at_risk FROM major_group_impact "
        "WHERE weighting = 'rating' ORDER BY soc_major",
    )
    got = list(
        zip(groups["soc_major"], groups["displacement"], groups["employment_at_risk"], strict=True)
    )
    assert [g[0] for g in got] == [e[0] for e in expected]
    assert [g[1:] for g in got] == [pytest.approx(e[1:]) for e in expected]
    bins = summary["wage_bins"]
    with_wages = _one(
        store,
        "SELECT sum(employment) FROM occupation_impact WHERE weighting = 'rating' "
        "AND employment > 0 AND annual_mean_wage IS NOT NULL",
    )
    assert bins["employment"].sum() == pytest.approx(with_wages)


def test_top_lists_and_their_driving_tasks(store: Path, report: Report) -> None:
    top = report.summary["top_lists"]
    code, displacement = query_rows(
        store,
        "SELECT onet_soc_code, displacement FROM occupation_scores WHERE weighting = 'rating' "
        "ORDER BY displacement DESC, onet_soc_code LIMIT 1",
    )[0]
    first = top["displaced"].iloc[0]
    assert (first["onet_soc_code"], first["displacement"]) == (code, pytest.approx(displacement))
    drivers = top["displaced_drivers"][code]
    own_tasks = {
        t for (t,) in query_rows(store, f"SELECT task_id FROM tasks WHERE onet_soc_code = '{code}'")
    }
    assert set(drivers["task_id"]) <= own_tasks
    assert list(drivers["contribution"]) == sorted(drivers["contribution"], reverse=True)
    # Contributions are the terms of the occupation's weighted mean.
    if len(drivers) == len(own_tasks):
        assert drivers["contribution"].sum() == pytest.approx(displacement)
    at_risk = top["at_risk"]
    assert set(at_risk["quadrant"]) <= {"at risk"}


def test_families_match_the_family_view(store: Path, report: Report) -> None:
    families = report.summary["families"]
    assert families["available"] and families["clustering"]["n_clusters"] == 3
    table = families["table"]
    assert table["size"].sum() == N_FIXTURE_TASKS
    expected = dict(
        query_rows(
            store,
            "SELECT cluster_id, displacement FROM task_family_impact WHERE model_id IS NOT NULL",
        )
    )
    got = dict(zip(table["cluster_id"], table["displacement"], strict=True))
    assert got == pytest.approx(expected)
    assert families["n_emerging"] == _one(store, "SELECT count(*) FROM emerging_task_clusters")


def test_html_is_self_contained(html: str) -> None:
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    references += re.findall(r"url\(\s*['\"]?([^'\")]+)", html)
    assert references, "expected inline references (fonts, SVG ids)"
    external = [ref for ref in references if not ref.startswith(("#", "data:"))]
    assert external == []
    assert "@import" not in html
    assert '<link rel="stylesheet"' not in html


def test_task_text_is_escaped_not_markup(html: str, report: Report) -> None:
    assert ESCAPED_TASK in html
    assert "<script" not in html.lower()
    framed = report._repr_html_()
    assert framed.startswith("<iframe srcdoc=")
    assert "<script" not in framed.lower()


def test_every_section_is_there_and_nothing_missing_is_claimed(html: str) -> None:
    for section in (
        "headline",
        "flow",
        "scatter",
        "groups",
        "families",
        "top",
        "validation",
        "compare",
        "method",
    ):
        assert f'<section id="{section}"' in html
    for figure in ("flow", "scatter", "groups", "wages", "families"):
        assert f'id="fig-{figure}-' in html
    assert "Partial store" not in html
    assert "No validation has been run for this scoring" in html
    assert "No comparison with published measures is stored for this scoring" in html
    assert "O*NET 29.3 Database, U.S. Department of Labor, Employment and Training" in html
    assert "public domain" in html


def test_figures_have_titles_labels_and_sources_and_leave_pyplot_alone(report: Report) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    figures = report.figures()
    assert set(figures) == {"flow", "scatter", "groups", "wages", "families"}
    assert plt.get_fignums() == before
    for name, figure in figures.items():
        texts = [t.get_text() for t in figure.texts]
        titles = [ax.get_title(loc="left") or ax.get_title() for ax in figure.axes]
        assert any(t.startswith("Source: jobimpact") for t in texts), name
        assert (figure._suptitle is not None) or any(titles), name
        if name != "flow":
            labelled = [ax for ax in figure.axes if ax.get_xlabel()]
            assert labelled and all("(" in ax.get_xlabel() for ax in labelled), name


def test_place_labels_never_overlaps() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from jobimpact.report.plots import place_labels

    figure = Figure(figsize=(4, 3))
    ax = figure.subplots()
    x = [0.5 + 0.01 * (i % 5) for i in range(20)]
    y = [0.5 + 0.01 * (i // 5) for i in range(20)]
    ax.scatter(x, y)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    placed = place_labels(ax, x, y, [f"occupation {i}" for i in range(20)], renderer=renderer)
    assert 3 <= len(placed) < 20
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]
    assert len(boxes) == len(placed)
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :])


def test_build_report_writes_what_is_asked(store: Path, tmp_path: Path) -> None:
    result = build_report(store, out_dir=tmp_path / "reports", formats=("html",))
    assert set(result.paths) == {"html"} and result.n_pages is None
    assert result.paths["html"].name == "jobimpact_report.html"
    assert result.seconds < 60
    with pytest.raises(ConfigError, match=r"--format: got svg, expected html and/or pdf"):
        build_report(store, out_dir=tmp_path, formats=("svg",))


def test_partial_store_says_so_and_missing_pieces_get_a_sentence(tmp_path: Path) -> None:
    db = build_store(tmp_path, limit=5, families=False)
    summary = Report.from_store(db).summary
    assert summary["coverage"]["is_partial"]
    assert summary["coverage"]["tasks_scored"] == 5
    page = Report(summary).to_html()
    first_page = page[: page.index('<section id="flow"')]
    assert "Partial store." in first_page
    assert "5 of 12 tasks" in first_page
    assert "No task families in this store" in page


def test_a_store_without_employment_gets_sentences_not_a_crash(store: Path, tmp_path: Path) -> None:
    db = tmp_path / "no_employment.duckdb"
    shutil.copy(store, db)
    con = duckdb.connect(str(db))
    try:
        con.execute("UPDATE employment SET tot_emp = NULL, wage_bill = NULL, a_mean = NULL")
    finally:
        con.close()
    report = Report.from_store(db)
    assert not report.summary["headline"]["available"]
    assert report.summary["wage_bins"].empty
    page = report.to_html()
    assert "No employment figures for the scored occupations" in page
    assert "No employment-weighted scores to draw the flow from" in page
    assert "No wages for the scored occupations" in page
    assert 'id="fig-scatter-' in page


def test_validation_results_are_shown(store: Path, tmp_path: Path) -> None:
    db = tmp_path / "validated.duckdb"
    shutil.copy(store, db)
    con = duckdb.connect(str(db))
    try:
        model_id, rubric_hash = con.execute(
            "SELECT model_id, rubric_hash FROM occupation_scores LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        con.execute(
            "INSERT INTO validations (validation_id, run_id, model_id, rubric_hash, head_id, "
            "mode, labels_name, labels_sha256, n_labelled, n_matched_id, n_matched_text, "
            "n_scored, created_at) VALUES ('v1', 'run1', ?, ?, '', 'zero-shot', "
            "'labels.tsv', 'abc', 10, 9, 1, 10, now())",
            [model_id, rubric_hash],
        )
        con.execute(
            "INSERT INTO validation_metrics VALUES "
            "('v1', 'ours', 'human', 'task', 'auc_exposed', 0.613, 0.55, 0.67, 10), "
            "('v1', 'gpt4', 'human', 'task', 'auc_exposed', 0.871, NULL, NULL, 10)"
        )
        con.execute(
            "INSERT INTO validation_reliability VALUES "
            "('v1', 'ours', 0, 0.2, 0.3, 5), ('v1', 'ours', 1, 0.7, 0.6, 5)"
        )
    finally:
        con.close()
    report = Report.from_store(db)
    table = report.summary["validation"]["table"]
    assert table.iloc[0][["ours_human", "gpt4_human", "n"]].tolist() == [0.613, 0.871, 10]
    assert table.iloc[0][["ours_gpt4", "gpt4_human_low"]].isna().all()
    page = report.to_html()
    assert "No validation has been run" not in page
    assert "AUC: exposed (E1 or E2) against not" in page and "0.613" in page
    assert "0.871 <span" not in page  # GPT-4's value has no interval here
    assert 'id="fig-reliability-' in page


def test_tasks_with_some_questions_only_are_counted_apart(store: Path, tmp_path: Path) -> None:
    db = tmp_path / "creation_only.duckdb"
    shutil.copy(store, db)
    con = duckdb.connect(str(db))
    try:  # task 2007 is the only task of 11-1021.00: keep its creation answer only
        con.execute("DELETE FROM task_scores WHERE task_id = 2007 AND question <> 'creation'")
    finally:
        con.close()
    run_aggregate(db=db, n_boot=0)
    report = Report.from_store(db)
    coverage = report.summary["coverage"]
    assert (coverage["tasks_scored"], coverage["tasks_incomplete"]) == (N_FIXTURE_TASKS - 1, 1)
    assert "Another 1 tasks have scores for only some of the" in report.to_html()


def test_calibrated_head_is_preferred_and_overrides_choose(store: Path, tmp_path: Path) -> None:
    db = tmp_path / "calibrated.duckdb"
    shutil.copy(store, db)
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "INSERT INTO task_scores SELECT * REPLACE ('calibrated' AS method, 'head1' AS head_id, "
            "p_yes * 0.5 AS p_yes) FROM task_scores WHERE question <> 'creation'"
        )
    finally:
        con.close()
    run_aggregate(db=db, head_id="head1", n_boot=0)
    assert Report.from_store(db).summary["scoring"]["head_id"] == "head1"
    zero_shot = Report.from_store(db, head_id="").summary["scoring"]
    assert (zero_shot["head_id"], zero_shot["method"]) == ("", "zero-shot")
    with pytest.raises(ConfigError, match=r"head_id: got 'nope', expected one aggregated in"):
        Report.from_store(db, head_id="nope")


def test_major_group_focus(store: Path) -> None:
    summary = Report.from_store(store, major_group="15").summary
    assert summary["focus"]["soc_major"] == "15-0000"
    assert set(summary["occupations"]["soc_major"]) == {"15-0000"}
    assert summary["title"].endswith("Computer and Mathematical Occupations")
    with pytest.raises(ConfigError, match=r"--major-group: got 'Nowhere' \(0 matches\)"):
        Report.from_store(store, major_group="Nowhere")


def test_cli_report_writes_both_files(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "report",
            "--db",
            str(store),
            "--out",
            str(out),
            "--format",
            "html,pdf",
            "--head-id",
            "none",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "jobimpact_report.html").stat().st_size > 10_000
    assert (out / "jobimpact_report.pdf").read_bytes().startswith(b"%PDF")
    assert "html: " in result.output and "pdf: " in result.output


# How cffi says a shared library is missing; WeasyPrint's text/ffi.py lets it through after
# trying each name of a library, from the first name it tries ('libpango-1.0-0').
CFFI_CANNOT_LOAD = (
    "cannot load library '{0}': {0}: cannot open shared object file: No such file or "
    "directory.  Additionally, ctypes.util.find_library() did not manage to locate a library "
    "called '{0}'"
)


@pytest.fixture
def without_pango(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """WeasyPrint as in a slim container without Pango: its own import runs, and cffi cannot
    load any Pango library. The modules of that failed import are dropped afterwards."""
    import cffi

    real = cffi.FFI.dlopen

    def dlopen(self: cffi.FFI, name: str, flags: int = 0) -> Any:
        if "pango" in str(name):
            raise OSError(CFFI_CANNOT_LOAD.format(name))
        return real(self, name, flags)

    monkeypatch.setattr(cffi.FFI, "dlopen", dlopen)
    for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
        monkeypatch.delitem(sys.modules, name)
    yield
    for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
        del sys.modules[name]


def test_pdf_without_pango_is_one_line_and_the_html_is_kept(
    store: Path, tmp_path: Path, without_pango: None
) -> None:
    out = tmp_path / "out"
    args = ["report", "--db", str(store), "--out", str(out), "--head-id", "none"]
    result = CliRunner().invoke(cli, [*args, "--format", "html,pdf"])
    assert result.exit_code == 1
    html_path = out / "jobimpact_report.html"
    assert result.output == (
        "Error: PDF: WeasyPrint cannot load the system library Pango ('libpango-1.0-0': "
        "cannot open shared object file: No such file or directory); install Pango "
        "(Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0), or write the "
        f"report as HTML only with --format html (the HTML report is written: {html_path})\n"
    )
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.iterdir()) == ["jobimpact_report.html"]


def test_pdf_without_pango_fails_before_rendering(
    report: Report, tmp_path: Path, without_pango: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_rendering() -> str:
        raise AssertionError("the page was rendered for a PDF that cannot be written")

    monkeypatch.setattr(report, "to_html", no_rendering)
    with pytest.raises(DependencyError) as caught:
        report.write_pdf(tmp_path / "r.pdf")
    assert str(caught.value).startswith(
        "PDF: WeasyPrint cannot load the system library Pango ('libpango-1.0-0': "
    )
    assert str(caught.value).endswith("or write the report as HTML only with --format html")
    assert list(tmp_path.iterdir()) == []


def test_cli_report_on_an_unscored_store_is_one_exact_line(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: got no scores in {db}, expected a scored and aggregated store "
        "(run jobimpact score and jobimpact aggregate)\n"
    )
    assert not out.exists()


def test_scored_but_not_aggregated_store_says_what_to_run(db: Path) -> None:
    run_score(db=db, scorer=get_backend("fake"), limit=2)
    with pytest.raises(
        NotReadyError, match=r"expected an aggregated store \(run jobimpact aggregate\)"
    ):
        Report.from_store(db)
