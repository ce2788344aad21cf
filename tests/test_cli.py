"""The commands not covered elsewhere: fetch, models, embed, cluster, aggregate, run, and a
missing optional library, each through the CLI with its exact output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures import MIRROR, query_rows

from jobimpact.cli import cli
from jobimpact.pipeline import run_score
from jobimpact.scoring.fake import FakeScorer


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_fetch_reads_a_mirror_folder(tmp_path: Path) -> None:
    from test_sources import write_mirror

    write_mirror(tmp_path / "mirror")
    code, output = invoke(
        "fetch", "--mirror", str(tmp_path / "mirror"), "--data-dir", str(tmp_path / "data"),
        "--source", "soc_structure", "--no-progress",
    )  # fmt: skip
    assert (code, output) == (0, f"soc_structure 2018: 1 files from {tmp_path / 'mirror'}\n")
    assert (tmp_path / "data/raw/soc_structure/2018/manifest.json").is_file()
    code, output = invoke("fetch", "--source", "nope", "--data-dir", str(tmp_path / "data"))
    assert code == 1 and output.startswith("Error: ") and output.count("\n") == 1


def test_models_lists_backends_models_and_the_shipped_head() -> None:
    code, output = invoke("models")
    assert code == 0
    lines = output.splitlines()
    assert lines[0] == "backends: fake, http, transformers"
    assert any(
        line.startswith("qwen2.5-coder-0.5b: Qwen/Qwen2.5-Coder-0.5B-Instruct") for line in lines
    )
    assert any(line.startswith("calibration head ") for line in lines)


def test_embed_cluster_and_aggregate(db: Path) -> None:
    tasks = query_rows(db, "SELECT count(*) FROM tasks")[0][0]
    code, output = invoke("embed", "--db", str(db), "--embedder", "fake")
    assert code == 0, output
    assert output.startswith(f"tasks: {tasks:,}, dwas: ") and output.endswith(" texts embedded\n")

    code, output = invoke("cluster", "--db", str(db), "--embedder", "fake")
    assert (code, output) == (
        1,
        f"Error: k_range: got [100, 120, 140, 160, 180, 200], expected some k with 2 <= k < "
        f"{tasks} (rows)\n",
    )
    code, output = invoke("cluster", "--db", str(db), "--embedder", "fake", "--k", "3")
    assert code == 0 and output.startswith("clustering ") and " stored: 3 task families" in output
    code, again = invoke("cluster", "--db", str(db), "--embedder", "fake", "--k", "3")
    assert again.replace("reused", "stored") == output

    code, output = invoke("aggregate", "--db", str(db))
    assert (code, output) == (
        1,
        "Error: got a store with no scores, expected `jobimpact score` first\n",
    )
    scored = run_score(db=db, scorer=FakeScorer())
    code, output = invoke("aggregate", "--db", str(db), "--weighting", "type")
    occupations = query_rows(db, "SELECT count(DISTINCT onet_soc_code) FROM tasks")[0][0]
    assert (code, output) == (
        0,
        f"fake:seed=0 / rubric {scored.rubric_hash[:12]} / zero-shot: {tasks:,} tasks rolled up "
        f"to {occupations:,} occupations (type weights)\n",
    )


def test_a_missing_optional_library_names_the_extra(db: Path) -> None:
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "from jobimpact.cli import main\n"
        f"sys.argv = ['jobimpact', 'cluster', '--db', {str(db)!r}, '--embedder', 'fake']\n"
        "main()"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr == (
        "Error: scikit-learn: not installed, needed for clustering task families; install the "
        "'ml' extra: pip install 'jobimpact[ml]'\n"
    )


@pytest.mark.slow
def test_run_does_every_stage_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (MIRROR / "README.md").is_file():
        pytest.skip("the data mirror is not beside the checkout")
    from jobimpact import clustering

    # a few families instead of the default search over 100..200, to keep the test short
    assert clustering.cluster_embeddings.__kwdefaults__ is not None
    monkeypatch.setitem(clustering.cluster_embeddings.__kwdefaults__, "k_range", range(8, 13, 4))
    db = tmp_path / "store.duckdb"
    args = [
        "run", "--db", str(db), "--data-dir", str(tmp_path / "data"), "--mirror", str(MIRROR),
        "--sample", "3", "--backend", "fake", "--embedder", "fake",
        "--out", str(tmp_path / "reports"), "--format", "html",
    ]  # fmt: skip
    code, output = invoke(*args)
    assert code == 0, output
    stages = [line.split()[0] for line in output.splitlines()]
    assert stages == [
        "fetch",
        "ingest",
        "score",
        "embed",
        "cluster",
        "aggregate",
        "validate",
        "report",
    ]
    assert (tmp_path / "reports" / "jobimpact_report.html").is_file()
    assert query_rows(db, "SELECT DISTINCT status FROM runs") == [("done",)]
