"""The report's creation side: quadrant lines and their sensitivity, creation's validation,
the occupations and families with most creation and the new work beside them, and the
method text that says what each axis measures."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fixtures import query_rows
from test_report import build_store

from jobimpact.aggregate import QUADRANTS, SENSITIVITY_THRESHOLDS
from jobimpact.pipeline import run_aggregate
from jobimpact.report import Report

# Creation checks stored for the "validated" store: (source, reference, level, metric,
# value, ci_low, ci_high, n).
CREATION_METRICS = [
    ("ours", "economic_index", "task", "spearman_augmentation", 0.612, 0.55, 0.67, 987),
    ("zero-shot", "economic_index", "task", "spearman_augmentation", 0.021, -0.05, 0.09, 987),
    ("formula", "economic_index", "task", "spearman_augmentation", 0.251, 0.18, 0.31, 987),
    ("ours", "economic_index", "task", "auc_augmentation", 0.781, 0.74, 0.82, 987),
    ("zero-shot", "economic_index", "task", "auc_augmentation", 0.531, 0.49, 0.57, 987),
    ("formula", "economic_index", "task", "auc_augmentation", 0.652, 0.61, 0.69, 987),
    ("ours", "new_work", "task", "auc_new_vs_established", 0.507, 0.47, 0.55, 321),
    ("ours", "new_work", "occupation", "pearson_new_share", 0.013, -0.08, 0.10, 455),
    ("ours", "new_work", "occupation", "spearman_new_share", -0.004, -0.09, 0.09, 455),
    ("ours", "usage", "task", "auc_in_use", 0.644, 0.61, 0.68, 4000),
    ("human", "usage", "task", "auc_in_use", 0.671, 0.64, 0.70, 3900),
]
# Wording of the report before the quadrant lines and creation were measured.
OLD_WORDING = (
    "Quadrants split occupations at the employment-weighted medians",
    "The creation question has no labels",
    "quadrant thresholds (employment-weighted medians)",
    "P(Yes) of the creation question is read zero-shot",
    "creation axis: creation",
    "most created-for",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("creation"))


@pytest.fixture(scope="module")
def report(store: Path) -> Report:
    return Report.from_store(store)


@pytest.fixture(scope="module")
def calibrated(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store with a head 'head1' that answers every question, creation included,
    aggregated, and a validation of it holding exposure and creation checks."""
    db = tmp_path_factory.mktemp("calibrated") / "store.duckdb"
    shutil.copy(store, db)
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "INSERT INTO task_scores SELECT * REPLACE ('calibrated' AS method, 'head1' AS head_id, "
            "p_yes * 0.9 AS p_yes) FROM task_scores"
        )
        _insert_validation(con, "head1", CREATION_METRICS)
    finally:
        con.close()
    run_aggregate(db=db, head_id="head1", n_boot=0)
    return db


