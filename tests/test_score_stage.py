"""The scoring stage against the store: provenance, resume, failures, selection."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from fixtures import query_rows

from jobimpact.cli import cli
from jobimpact.errors import ConfigError, NotReadyError, ScoringError
from jobimpact.pipeline import resolve_occupations, run_score, select_tasks
from jobimpact.scoring.base import QuestionScore, TaskPrompt, TaskScore
from jobimpact.scoring.fake import FakeScorer


class FlakyScorer(FakeScorer):
    """The fake scorer, failing or interrupting on chosen batches."""

    def __init__(self, *, fail_on: int | None = None, interrupt_on: int | None = None) -> None:
        super().__init__()
        self.calls = 0
        self.fail_on, self.interrupt_on = fail_on, interrupt_on

    def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        self.calls += 1
        if self.calls == self.interrupt_on:
            raise KeyboardInterrupt
        if self.calls == self.fail_on:
            raise ScoringError("model returned NaN logits")
        return super().score_batch(items)


SCORES = "SELECT task_id, question, p_yes, answer_mass FROM task_scores ORDER BY ALL"


def test_scores_are_stored_with_provenance_and_reruns_do_nothing(db: Path) -> None:
    first = run_score(db=db, scorer=FakeScorer(), batch_size=3)
    n_tasks = query_rows(db, "SELECT count(*) FROM tasks")[0][0]
    assert (first.scored, first.already_scored, first.failed) == (n_tasks, 0, 0)
    assert query_rows(db, "SELECT count(*) FROM task_scores") == [(4 * n_tasks,)]
    assert query_rows(db, "SELECT count(*) FROM task_features") == [(n_tasks,)]
    provenance = query_rows(
        db, "SELECT DISTINCT model_id, rubric_hash, method, head_id, run_id FROM task_scores"
    )
    assert provenance == [("fake:seed=0", first.rubric_hash, "zero-shot", "", first.run_id)]
    assert query_rows(db, "SELECT name FROM rubrics") == [("exposure",)]
    before = query_rows(db, SCORES)
    again = run_score(db=db, scorer=FakeScorer())
    assert (again.scored, again.already_scored, again.run_id) == (0, n_tasks, None)
    assert query_rows(db, SCORES) == before


def test_measures_view_derives_the_rubric_measures(db: Path) -> None:
    run_score(db=db, scorer=FakeScorer())
    rows = query_rows(
        db,
        "SELECT p_direct, p_software, p_automation, alpha, beta, zeta, displacement "
        "FROM task_measures",
    )
    for direct, software, automation, alpha, beta, zeta, displacement in rows:
        assert alpha == direct and displacement == automation
        assert beta == pytest.approx(direct + 0.5 * max(0.0, software - direct))
        assert zeta == max(direct, software)


def test_an_interrupted_run_resumes_to_the_same_result(db: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference.duckdb"
    reference.write_bytes(db.read_bytes())
    run_score(db=reference, scorer=FakeScorer(), batch_size=2)

    with pytest.raises(KeyboardInterrupt):
        run_score(db=db, scorer=FlakyScorer(interrupt_on=3), batch_size=2)
    assert query_rows(db, "SELECT count(DISTINCT task_id) FROM task_scores") == [(4,)]
    assert query_rows(db, "SELECT status FROM runs WHERE stage = 'score'") == [("interrupted",)]
    resumed = run_score(db=db, scorer=FakeScorer(), batch_size=2)
    assert resumed.already_scored == 4
    assert query_rows(db, SCORES) == query_rows(reference, SCORES)


def test_a_failing_batch_is_recorded_and_the_rest_scored(db: Path) -> None:
    result = run_score(db=db, scorer=FlakyScorer(fail_on=1), batch_size=2)
    assert result.failed == 2 and result.scored == result.selected - 2
    failures = query_rows(db, "SELECT reason FROM scoring_failures")
    assert failures == [("model returned NaN logits",)] * 2
    retry = run_score(db=db, scorer=FakeScorer(), batch_size=2)
    assert (retry.scored, retry.already_scored) == (2, result.selected - 2)


def test_sample_spreads_over_major_groups_and_is_reproducible(db: Path) -> None:
    from jobimpact.store import open_store
    from jobimpact.store.scores import tasks_to_score

    with open_store(db) as con:
        tasks = tasks_to_score(con)
    n_groups = tasks["soc_major"].nunique()
    picked = select_tasks(tasks, sample=n_groups)
    assert picked["soc_major"].nunique() == n_groups
    assert picked["onet_soc_code"].nunique() == n_groups
    assert select_tasks(tasks, sample=n_groups).equals(picked)
    with pytest.raises(ConfigError, match="--sample: got 0, expected 1 to"):
        select_tasks(tasks, sample=0)


@pytest.fixture(scope="module")
def store_tasks(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The tasks of the fixture store as scoring reads them (ingested once for the module)."""
    from fixtures import write_fixture_release

    from jobimpact.pipeline import run_ingest
    from jobimpact.store import open_store
    from jobimpact.store.scores import tasks_to_score

    root = tmp_path_factory.mktemp("occupations")
    db = root / "store.duckdb"
    run_ingest(db=db, data_dir=write_fixture_release(root / "data").data_dir)
    with open_store(db) as con:
        return tasks_to_score(con)


