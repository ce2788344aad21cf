"""Measures are defined once: the store's view and derive_measures agree, and a rubric with
other question keys reaches every measure, the roll-up and the report through its roles."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from fixtures import query_rows

from jobimpact.errors import ConfigError
from jobimpact.measures import MEASURE_NAMES, MEASURES, ROLES, derive_measures
from jobimpact.pipeline import run_aggregate, run_score
from jobimpact.report import Report
from jobimpact.scoring import Question, load_rubric
from jobimpact.scoring.fake import FakeScorer
from jobimpact.store.views import rendered_views


def test_the_view_and_derive_measures_give_the_same_numbers(db: Path) -> None:
    run_score(db=db, scorer=FakeScorer())
    columns = ", ".join([*(f"p_{r}" for r in ROLES), *MEASURE_NAMES])
    frame = pd.DataFrame(
        query_rows(db, f"SELECT {columns} FROM task_measures ORDER BY task_id"),
        columns=[*(f"p_{r}" for r in ROLES), *MEASURE_NAMES],
    )
    derived = derive_measures(frame[[f"p_{r}" for r in ROLES]])
    pd.testing.assert_frame_equal(derived, frame[list(MEASURE_NAMES)], check_dtype=False)


def test_the_view_is_generated_from_the_measure_definitions() -> None:
    sql = rendered_views()["task_measures"]
    for measure in MEASURES:
        assert f"{measure.expression} END AS {measure.name}" in sql
        assert measure.description in sql  # documented in the view's header


def custom_rubric() -> object:
    """The packaged rubric with other question keys, each naming the role it plays."""
    base = load_rubric()
    keys = {"direct": "chat", "software": "tools", "automation": "auto", "creation": "newwork"}
    questions = tuple(
        Question(key=keys[q.key], label=q.label, prompt=q.prompt, role=q.key)
        for q in base.questions
    )
    return replace(base, name="custom", questions=questions)


def test_a_rubric_with_other_keys_reaches_aggregate_and_report(db: Path) -> None:
    rubric = custom_rubric()
    scored = run_score(db=db, scorer=FakeScorer(rubric=rubric))  # type: ignore[arg-type]
    stored = query_rows(db, "SELECT DISTINCT question FROM task_scores ORDER BY 1")
    assert stored == [("auto",), ("chat",), ("newwork",), ("tools",)]
    pairs = query_rows(
        db,
        "SELECT m.p_direct, s.p_yes FROM task_measures AS m JOIN task_scores AS s "
        "USING (task_id, prompt_sha256) WHERE s.question = 'chat'",
    )
    assert pairs and all(a == b for a, b in pairs)
    rolled = run_aggregate(db=db, n_boot=0)
    assert rolled.rubric_hash == scored.rubric_hash and rolled.n_occupations > 0
    summary = Report.from_store(db).summary
    assert summary["scoring"]["rubric_hash"] == scored.rubric_hash
    assert summary["headline"]["available"]
    keys = [q["key"] for q in summary["provenance"]["rubric"]["questions"]]
    assert keys == ["chat", "tools", "auto", "newwork"]


def test_roles_are_checked_and_the_default_rubric_keeps_its_hash() -> None:
    base = load_rubric()
    assert base.hash == "274e9aa56e4c0ef52eb5320de42a13aac9247fcbf81889eac938cd8d24d6fe66"
    assert base.roles == {r: r for r in ROLES}
    twice = tuple(replace(q, role="direct") for q in base.questions[:2])
    with pytest.raises(ConfigError, match="field 'role': got \\['direct', 'direct'\\]"):
        replace(base, questions=twice)
