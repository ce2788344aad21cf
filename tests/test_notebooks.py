"""The analyst notebooks run top to bottom on a store built from the real O*NET mirror with
the fake scorer, are committed without outputs, each .ipynb holds the cells of its .py
source (jupytext percent format), and the quickstart reads the scoring the report shows."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import jobimpact
from jobimpact.embedding.fake import FakeEmbedder
from jobimpact.pipeline import run_aggregate, run_cluster, run_embed

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupytext = pytest.importorskip("jupytext")
pytest.importorskip("ipykernel")
pytest.importorskip("sklearn")

pytestmark = pytest.mark.slow  # a Jupyter kernel per notebook: minutes; make test runs them

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
STEMS = [
    "01_quickstart",
    "02_task_families",
    "03_custom_rubric_and_model",
    "04_sql_for_researchers",
    "05_compare_measures",
]
NAMES = [f"{stem}.ipynb" for stem in STEMS]
CELL_TIMEOUT_S = 120
LATEST_ROLLUP = """
SELECT s.head_id FROM occupation_scores AS s JOIN runs AS r USING (run_id)
ORDER BY r.started_at DESC LIMIT 1
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def analyst_store(
    labelled_calibrated_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The mirror store scored (fake), calibrated, clustered (fake embedder) and rolled up
    twice: calibrated, then zero-shot (``aggregate --head-id none``), so that the latest
    roll-up is not the one to read."""
    from sklearn.cluster import KMeans

    store = tmp_path_factory.mktemp("notebooks") / "jobimpact.duckdb"
    shutil.copy(labelled_calibrated_store, store)
    embedder = FakeEmbedder(dimension=64)
    run_embed(db=store, embedder=embedder, kinds=("tasks", "emerging"))
    run_cluster(
        db=store, embedder=embedder, estimator=KMeans(n_clusters=24, n_init=1, random_state=0)
    )
    run_aggregate(db=store)  # the calibrated scores (the head's)
    run_aggregate(db=store, head_id="")  # then the zero-shot ones
    return store


@pytest.fixture
def notebook_env(
    analyst_store: Path, mirror_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The environment a notebook kernel inherits; its temporary files go to tmp_path."""
    monkeypatch.setenv("JOBIMPACT_DB", str(analyst_store))
    monkeypatch.setenv("JOBIMPACT_DATA_DIR", str(mirror_data))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("JOBIMPACT_NOTEBOOK_MODEL", raising=False)
    return tmp_path


def execute(name: str, *extra_cells: str) -> Any:
    """Run a committed notebook (and then ``extra_cells``) in a fresh kernel of this
    interpreter, from notebooks/; return the executed notebook."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells.extend(nbformat.v4.new_code_cell(source) for source in extra_cells)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError naming the cell and its traceback
    return notebook


def stdout(cell: Any) -> str:
    """What a code cell printed."""
    return "".join(o["text"] for o in cell.outputs if o.get("name") == "stdout")


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom_and_leaves_the_store_untouched(
    name: str, analyst_store: Path, notebook_env: Path
) -> None:
    before = sha256(analyst_store)
    execute(name)
    assert sha256(analyst_store) == before
    assert not list(notebook_env.iterdir()), "the notebook left temporary files behind"


def test_quickstart_reads_the_scoring_the_report_shows(
    analyst_store: Path, notebook_env: Path
) -> None:
    # The store's latest roll-up is zero-shot while a calibrated one exists: both the
    # report and the notebook must show the calibrated one (jobimpact.resolve_scoring).
    with jobimpact.open_store(analyst_store, read_only=True) as con:
        assert con.execute(LATEST_ROLLUP).fetchone() == ("",)
    reported = jobimpact.Report.from_store(analyst_store).summary["scoring"]
    notebook = execute(
        "01_quickstart.ipynb",
        "import dataclasses, json\n"
        'print(json.dumps({"scoring": dataclasses.asdict(SCORING), "key": KEY}))',
    )
    read = json.loads(stdout(notebook.cells[-1]))
    fields = [f.name for f in dataclasses.fields(jobimpact.ScoringKey)]
    assert read["scoring"] == {field: reported[field] for field in fields}
    assert reported["head_id"] and reported["method"] == "calibrated"
    scoring = jobimpact.ScoringKey(**read["scoring"])
    assert read["key"] == scoring.params  # what its queries bind
    printed = [stdout(c) for c in notebook.cells if "resolve_scoring(" in c.source]
    assert printed == [f"scoring: {scoring.describe()}\n"]


def test_python3_kernel_runs_this_interpreter() -> None:
    # The notebooks must import the jobimpact under test, not whatever python is on PATH.
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)"))
    nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3").execute()
    printed = notebook.cells[0].outputs[0]["text"].strip()
    assert printed == sys.prefix  # the venv; resolving sys.executable would hide a mix-up


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_no_outputs_and_a_parameters_cell(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code_cells), (
        f"{name} has outputs: clear them before committing (in Jupyter: Edit › Clear "
        f"Outputs of All Cells, then save; or `jupyter nbconvert --clear-output --inplace "
        f"notebooks/{name}`)"
    )
    first = code_cells[0]
    assert first.metadata.get("tags") == ["parameters"]
    assert 'os.environ.get("JOBIMPACT_DB", "../data/jobimpact.duckdb")' in first.source


def test_every_notebook_is_a_py_and_ipynb_pair() -> None:
    # notebooks/jupytext.toml pairs them, so Jupyter (with jupytext) saves both files
    for stem in STEMS:
        path = str(NOTEBOOKS / f"{stem}.py")
        config = jupytext.config.load_jupytext_config(path)
        assert config is not None and config.default_formats(path) == "ipynb,py:percent"
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.py")) == STEMS


def cells(notebook: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """What jupytext pairs: each cell's kind, source and metadata (ids and outputs aside)."""
    return [(c.cell_type, c.source, dict(c.metadata)) for c in notebook.cells]


@pytest.mark.parametrize("stem", STEMS)
def test_notebook_is_in_sync_with_its_py_source(stem: str) -> None:
    source = jupytext.read(NOTEBOOKS / f"{stem}.py")
    committed = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    hint = (
        f"notebooks/{stem}.ipynb and notebooks/{stem}.py differ: run "
        f"`.venv/bin/jupytext --sync notebooks/{stem}.py` (it updates the older file of the "
        f"pair from the newer; `.venv/bin/jupytext --to ipynb --update notebooks/{stem}.py` "
        "always writes the .ipynb from the .py, which is the source)"
    )
    assert cells(committed) == cells(source), hint
    assert committed.metadata.get("kernelspec") == source.metadata.get("kernelspec"), hint
