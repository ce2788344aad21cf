from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from jobimpact.aggregate import (
    exposed_worker_shares,
    group_scores,
    occupation_scores,
    quadrant_sensitivity,
    quadrants,
    task_weights,
)


@pytest.fixture
def task_scores() -> pd.DataFrame:
    # Occupation A: two rated tasks and one unrated; occupation B: one core task.
    return pd.DataFrame(
        {
            "onet_soc_code": ["A", "A", "A", "B"],
            "task_type": ["Core", "Supplemental", None, "Core"],
            "importance": [4.0, 2.0, None, 3.0],
            "relevance": [100.0, 50.0, None, 80.0],
            "alpha": [0.8, 0.2, 0.5, 0.1],
            "beta": [0.9, 0.4, 0.6, 0.2],
            "zeta": [1.0, 0.6, 0.7, 0.3],
            "displacement": [0.5, 0.1, 0.3, 0.2],
            "creation": [0.3, 0.3, 0.3, 0.9],
        }
    )


def test_rating_weights_fall_back_to_the_occupation_median(task_scores: pd.DataFrame) -> None:
    # A: 4*100/100 = 4, 2*50/100 = 1, unrated -> median(4, 1) = 2.5; B: 3*80/100 = 2.4
    assert task_weights(task_scores).tolist() == [4.0, 1.0, 2.5, 2.4]
    assert task_weights(task_scores, weighting="type").tolist() == [2.0, 1.0, 1.0, 2.0]


def test_occupation_means_match_a_hand_computation(task_scores: pd.DataFrame) -> None:
    result = occupation_scores(task_scores, n_boot=0).set_index("onet_soc_code")
    # alpha of A = (4*0.8 + 1*0.2 + 2.5*0.5) / 7.5
    assert result.loc["A", "alpha"] == pytest.approx((3.2 + 0.2 + 1.25) / 7.5)
    assert result.loc["B", "alpha"] == pytest.approx(0.1)
    # exposed (beta > 0.5): tasks 1 and 3 of A -> (4 + 2.5) / 7.5
    assert result.loc["A", "share_tasks_above_half"] == pytest.approx(6.5 / 7.5)
    assert result.loc["A", "share_exposed"] == result.loc["A", "beta"]
    assert result.loc["A", "alpha_bernoulli_var"] == pytest.approx((0.16 + 0.16 + 0.25) / 3)
    by_type = occupation_scores(task_scores, weighting="type", n_boot=0).set_index("onet_soc_code")
    assert by_type.loc["A", "alpha"] == pytest.approx((1.6 + 0.2 + 0.5) / 4)
    assert set(by_type["weighting"]) == {"type"}


def test_bootstrap_interval_brackets_the_mean_and_is_reproducible(
    task_scores: pd.DataFrame,
) -> None:
    first = occupation_scores(task_scores, n_boot=300).set_index("onet_soc_code")
    second = occupation_scores(task_scores, n_boot=300).set_index("onet_soc_code")
    pd.testing.assert_frame_equal(first, second)
    a = first.loc["A"]
    assert a["displacement_low"] <= a["displacement"] <= a["displacement_high"]
    assert a["displacement_low"] < a["displacement_high"]
    assert math.isnan(first.loc["B", "alpha_low"])  # one task: no interval


def test_group_scores_weight_by_employment() -> None:
    occupations = pd.DataFrame(
        {
            "soc_major": ["11-0000", "11-0000", "47-0000", "47-0000"],
            "employment": [100.0, 300.0, 50.0, None],
            "wage_bill": [1e7, 1e7, 1e6, None],
            "displacement": [0.8, 0.4, 0.1, 0.9],
        }
    )
    result = group_scores(occupations, measures=["displacement"]).set_index("soc_major")
    assert result.loc["11-0000", "displacement"] == pytest.approx((80 + 120) / 400)
    assert result.loc["47-0000", "displacement"] == pytest.approx(0.1)
    assert result.loc["47-0000", "n_occupations"] == 1
    economy = group_scores(occupations, by=None, measures=["displacement"])
    assert economy["displacement"].iloc[0] == pytest.approx((80 + 120 + 5) / 450)
    by_wages = group_scores(occupations, weight="wage_bill", measures=["displacement"])
    assert by_wages.set_index("soc_major").loc["11-0000", "displacement"] == pytest.approx(0.6)


