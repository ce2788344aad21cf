"""Validation against reference labels: metrics, modes, label matching, storage, CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from fixtures import query_rows

from jobimpact.cli import cli
from jobimpact.errors import NotReadyError
from jobimpact.labels import default_labels_path, match_labels, read_labels
from jobimpact.pipeline import run_score, run_validate
from jobimpact.scoring import get_backend
from jobimpact.validation import (
    format_metrics,
    occupation_beta,
    reliability_curve,
    three_class,
    validate_scores,
)

pytest.importorskip("sklearn")


def test_three_class_takes_the_most_probable_label() -> None:
    alpha = np.array([0.1, 0.7, 0.2, 0.3])
    zeta = np.array([0.2, 0.9, 0.9, 0.55])
    # P(E0)=1-zeta, P(E1)=alpha, P(E2)=zeta-alpha
    assert three_class(alpha, zeta).tolist() == ["E0", "E1", "E2", "E0"]


def test_occupation_beta_weights_core_tasks_twice() -> None:
    frame = pd.DataFrame(
        {
            "onet_soc_code": ["a", "a", "a", "b"],
            "task_type": ["Core", "Supplemental", None, "Core"],
            "beta": [1.0, 0.0, 0.5, 0.25],
        }
    )
    got = occupation_beta(frame, "beta")
    assert got["a"] == pytest.approx((2 * 1.0 + 0.0 + 0.5) / 4)
    assert got["b"] == pytest.approx(0.25)


def labelled_frame(n_occupations: int = 12, per: int = 10, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_occupations * per
    human = rng.choice(["E0", "E1", "E2"], n)
    return pd.DataFrame(
        {
            "onet_soc_code": np.repeat([f"o{i}" for i in range(n_occupations)], per),
            "task_type": "Core",
            "human": human,
            "gpt4": np.where(rng.random(n) < 0.8, human, "E0"),
            "gpt4_automation": rng.choice(["T1", "T3"], n),
        }
    )


def test_perfect_scores_get_perfect_metrics() -> None:
    frame = labelled_frame()
    alpha = (frame["human"] == "E1").astype(float)
    zeta = frame["human"].isin(["E1", "E2"]).astype(float)
    frame = frame.assign(
        alpha=alpha,
        zeta=zeta,
        beta=frame["human"].map({"E0": 0.0, "E1": 1.0, "E2": 0.5}),
        displacement=(frame["gpt4_automation"] == "T3").astype(float),
    )
    tables = validate_scores(frame, n_boot=50)
    ours = tables.metrics[
        (tables.metrics["source"] == "ours") & (tables.metrics["reference"] == "human")
    ].set_index("metric")
    assert ours.loc["auc_exposed", "value"] == 1.0
    assert ours.loc["auc_e1", "value"] == 1.0
    assert ours.loc["kappa", "value"] == 1.0
    assert ours.loc["brier_exposed", "value"] == 0.0
    assert ours.loc["pearson_beta", "value"] == pytest.approx(1.0)
    assert ours.loc["pearson_beta", "n"] == 12
    gpt4 = tables.metrics[tables.metrics["source"] == "gpt4"].set_index("metric")
    assert 0.5 < gpt4.loc["auc_exposed", "value"] < 1.0
    low, high = gpt4.loc["spearman_beta", ["ci_low", "ci_high"]]
    assert low <= gpt4.loc["spearman_beta", "value"] <= high
    table = format_metrics(tables.metrics)
    assert "AUC exposed (zeta)" in table and "GPT-4 vs human" in table


def test_reliability_curve_bins_predictions() -> None:
    p = np.array([0.05, 0.05, 0.95, 0.95, 0.55])
    y = np.array([0.0, 1.0, 1.0, 1.0, 0.0])
    curve = reliability_curve(y, p, n_bins=10).set_index("bin")
    assert curve.loc[0, "observed_rate"] == 0.5 and curve.loc[0, "n"] == 2
    assert curve.loc[9, "observed_rate"] == 1.0
    assert curve.loc[5, "mean_predicted"] == pytest.approx(0.55)


def test_labels_match_by_text_when_ids_changed(mirror_data: Path, tmp_path: Path) -> None:
    labels = read_labels(default_labels_path(mirror_data))
    tasks = labels.frame.head(50).rename(columns={"label_task_id": "task_id"})
    tasks = tasks.assign(task_id=tasks["task_id"].astype(int) + 10_000_000)  # renumbered
    tasks.loc[tasks.index[:5], "task"] = tasks["task"].head(5).str.upper() + "  "
    matched = match_labels(labels, tasks[["task_id", "onet_soc_code", "task"]])
    assert (matched.n_by_id, matched.n_by_text) == (0, 50)
    assert sorted(matched.frame["task_id"]) == sorted(tasks["task_id"])


@pytest.fixture
def calibrated_store(labelled_calibrated_store: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(labelled_calibrated_store, tmp_path / "store.duckdb"))


def test_validate_scores_calibrated_tasks_out_of_fold_and_stores_the_figures(
    calibrated_store: Path, mirror_data: Path, tmp_path: Path
) -> None:
    store = calibrated_store
    labels = default_labels_path(mirror_data)
    calibrated = run_validate(db=store, labels=labels, n_boot=50)
    assert calibrated.mode == "out-of-fold" and calibrated.head_id
    assert calibrated.n_matched_id == 9339 and calibrated.n_labelled == 9586
    zero_shot = run_validate(db=store, labels=labels, head_id="", n_boot=50)
    assert zero_shot.mode == "zero-shot"
    assert calibrated.n_scored == zero_shot.n_scored > 500
    summary = query_rows(
        store,
        "SELECT mode, count(*) FROM validation_summary WHERE source = 'ours' "
        "AND reference = 'human' GROUP BY mode ORDER BY mode",
    )
    assert summary == [("out-of-fold", 6), ("zero-shot", 6)]
    bins = query_rows(store, "SELECT sum(n) FROM validation_reliability")
    assert bins == [(2 * calibrated.n_scored,)]


def test_validate_cli_prints_the_table(
    calibrated_store: Path, mirror_data: Path, tmp_path: Path
) -> None:
    store = calibrated_store
    run = CliRunner().invoke(
        cli, ["validate", "--db", str(store), "--data-dir", str(mirror_data), "--n-boot", "20"]
    )
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0].endswith(", mode out-of-fold")
    assert lines[1].startswith(
        "full_labelset.tsv: 9,339 of 9,586 labelled tasks matched by (O*NET-SOC Code, Task ID)"
    )
    assert lines[2].split() == [
        "level", "metric", "ours", "vs", "human", "GPT-4", "vs", "human", "ours", "vs", "GPT-4"
    ]  # fmt: skip
    assert any(line.startswith("occupation Spearman beta") for line in lines)


def test_validate_without_labelled_scores_is_a_clear_error(db: Path, mirror_data: Path) -> None:
    run_score(db=db, scorer=get_backend("fake"))
    with pytest.raises(NotReadyError) as error:
        run_validate(db=db, labels=default_labels_path(mirror_data))
    assert str(error.value) == (
        "validate: got 0 labelled tasks with scores of 'fake:seed=0', expected at least 20 in 3 "
        "occupations (score the labelled occupations: jobimpact score --labelled)"
    )


def test_within_occupation_auc_counts_only_pairs_of_the_same_occupation() -> None:
    from jobimpact.creation_validation import group_pairs, within_group_auc

    score = np.array([0.9, 0.1, 0.9, 0.2, 0.8, 0.99])
    new = np.array([True, False, False, True, False, True])
    occupation = np.array(["A", "A", "A", "B", "B", "C"], dtype=object)
    # A: 0.9 beats 0.1 and ties 0.9 (1.5 of 2 pairs); B: 0.2 loses to 0.8 (0 of 1); C has
    # no established task, so its 0.99 makes no pair
    counts = group_pairs(score, new, occupation)
    assert counts.to_dict("list") == {
        "onet_soc_code": ["A", "B", "C"],
        "wins": [1.5, 0.0, 0.0],
        "pairs": [2.0, 1.0, 0.0],
    }
    assert within_group_auc(score, new, occupation) == pytest.approx(1.5 / 3)
