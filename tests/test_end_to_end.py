"""`jobimpact run`: every stage in one go on the real mirror with the fake backends, resumable."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures import MIRROR, query_rows

from jobimpact.pipeline import STAGES, run
from jobimpact.settings import Settings

pytest.importorskip("sklearn")


@pytest.mark.slow
def test_run_does_every_stage_then_only_new_work(tmp_path: Path) -> None:
    if not (MIRROR / "README.md").is_file():
        pytest.skip("the data mirror is not beside the checkout")
    from sklearn.cluster import MiniBatchKMeans

    seen: list[str] = []
    settings = Settings(
        db=tmp_path / "store.duckdb",
        data_dir=tmp_path / "data",
        mirror=str(MIRROR),
        sample=12,
        backend="fake",
        embedder="fake",
        out_dir=tmp_path / "reports",
        formats=("html",),
    )
    estimator = MiniBatchKMeans(n_clusters=12, random_state=0, n_init=1)
    summary = run(
        settings,
        cluster_estimator=estimator,
        progress=lambda stage, done, total: seen.append(stage),
    )
    assert list(dict.fromkeys(seen)) == list(STAGES)
    assert list(summary.lines) == list(STAGES)
    assert [p.name for p in summary.report_files] == ["jobimpact_report.html"]
    assert summary.report_files[0].stat().st_size > 10_000
    occupations = query_rows(tmp_path / "store.duckdb", "SELECT count(*) FROM occupation_scores")
    assert occupations == [(12,)]
    # the fake scorer has no calibration head: its labelled tasks are validated zero-shot
    assert summary.lines["validate"] == "111 labelled tasks, zero-shot"

    again = run(settings, cluster_estimator=estimator)
    assert again.lines["ingest"] == "unchanged"
    assert again.lines["score"].startswith("0 tasks scored, ")


def test_run_defaults_are_registered_backends() -> None:
    from jobimpact.embedding import available_embedders
    from jobimpact.scoring import available_backends

    assert Settings().embedder in available_embedders()
    assert Settings().backend in available_backends()
