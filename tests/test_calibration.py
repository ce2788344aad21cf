"""Calibration heads: fitting on grouped folds, out-of-fold scoring, storage, the stage."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from fixtures import query_rows

from jobimpact.calibration import (
    FULL_MODEL,
    CalibrationHead,
    assign_folds,
    fit_head,
    head_from_dict,
    head_to_dict,
)
from jobimpact.cli import cli
from jobimpact.errors import ConfigError, DataError
from jobimpact.labels import default_labels_path, read_labels
from jobimpact.pipeline import apply_head, run_aggregate, run_calibrate, run_score
from jobimpact.scoring import get_backend
from jobimpact.store import open_store
from jobimpact.store.calibration import read_head, write_head

pytest.importorskip("sklearn")


def synthetic(n_occupations: int = 30, per: int = 12, dim: int = 6, seed: int = 0):  # type: ignore[no-untyped-def]
    """Labelled tasks whose first feature drives exposure and whose second drives automation."""
    rng = np.random.default_rng(seed)
    n = n_occupations * per
    features = rng.standard_normal((n, dim))
    exposed = features[:, 0] + 0.5 * rng.standard_normal(n) > 0
    direct = exposed & (features[:, 0] > 0.8)
    human = np.where(direct, "E1", np.where(exposed, "E2", "E0"))
    automation = np.where(features[:, 1] > 0.5, "T3", "T1")
    labels = pd.DataFrame(
        {
            "task_id": np.arange(n),
            "onet_soc_code": [f"11-{1000 + i // per}.00" for i in range(n)],
            "human": human,
            "gpt4_automation": automation,
        }
    )
    return features, labels


def fit(features: np.ndarray, labels: pd.DataFrame) -> tuple[CalibrationHead, pd.DataFrame]:
    return fit_head(
        features,
        labels,
        model_id="m",
        rubric_hash="r",
        feature_spec="spec",
        labels_name="labels.tsv",
        labels_sha256="0" * 64,
        n_folds=5,
    )


def test_folds_keep_each_occupation_whole_and_are_balanced() -> None:
    codes = [f"c{i % 23}" for i in range(230)]
    folds = assign_folds(codes, 5, random_state=0)
    assert set(folds) == set(codes)
    sizes = np.bincount(list(folds.values()))
    assert sizes.max() - sizes.min() <= 1
    assert folds == assign_folds(list(reversed(codes)), 5, random_state=0)


def test_head_learns_the_signal_and_reports_out_of_fold_metrics() -> None:
    features, labels = synthetic()
    head, oof = fit(features, labels)
    assert head.questions == ["automation", "direct", "software"]
    assert head.n_folds == 5 and head.n_occupations == 30 and head.n_tasks == 360
    assert head.cv_metrics["software"]["auc"] > 0.8
    assert head.cv_metrics["automation"]["auc"] > 0.9
    assert oof["task_id"].tolist() == labels["task_id"].tolist()
    # predict() on the training tasks gives exactly the out-of-fold predictions
    again = head.predict(features, labels["onet_soc_code"].tolist())
    np.testing.assert_allclose(again["software"], oof["software"], rtol=1e-12)


def test_training_occupations_are_scored_by_the_fold_model_that_never_saw_them() -> None:
    features, labels = synthetic()
    head, _ = fit(features, labels)
    code = labels["onet_soc_code"].iloc[0]
    fold = head.folds[code]
    rows = features[labels["onet_soc_code"] == code]
    got = head.predict(rows, [code] * len(rows))["direct"].to_numpy()
    np.testing.assert_allclose(got, head.weights[("direct", fold)].predict(rows))
    full = head.weights[("direct", FULL_MODEL)].predict(rows)
    assert not np.allclose(got, full)
    unseen = head.predict(rows, ["99-9999.00"] * len(rows))["direct"].to_numpy()
    np.testing.assert_allclose(unseen, full)


@pytest.mark.slow
def test_head_id_is_a_content_address_and_survives_json_and_the_store(db: Path) -> None:
    features, labels = synthetic()
    head, _ = fit(features, labels)
    assert fit(features, labels)[0].head_id == head.head_id
    restored = head_from_dict(json.loads(json.dumps(head_to_dict(head))))
    assert restored.head_id == head.head_id
    with open_store(db) as con:
        write_head(con, head, run_id="run")
        write_head(con, head, run_id="run")  # a second write is a no-op
        stored = read_head(con, head.head_id)
    assert stored is not None and stored.head_id == head.head_id
    np.testing.assert_allclose(
        stored.predict(features, labels["onet_soc_code"].tolist()),
        head.predict(features, labels["onet_soc_code"].tolist()),
    )
    tampered = head_to_dict(head)
    tampered["weights"][0]["intercept"] += 1.0
    with pytest.raises(ConfigError, match=r"got content with id \w+, expected " + head.head_id):
        head_from_dict(tampered)


def test_too_few_labelled_tasks_is_a_clear_error() -> None:
    features, labels = synthetic(n_occupations=5, per=10)
    with pytest.raises(ConfigError) as error:
        fit(features, labels)
    assert str(error.value) == (
        "calibration: got 50 labelled tasks with features in 5 occupations, expected at least "
        "100 tasks in 10 occupations (score the labelled occupations first: jobimpact score "
        "--labelled)"
    )


# --- labels files ---------------------------------------------------------------------


def write_labels(path: Path, rows: list[list[str]]) -> Path:
    header = ["O*NET-SOC Code", "Task ID", "Task", "human_exposure_agg", "gpt4_exposure"]
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def test_label_file_errors_name_file_row_and_field(tmp_path: Path) -> None:
    bad = write_labels(tmp_path / "l.tsv", [["11-1011.00", "8823.0", "Direct", "E3", "E1"]])
    with pytest.raises(DataError) as error:
        read_labels(bad)
    assert (
        str(error.value)
        == "l.tsv, row 2, field 'human_exposure_agg': got 'E3', expected one of E0, E1, E2"
    )
    bad = write_labels(tmp_path / "l.tsv", [["11-1011.00", "88x", "Direct", "E1", "E1"]])
    with pytest.raises(DataError, match=r"row 2, field 'Task ID': got '88x', expected an integer"):
        read_labels(bad)
    (tmp_path / "m.tsv").write_text("O*NET-SOC Code\tTask ID\tTask\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"m.tsv.*human_exposure_agg"):
        read_labels(tmp_path / "m.tsv")


def test_label_columns_are_matched_ignoring_case_and_still_checked(tmp_path: Path) -> None:
    path = write_labels(tmp_path / "l.tsv", [["11-1011.00", "8823.0", "Direct", "E1", "E9"]])
    path.write_text(path.read_text().replace("gpt4_exposure", "GPT4_Exposure"), encoding="utf-8")
    with pytest.raises(DataError) as error:
        read_labels(path)
    assert (
        str(error.value)
        == "l.tsv, row 2, field 'gpt4_exposure': got 'E9', expected one of E0, E1, E2"
    )


# --- the stage on the real mirror, with the fake scorer's features ---------------------


@pytest.fixture
def labelled_store(labelled_scored_store: Path, tmp_path: Path) -> Path:
    """A copy of the scored store to write to."""
    return Path(shutil.copy(labelled_scored_store, tmp_path / "store.duckdb"))


@pytest.mark.slow
def test_calibrate_stores_a_head_and_scores_every_featured_task(
    labelled_store: Path, mirror_data: Path
) -> None:
    labels = default_labels_path(mirror_data)
    result = run_calibrate(db=labelled_store, labels=labels)
    assert result.n_occupations == 30 and result.n_labelled == 9586
    assert (
        result.applied
        == query_rows(
            labelled_store, "SELECT count(DISTINCT task_id) FROM task_scores WHERE head_id = ''"
        )[0][0]
    )
    # the fake scorer's first feature is a keyword score, so exposure is learnable
    assert result.cv_metrics["software"]["auc"] > 0.6
    rows = query_rows(
        labelled_store,
        "SELECT method, count(*), count(DISTINCT question) FROM task_scores "
        "WHERE head_id <> '' GROUP BY method",
    )
    assert rows == [("calibrated", 3 * result.applied, 3)]
    # calibrated measures take P(creation) from the zero-shot answer of the same prompt
    creation = query_rows(
        labelled_store,
        "SELECT count(*) FROM task_measures AS c JOIN task_measures AS z USING (task_id) "
        "WHERE c.head_id <> '' AND z.head_id = '' AND c.creation = z.creation",
    )
    assert creation == [(result.applied,)]
    # a second calibration on the same data is the same head and adds nothing
    again = run_calibrate(db=labelled_store, labels=labels)
    assert again.head_id == result.head_id and again.applied == 0
    # aggregation picks the calibrated scores by default, zero-shot on request
    assert run_aggregate(db=labelled_store, n_boot=0).head_id == result.head_id
    assert run_aggregate(db=labelled_store, head_id="", n_boot=0).head_id == ""


@pytest.mark.slow
def test_scoring_applies_an_existing_head_to_new_tasks(
    labelled_store: Path, mirror_data: Path
) -> None:
    result = run_calibrate(db=labelled_store, labels=default_labels_path(mirror_data))
    scored = run_score(db=labelled_store, scorer=get_backend("fake", feature_dim=16), limit=1500)
    assert scored.head_id == result.head_id and scored.scored > 0
    again = run_score(db=labelled_store, scorer=get_backend("fake", feature_dim=16), limit=1500)
    assert again.scored == 0 and again.head_id == result.head_id
    missing = query_rows(
        labelled_store,
        "SELECT count(*) FROM (SELECT DISTINCT task_id FROM task_scores WHERE head_id = '') z "
        f"ANTI JOIN (SELECT DISTINCT task_id FROM task_scores WHERE head_id = '{result.head_id}')"
        " c USING (task_id)",
    )
    assert missing == [(0,)]
    assert apply_head(db=labelled_store, head_id=result.head_id, run_id="r") == 0


@pytest.mark.slow
def test_calibrate_cli_reports_and_exports(
    labelled_store: Path, mirror_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "head.json"
    run = CliRunner().invoke(
        cli,
        [
            "calibrate",
            "--db",
            str(labelled_store),
            "--data-dir",
            str(mirror_data),
            "--export",
            str(out),
        ],
    )
    assert run.exit_code == 0, run.output
    assert "fitted on" in run.output and "out-of-fold (occupation-grouped):" in run.output
    assert "9,339 of 9,586 labels matched by id" in run.output
    head = head_from_dict(json.loads(out.read_text()))
    assert head.head_id in run.output


def test_calibrate_cli_errors(db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.tsv"
    run = CliRunner().invoke(cli, ["calibrate", "--db", str(db), "--labels", str(missing)])
    assert run.exit_code == 1
    assert run.output.startswith("Error: nope.tsv: ")
    labels = write_labels(tmp_path / "l.tsv", [["11-1011.00", "1", "A task", "E1", "E1"]])
    run = CliRunner().invoke(cli, ["calibrate", "--db", str(db), "--labels", str(labels)])
    assert run.exit_code == 1
    assert run.output == "Error: got a store with no scores, expected `jobimpact score` first\n"


def test_the_shipped_head_is_intact_and_fits_the_default_model() -> None:
    from jobimpact.calibration import packaged_head, packaged_heads

    shipped = packaged_heads()
    assert len(shipped) == 1
    head = head_from_dict(shipped[0])  # raises if the weights do not match the id
    assert head.model_id == (
        "qwen2.5-coder-0.5b@1d9614638d18#layer=8;int8-partial"
        "+sentence-transformers/all-MiniLM-L6-v2"
    )
    assert head.n_tasks > 9000 and head.n_folds == 5 and head.feature_dim == 896 + 384
    assert head.cv_metrics["software"]["auc"] > 0.88
    assert head.cv_metrics["creation"]["spearman"] > 0.45  # learnt from observed use
    found = packaged_head(model_id=head.model_id, rubric_hash=head.rubric_hash)
    assert found is not None and found.head_id == head.head_id
    assert packaged_head(model_id="other", rubric_hash=head.rubric_hash) is None


def test_score_labelled_picks_the_occupations_of_the_label_file(
    mirror_store: Path, mirror_data: Path, tmp_path: Path
) -> None:
    store = Path(shutil.copy(mirror_store, tmp_path / "store.duckdb"))
    run = CliRunner().invoke(
        cli,
        [
            *("score", "--db", str(store), "--data-dir", str(mirror_data)),
            *("--backend", "fake", "--labelled", "--limit", "300"),
        ],
    )
    assert run.exit_code == 0 and "300 tasks scored" in run.output, run.output
    labelled = set(read_labels(default_labels_path(mirror_data)).frame["onet_soc_code"])
    codes = query_rows(
        store,
        "SELECT DISTINCT t.onet_soc_code FROM task_scores JOIN tasks AS t USING (task_id)",
    )
    assert codes and {c for (c,) in codes} <= labelled


def test_a_feature_pass_is_counted_and_calibrate_finds_its_features(
    mirror_store: Path, mirror_data: Path, tmp_path: Path
) -> None:
    """A scorer that asks no question stores only features (the default model's feature
    pass before any head): its run counts the tasks, and calibrate fits on them."""
    from jobimpact.scoring.base import TaskPrompt, TaskScore
    from jobimpact.scoring.fake import FakeScorer

    class FeaturesOnly(FakeScorer):
        def score_batch(self, items: Sequence[TaskPrompt]) -> list[TaskScore]:
            return [dataclasses.replace(s, answers={}) for s in super().score_batch(items)]

    store = Path(shutil.copy(mirror_store, tmp_path / "store.duckdb"))
    labels = default_labels_path(mirror_data)
    codes = sorted(set(read_labels(labels).frame["onet_soc_code"]))[:40]
    result = run_score(db=store, scorer=FeaturesOnly(), occupations=codes)
    assert result.scored > 300 and result.failed == 0
    assert query_rows(store, "SELECT count(*) FROM task_scores") == [(0,)]
    counts = query_rows(
        store, f"SELECT counts->>'scored' FROM runs WHERE run_id = '{result.run_id}'"
    )
    assert counts == [(str(result.scored),)]
    fitted = run_calibrate(db=store, labels=labels)
    assert fitted.model_id == result.model_id and fitted.applied == result.scored


def test_score_rejects_an_option_the_backend_does_not_take(db: Path) -> None:
    run = CliRunner().invoke(
        cli, ["score", "--db", str(db), "--backend", "fake", "--questions", "creation"]
    )
    assert run.exit_code == 1
    assert run.output == (
        "Error: scoring backend 'fake': got option questions, expected some of feature_dim, "
        "rubric, seed\n"
    )


@pytest.mark.slow
def test_creation_learns_the_observed_augmentation_share_and_is_validated(
    labelled_scored_store: Path, mirror_data: Path, tmp_path: Path
) -> None:
    from jobimpact.pipeline import run_validate
    from jobimpact.usage import default_modes_path, default_usage_path

    store = tmp_path / "store.duckdb"
    shutil.copy(labelled_scored_store, store)
    modes, usage = default_modes_path(mirror_data), default_usage_path(mirror_data)
    result = run_calibrate(
        db=store, labels=default_labels_path(mirror_data), creation_labels=modes, usage=usage
    )
    assert set(result.cv_metrics) == {"direct", "software", "automation", "creation"}
    creation = result.cv_metrics["creation"]
    assert 0 < creation["n"] < 2000 and -1 <= creation["spearman"] <= 1
    head = query_rows(
        store, f"SELECT labels_name FROM calibration_heads WHERE head_id = '{result.head_id}'"
    )
    assert head == [("full_labelset.tsv, automation_vs_augmentation_by_task.csv, task_pct_v2.csv",)]
    # a statement the Economic Index shares with an occupation outside the label set (here
    # the held-out half) does not bring that occupation into the head's folds
    folds = query_rows(
        store, f"SELECT onet_soc_code FROM calibration_folds WHERE head_id = '{result.head_id}'"
    )
    labelled = set(read_labels(default_labels_path(mirror_data)).frame["onet_soc_code"])
    assert {code for (code,) in folds} <= labelled
    # the head answers creation: the calibrated creation differs from the zero-shot answer
    differs = query_rows(
        store,
        "SELECT count(*) FROM task_measures AS c JOIN task_measures AS z "
        f"USING (task_id, prompt_sha256) WHERE c.head_id = '{result.head_id}' "
        "AND z.head_id = '' AND c.creation <> z.creation",
    )[0][0]
    assert differs > 100
    checked = run_validate(
        db=store,
        labels=default_labels_path(mirror_data),
        creation_labels=modes,
        usage=default_usage_path(mirror_data),
        n_boot=20,
    )
    rows = {(r.source, r.reference, r.metric) for r in checked.metrics.itertuples()}
    for source in ("ours", "zero-shot", "formula"):
        assert (source, "economic_index", "spearman_augmentation") in rows
    assert ("ours", "new_work", "auc_new_vs_established") in rows
    assert {("ours", "usage", "auc_in_use"), ("human", "usage", "auc_in_use")} <= rows
    stored = query_rows(
        store, "SELECT count(*) FROM validation_metrics WHERE reference = 'economic_index'"
    )
    assert stored == [(6,)]