@pytest.mark.parametrize(
    ("given", "codes", "expanded"),
    [
        # O*NET-SOC codes stand for themselves, blanks and repeats ignored.
        ([" 15-1252.00", "15-1252.00 "], ["15-1252.00"], {}),
        # A SOC code, as BLS data has it: every O*NET-SOC occupation the crosswalk maps to it.
        (["11-1011"], ["11-1011.00", "11-1011.03"], {"11-1011": ("11-1011.00", "11-1011.03")}),
        (["15-1252"], ["15-1252.00"], {"15-1252": ("15-1252.00",)}),
        # An OEWS aggregate (13-1023.00 has no tasks), a broad and a major group.
        (["13-1020"], ["13-1021.00", "13-1022.00"], {"13-1020": ("13-1021.00", "13-1022.00")}),
        (["15-1250"], ["15-1252.00", "15-1253.00"], {"15-1250": ("15-1252.00", "15-1253.00")}),
        (
            ["15-0000", "15-1252.00"],
            ["15-1252.00", "15-1253.00"],
            {"15-0000": ("15-1252.00", "15-1253.00")},
        ),
    ],
)
def test_occupations_accept_soc_codes_and_expand_them(
    store_tasks: pd.DataFrame,
    given: list[str],
    codes: list[str],
    expanded: dict[str, tuple[str, ...]],
) -> None:
    tasks = store_tasks
    assert resolve_occupations(tasks, given) == (codes, expanded)
    picked = select_tasks(tasks, occupations=given)
    assert sorted(picked["onet_soc_code"].unique()) == sorted(codes)
    assert len(picked) == int(tasks["onet_soc_code"].isin(codes).sum())


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            ["99-9999.00"],
            "--occupations: got '99-9999.00', expected O*NET-SOC codes like 15-1252.00 or SOC "
            "codes like 15-1252 of occupations with task statements",
        ),
        (
            ["15-1252.01", "soft dev", "15-1252"],
            "--occupations: got '15-1252.01', 'soft dev', expected O*NET-SOC codes like "
            "15-1252.00 or SOC codes like 15-1252 of occupations with task statements; for "
            "'15-1252.01' try 15-1252.00 (Software Developers)",
        ),
        (
            # Both O*NET-SOC occupations of 15-1255 lack task statements: suggest its group.
            ["15-1255"],
            "--occupations: got '15-1255', expected O*NET-SOC codes like 15-1252.00 or SOC "
            "codes like 15-1252 of occupations with task statements; for '15-1255' try "
            "15-1252.00 (Software Developers), 15-1253.00 (Software Quality Assurance Analysts "
            "and Testers)",
        ),
    ],
)
def test_occupations_that_match_nothing_are_quoted_with_suggestions(
    store_tasks: pd.DataFrame, given: list[str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        select_tasks(store_tasks, occupations=given)
    assert str(caught.value) == message


def test_cli_score_says_what_a_soc_code_stands_for(db: Path) -> None:
    runner = CliRunner()
    args = ["score", "--db", str(db), "--backend", "fake", "--occupations", "11-1011"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "--occupations: SOC code 11-1011 stands for 11-1011.00, 11-1011.03"
    )
    assert "4 tasks scored, 0 already scored, 0 failed (of 4 selected)" in result.output
    scored = query_rows(
        db, "SELECT DISTINCT onet_soc_code FROM tasks JOIN task_scores USING (task_id)"
    )
    assert sorted(scored) == [("11-1011.00",), ("11-1011.03",)]
    (parameters,) = query_rows(db, "SELECT parameters FROM runs WHERE stage = 'score'")[0]
    assert '"expanded": {"11-1011": ["11-1011.00", "11-1011.03"]}' in str(parameters)
    bad = runner.invoke(cli, [*args[:-1], "11-1011,15-1255.00"])
    assert bad.exit_code == 1
    assert bad.output == (
        "Error: --occupations: got '15-1255.00', expected O*NET-SOC codes like 15-1252.00 or "
        "SOC codes like 15-1252 of occupations with task statements; for '15-1255.00' try "
        "15-1252.00 (Software Developers), 15-1253.00 (Software Quality Assurance Analysts "
        "and Testers)\n"
    )


def test_cli_score_with_the_fake_backend(db: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["score", "--db", str(db), "--backend", "fake", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert "3 tasks scored, 0 already scored, 0 failed (of 3 selected)" in result.output
    bad = runner.invoke(cli, ["score", "--db", str(db), "--backend", "nope"])
    assert bad.exit_code == 1
    assert bad.output.startswith("Error: ") and bad.output.count("\n") == 1


def test_aggregate_stores_occupation_roll_ups_and_the_views_use_them(db: Path) -> None:
    from jobimpact.aggregate import occupation_scores
    from jobimpact.pipeline import run_aggregate
    from jobimpact.store import open_store
    from jobimpact.store.scores import task_measures
    from jobimpact.store.scorings import ScoringKey

    scored = run_score(db=db, scorer=FakeScorer())
    first = run_aggregate(db=db, n_boot=50)
    assert (first.model_id, first.rubric_hash) == (scored.model_id, scored.rubric_hash)
    stored = query_rows(db, "SELECT onet_soc_code, displacement FROM occupation_scores ORDER BY 1")
    with open_store(db) as con:
        measures = task_measures(con, ScoringKey(scored.model_id, scored.rubric_hash, ""))
    expected = occupation_scores(measures, n_boot=0).sort_values("onet_soc_code")
    assert [code for code, _ in stored] == expected["onet_soc_code"].tolist()
    assert [d for _, d in stored] == pytest.approx(expected["displacement"].tolist())
    again = run_aggregate(db=db, n_boot=50)
    assert query_rows(db, "SELECT count(*) FROM occupation_scores") == [(len(stored),)]
    assert again.n_occupations == first.n_occupations
    economy = query_rows(
        db,
        "SELECT share_at_risk + share_transforming + share_augmented + share_little_change, "
        "employment FROM economy_impact",
    )
    groups = query_rows(db, "SELECT sum(employment) FROM major_group_impact")
    assert economy[0][0] == pytest.approx(1.0)
    assert groups[0][0] == pytest.approx(economy[0][1])


def test_aggregate_without_scores_says_what_to_run(db: Path) -> None:
    from jobimpact.pipeline import run_aggregate

    with pytest.raises(NotReadyError, match="expected `jobimpact score` first"):
        run_aggregate(db=db)


class BrokenModel(FakeScorer):
    """The fake scorer giving what damaged weights give, from the second batch on."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind, self.calls = kind, 0

    def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
        self.calls += 1
        results = super().score_batch(items)
        if self.calls == 1:
            return results
        first = results[0]
        answers = dict(first.answers)
        feature = first.feature.copy() if first.feature is not None else None
        if self.kind == "all 0.5":
            return [
                TaskScore(r.task_id, {q: QuestionScore(0.5, 0.9) for q in r.answers}, r.feature)
                for r in results
            ]
        if self.kind == "huge feature" and feature is not None:
            feature *= 4e9
        return [TaskScore(first.task_id, answers, feature), *results[1:]]


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("all 0.5", "P(Yes) exactly 0.5 for every answer of 3 tasks"),
        ("huge feature", "a feature value of {huge} for task {task}"),
    ],
)
def test_degenerate_model_outputs_stop_the_run_before_they_are_stored(
    db: Path, kind: str, problem: str
) -> None:
    with pytest.raises(ScoringError) as caught:
        run_score(db=db, scorer=BrokenModel(kind), batch_size=3)
    task = query_rows(db, "SELECT task_id FROM tasks ORDER BY task_id LIMIT 1 OFFSET 3")[0][0]
    stored = query_rows(db, "SELECT task_id FROM task_scores WHERE question = 'direct' ORDER BY 1")
    huge = f"{np.abs(FakeScorer().score_batch([_prompt(db, task)])[0].feature).max() * 4e9:.3g}"
    assert str(caught.value) == (
        f"model fake:seed=0: got {problem.format(task=task, huge=huge)}, expected "
        "probabilities that vary and features below 1e+06; nothing of this batch was stored "
        "(check the model's files, or the server behind it)"
    )
    assert len(stored) == 3  # the first batch only
    assert query_rows(db, "SELECT count(*) FROM task_features") == [(3,)]
    assert query_rows(db, "SELECT status, counts->>'scored' FROM runs WHERE stage = 'score'") == [
        ("failed", "3")
    ]


def _prompt(db: Path, task_id: object) -> TaskPrompt:
    ((occupation, task),) = query_rows(
        db,
        "SELECT o.title, t.task FROM tasks t JOIN occupations o USING (onet_soc_code) "
        f"WHERE task_id = {task_id}",
    )
    return TaskPrompt(occupation=str(occupation), task=str(task), task_id=str(task_id))