def _insert_validation(
    con: duckdb.DuckDBPyConnection, head_id: str, creation: list[tuple[Any, ...]]
) -> None:
    model_id, rubric_hash = con.execute(
        "SELECT model_id, rubric_hash FROM task_scores LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    con.execute(
        "INSERT INTO validations (validation_id, run_id, model_id, rubric_hash, head_id, mode, "
        "labels_name, labels_sha256, n_labelled, n_matched_id, n_matched_text, n_scored, "
        "created_at, creation_labels_name, creation_labels_sha256, n_creation_labelled) VALUES "
        "('v1', 'run1', ?, ?, ?, 'out-of-fold', 'labels.tsv', 'abc', 10, 9, 1, 10, now(), "
        "?, 'def', 987)",
        [model_id, rubric_hash, head_id, "modes.csv" if creation else None],
    )
    rows = [("ours", "human", "task", "auc_exposed", 0.906, None, None, 10), *creation]
    con.executemany("INSERT INTO validation_metrics VALUES ('v1', ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _shares(db: Path, column: str) -> dict[str, float]:
    rows = query_rows(
        db,
        f"SELECT {column}, sum(employment) / (SELECT sum(employment) FROM occupation_impact "
        "WHERE weighting = 'rating' AND employment > 0) FROM occupation_impact "
        f"WHERE weighting = 'rating' AND employment > 0 GROUP BY {column}",
    )
    return {str(q): float(share) for q, share in rows}


def test_sensitivity_rows_sum_to_one_and_the_stated_row_is_the_headline(
    store: Path, report: Report
) -> None:
    views = report.summary["quadrants"]
    assert views["available"]
    table = views["sensitivity"]
    assert list(table["displacement_line"]) == list(SENSITIVITY_THRESHOLDS)
    assert list(table["creation_line"]) == list(SENSITIVITY_THRESHOLDS)
    assert table[list(QUADRANTS)].sum(axis=1).tolist() == pytest.approx([1.0] * len(table))
    stated = table[table["stated"]]
    assert stated[["displacement_line", "creation_line"]].values.tolist() == [[0.5, 0.5]]
    headline = {q["quadrant"]: q["share"] for q in report.summary["headline"]["quadrants"]}
    assert stated.iloc[0][list(QUADRANTS)].tolist() == pytest.approx(list(headline.values()))
    # Lower lines move workers out of "little change" (every fixture occupation is below 0.5).
    lowest = table.iloc[0]
    assert lowest["little change"] < stated.iloc[0]["little change"] == pytest.approx(1.0)


def test_relative_view_is_the_median_split_from_the_store(store: Path, report: Report) -> None:
    relative = report.summary["quadrants"]["relative"]
    expected = _shares(store, "quadrant_relative")
    assert {q: relative[q] for q in QUADRANTS} == pytest.approx(
        {q: expected.get(q, 0.0) for q in QUADRANTS}
    )
    assert sum(relative[q] for q in QUADRANTS) == pytest.approx(1.0)
    medians = query_rows(
        store,
        "SELECT DISTINCT displacement_median, creation_median FROM occupation_scores "
        "WHERE weighting = 'rating'",
    )
    assert len(medians) == 1
    assert (relative["displacement_line"], relative["creation_line"]) == pytest.approx(medians[0])


def test_stated_lines_off_the_grid_get_their_own_row(store: Path, tmp_path: Path) -> None:
    db = tmp_path / "lines.duckdb"
    shutil.copy(store, db)
    run_aggregate(db=db, n_boot=0, displacement_threshold=0.33, creation_threshold=0.4)
    summary = Report.from_store(db).summary
    table = summary["quadrants"]["sensitivity"]
    assert len(table) == len(SENSITIVITY_THRESHOLDS) + 1
    stated = table[table["stated"]].iloc[0]
    assert (stated["displacement_line"], stated["creation_line"]) == (0.33, 0.4)
    expected = _shares(db, "quadrant")
    assert stated[list(QUADRANTS)].tolist() == pytest.approx(
        [expected.get(q, 0.0) for q in QUADRANTS]
    )
    assert table[list(QUADRANTS)].sum(axis=1).tolist() == pytest.approx([1.0] * len(table))
    page = Report(summary).to_html()
    assert "high on displacement above 0.33" in page and "more likely than not" not in page


def test_page_says_what_the_axes_and_lines_mean_and_nothing_stale(report: Report) -> None:
    page = " ".join(report.to_html().split())  # the template wraps its lines anywhere
    for old in OLD_WORDING:
        assert old not in page, old
    assert '<h3 id="method-axes">What the two axes measure</h3>' in page
    assert "more likely than not that an LLM system can do its tasks" in page
    assert "more likely augmentative than automative" in page
    assert "Autor, Chin, Salomons &amp; Seegmiller 2024" in page
    assert "Acemoglu &amp; Restrepo 2018, 2019" in page
    assert "relative view: medians" in page and "By construction it puts about half" in page
    assert "Dashed lines: the stated quadrant lines, displacement 0.50" in page
    # the fake scorer has no head: creation is the zero-shot answer, and the page says so
    assert report.summary["creation"]["source"] == "zero-shot"
    assert "creation: zero-shot answer" in page
    assert "the axis is not measured" in page
    assert "Creation: not validated." in page
    assert "Observed augmentation comes from conversations" not in page


def test_creation_top_lists_carry_the_new_work_beside_them(store: Path, report: Report) -> None:
    top, creation = report.summary["top_lists"], report.summary["creation"]
    workers = top["created_workers"]
    expected = query_rows(
        store,
        "SELECT onet_soc_code, employment * creation FROM occupation_impact "
        "WHERE weighting = 'rating' AND employment > 0 ORDER BY 2 DESC",
    )
    got = list(zip(workers["onet_soc_code"], workers["creation_workers"], strict=True))
    assert [g[0] for g in got] == [e[0] for e in expected]
    assert [g[1] for g in got] == pytest.approx([e[1] for e in expected])
    assert list(top["created"]["creation"]) == sorted(top["created"]["creation"], reverse=True)
    evidence = creation["occupations"]
    assert creation["baseline_release"] == "20.1"
    assert evidence["evidence"]["15-1252.00"]["share_new"] == pytest.approx(0.5)
    assert evidence["new_tasks"]["15-1252.00"] == ["Modify software to correct errors."]
    assert evidence["new_tasks"]["11-1011.03"] == ['Identify "green" opportunities.']
    assert evidence["emerging"]["11-1011.00"] == ["Oversee the use of generative AI tools."]
    assert "11-1021.00" not in evidence["new_tasks"]
    page = report.to_html()
    assert "new: Modify software to correct errors." in page
    assert "emerging: Oversee the use of generative AI tools." in page
    assert "Most creation in worker-equivalents (workers × creation)" in page


def test_families_with_most_creation_and_their_new_tasks(store: Path, report: Report) -> None:
    families = report.summary["creation"]["families"]
    assert families["available"]
    table = families["table"]
    assert list(table["creation"]) == sorted(table["creation"], reverse=True)
    assert (table["n_tasks_scored"] >= families["min_tasks"]).all()
    counts = dict(query_rows(store, "SELECT cluster_id, n_new FROM family_new_work"))
    assert dict(zip(table["cluster_id"], table["n_new"], strict=True)) == {
        c: counts[c] for c in table["cluster_id"]
    }
    shown = [task for tasks in table["new_tasks"] for task in tasks]
    assert sorted(shown) == [
        'Identify "green" opportunities. (Chief Sustainability Officers)',
        "Modify software to correct errors. (Software Developers)",
    ]


def test_headline_weighs_creation_and_displacement_by_wage_bill(
    store: Path, report: Report
) -> None:
    headline = report.summary["headline"]
    expected = query_rows(
        store,
        "SELECT sum(displacement * wage_bill) / sum(wage_bill), "
        "sum(creation * wage_bill) / sum(wage_bill) FROM occupation_impact "
        "WHERE weighting = 'rating' AND employment > 0 AND wage_bill > 0",
    )[0]
    got = (headline["displacement_wage_weighted"], headline["creation_wage_weighted"])
    assert got == pytest.approx(expected)


def test_creation_validation_shows_the_stored_numbers(calibrated: Path) -> None:
    report = Report.from_store(calibrated)
    summary = report.summary
    assert summary["scoring"]["head_id"] == "head1"
    creation = summary["creation"]
    assert creation["source"] == "calibrated"
    validation = creation["validation"]
    assert validation["available"] and validation["labels_name"] == "modes.csv"
    table = validation["table"].set_index("metric")
    spearman = table.loc["spearman_augmentation"]
    assert [spearman["ours"], spearman["zero_shot"], spearman["formula"]] == [0.612, 0.021, 0.251]
    assert (spearman["ours_low"], spearman["ours_high"], spearman["n"]) == (0.55, 0.67, 987)
    assert table.loc["auc_in_use", "human"] == 0.671
    assert validation["reading"] == {
        "spearman_augmentation": "above",
        "auc_augmentation": "above",
        "auc_new_vs_established": "unclear",
        "pearson_new_share": "unclear",
        "spearman_new_share": "unclear",
        "auc_in_use": "above",
    }
    assert validation["head_beats_formula"] and validation["head_beats_zero_shot"]
    assert validation["ours_vs_human_use"] is False
    # the exposure table holds the exposure metrics only
    assert list(summary["validation"]["table"]["metric"]) == ["auc_exposed"]
    page = report.to_html()
    assert "Creation: not validated" not in page
    assert "0.612 <span" in page and "[0.55, 0.67]" in page and "[-0.05, 0.09]" in page
    assert "New work since O*NET 20.1" in page and "includes 0.5" in page
    assert "does not tell tasks new since the baseline release from established ones" in page
    assert "has a higher\n  Spearman correlation than the old formula" in page
    assert "Creation is a probability <i>given</i> LLM use" in page
    # this store holds the zero-shot answers, so the table's column is explained
    assert "the model's zero-shot answer to the creation question, and" in page
    assert "Creation is not calibrated" not in page
    assert "creation: calibrated augmentation head" in page
    assert "Observed augmentation comes from conversations with one assistant" in page
    assert "Anthropic Economic\n  Index (Handa et al. 2025), data CC BY." in page


def test_validation_without_creation_checks_says_not_validated(store: Path, tmp_path: Path) -> None:
    db = tmp_path / "exposure_only.duckdb"
    shutil.copy(store, db)
    con = duckdb.connect(str(db))
    try:
        _insert_validation(con, "", [])
    finally:
        con.close()
    report = Report.from_store(db)
    assert report.summary["validation"]["available"]
    assert report.summary["creation"]["validation"] == {"available": False}
    page = report.to_html()
    assert "AUC: exposed (E1 or E2) against not" in page
    assert "Creation: not validated." in page


def test_a_head_without_a_creation_model_is_said(store: Path, tmp_path: Path) -> None:
    db = tmp_path / "no_creation_head.duckdb"
    shutil.copy(store, db)
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "INSERT INTO task_scores SELECT * REPLACE ('calibrated' AS method, 'head2' AS head_id) "
            "FROM task_scores WHERE question <> 'creation'"
        )
    finally:
        con.close()
    run_aggregate(db=db, head_id="head2", n_boot=0)
    report = Report.from_store(db)
    assert report.summary["creation"]["source"] == "zero-shot"
    assert report.summary["creation"]["answers"] == {"calibrated": 0, "zero_shot": 12}
    page = report.to_html()
    assert "Creation is not calibrated." in page
    assert "this head has no creation model, so P(Yes) of the creation question" in page


def test_the_creation_sections_render_to_pdf(calibrated: Path, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    from jobimpact.report.render import load_weasyprint

    try:
        load_weasyprint()
    except Exception as error:  # pragma: no cover - a machine without Pango
        pytest.skip(str(error))
    report = Report.from_store(calibrated)
    assert report.write_pdf(tmp_path / "report.pdf") > 0
