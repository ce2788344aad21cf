"""The analyst notebooks run top to bottom on a store built from the real O*NET mirror with
the fake scorer, are committed without outputs, and are what notebooks/_build.py writes."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from jobimpact.embedding.fake import FakeEmbedder
from jobimpact.pipeline import run_aggregate, run_cluster, run_embed

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("sklearn")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = [
    "01_quickstart.ipynb",
    "02_task_families.ipynb",
    "03_custom_rubric_and_model.ipynb",
    "04_sql_for_researchers.ipynb",
]
CELL_TIMEOUT_S = 120


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def analyst_store(
    labelled_calibrated_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The mirror store scored (fake), calibrated, clustered (fake embedder) and rolled up."""
    from sklearn.cluster import KMeans

    store = tmp_path_factory.mktemp("notebooks") / "jobimpact.duckdb"
    shutil.copy(labelled_calibrated_store, store)
    embedder = FakeEmbedder(dimension=64)
    run_embed(db=store, embedder=embedder, kinds=("tasks", "emerging"))
    run_cluster(
        db=store, embedder=embedder, estimator=KMeans(n_clusters=24, n_init=1, random_state=0)
    )
    run_aggregate(db=store)
    return store


def execute(name: str) -> None:
    """Run a committed notebook in a fresh kernel of this interpreter, from notebooks/."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError naming the cell and its traceback


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom_and_leaves_the_store_untouched(
    name: str,
    analyst_store: Path,
    mirror_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The kernel inherits this environment; its temporary copies and exports go to tmp_path.
    monkeypatch.setenv("JOBIMPACT_DB", str(analyst_store))
    monkeypatch.setenv("JOBIMPACT_DATA_DIR", str(mirror_data))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("JOBIMPACT_NOTEBOOK_MODEL", raising=False)
    before = sha256(analyst_store)
    execute(name)
    assert sha256(analyst_store) == before
    assert not list(tmp_path.iterdir()), "the notebook left temporary files behind"


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
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code_cells)
    first = code_cells[0]
    assert first.metadata.get("tags") == ["parameters"]
    assert 'os.environ.get("JOBIMPACT_DB", "../data/jobimpact.duckdb")' in first.source


def test_committed_notebooks_are_what_the_build_script_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "_build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    written = build.write_notebooks(tmp_path)
    assert [path.name for path in written] == NAMES
    for path in written:
        assert path.read_text(encoding="utf-8") == (NOTEBOOKS / path.name).read_text(
            encoding="utf-8"
        ), f"{path.name} differs from notebooks/_build.py: edit the cells there and rebuild"