def test_exposed_worker_shares() -> None:
    occupations = pd.DataFrame(
        {"employment": [100.0, 300.0, 600.0], "share_exposed": [0.05, 0.2, 0.6]}
    )
    assert exposed_worker_shares(occupations) == {0.1: pytest.approx(0.9), 0.5: 0.6}


def test_quadrants_use_stated_lines_and_the_medians_give_a_relative_view() -> None:
    occupations = pd.DataFrame(
        {
            "onet_soc_code": ["a", "b", "c", "d"],
            "employment": [10.0, 10.0, 10.0, 10.0],
            "displacement": [0.9, 0.8, 0.1, 0.2],
            "creation": [0.1, 0.9, 0.8, 0.2],
        }
    )
    result = quadrants(occupations).set_index("onet_soc_code")
    assert result["quadrant"].to_dict() == {
        "a": "at risk",
        "b": "transforming",
        "c": "augmented/growing",
        "d": "little change",
    }
    assert set(result["displacement_threshold"]) == {0.5}
    # all four below 0.95: only the creation line separates them
    fixed = quadrants(occupations, displacement_threshold=0.95).set_index("onet_soc_code")
    assert set(fixed["quadrant"]) == {"augmented/growing", "little change"}
    # relative: the medians (0.2 and 0.2 here) split them whatever the levels
    low = occupations.assign(
        displacement=[0.09, 0.08, 0.01, 0.02], creation=[0.01, 0.09, 0.08, 0.02]
    )
    relative = quadrants(low).set_index("onet_soc_code")
    assert set(relative["quadrant"]) == {"little change"}
    assert relative["quadrant_relative"].to_dict() == {
        "a": "at risk",
        "b": "transforming",
        "c": "augmented/growing",
        "d": "little change",
    }


def test_the_sensitivity_table_moves_employment_between_quadrants() -> None:
    occupations = pd.DataFrame(
        {
            "employment": [30.0, 70.0],
            "displacement": [0.35, 0.65],
            "creation": [0.45, 0.55],
        }
    )
    table = quadrant_sensitivity(occupations, thresholds=(0.3, 0.5, 0.7)).set_index("threshold")
    assert table.loc[0.3, "transforming"] == pytest.approx(1.0)
    assert table.loc[0.5, "transforming"] == pytest.approx(0.7)
    assert table.loc[0.5, "little change"] == pytest.approx(0.3)
    assert table.loc[0.7, "little change"] == pytest.approx(1.0)
    assert table.drop(columns=[]).sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_human_labels_reproduce_the_published_headline(tmp_path: Path) -> None:
    """Eloundou et al. report ~80% / ~19% of workers with >=10% / >=50% of tasks exposed.

    Rolled up our way (beta per task from the human labels of the development half,
    importance x relevance weights, OEWS May 2024 employment), the figures must agree.
    """
    mirror = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (mirror / "labels" / "gpts-are-gpts" / "full_labelset.tsv").is_file():
        pytest.skip("the data mirror is not beside the checkout")
    from jobimpact.pipeline import run_ingest
    from jobimpact.sources import fetch
    from jobimpact.store import open_store

    fetch(data_dir=tmp_path, mirror=mirror, progress=False)
    run_ingest(db=tmp_path / "s.duckdb", data_dir=tmp_path)
    with open_store(tmp_path / "s.duckdb", read_only=True) as con:
        tasks = con.execute(
            "SELECT task_id, onet_soc_code, task_type, importance, relevance FROM tasks"
        ).df()
        employment = con.execute("SELECT onet_soc_code, employment FROM occupation_overview").df()
    labels = pd.read_csv(mirror / "labels" / "gpts-are-gpts" / "full_labelset.tsv", sep="\t")
    labels["task_id"] = labels["Task ID"].astype(int)
    labels["beta"] = labels["human_exposure_agg"].map({"E0": 0.0, "E1": 1.0, "E2": 0.5})
    scored = tasks.merge(labels[["task_id", "beta"]], on="task_id")
    occupations = occupation_scores(scored, measures=["beta"], n_boot=0)
    shares = exposed_worker_shares(occupations.merge(employment, on="onet_soc_code"))
    assert shares[0.1] == pytest.approx(0.80, abs=0.03)
    assert shares[0.5] == pytest.approx(0.19, abs=0.03)
