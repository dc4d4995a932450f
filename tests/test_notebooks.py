"""The notebooks run top to bottom in a fresh python3 kernel, against this working tree, from any folder."""

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from consolidate.samples import write_sample

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def test_the_notebooks_sample_is_the_bundled_one(tmp_path):
    # the notebooks write their sample with these arguments instead of reading data/samples
    for written in write_sample(tmp_path, servers=40, days=14, seed=1):
        assert written.read_bytes() == (ROOT / "data" / "samples" / written.name).read_bytes()


#: An end-to-end run of the tool (deselect with -m "not slow").
@pytest.mark.slow
@pytest.mark.parametrize("name", ["quickstart.ipynb", "business_case.ipynb"])
def test_notebook_runs_from_a_folder_outside_the_repository(name, tmp_path, monkeypatch):
    # as a user would: the notebook copied into a folder of its own, and the kernel started there
    folder = tmp_path / "analysis"
    folder.mkdir()
    shutil.copy(NOTEBOOKS / name, folder / name)
    assert not any((p / "data" / "samples").exists() for p in [folder, *folder.parents])
    # the kernel imports the package under test, not an installed copy
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(folder / name, as_version=4)
    NotebookClient(notebook, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(folder)}}).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    # charts come out as images, a plan as its HTML summary or tables
    assert any("image/png" in out.get("data", {}) for out in outputs)
    assert any("text/html" in out.get("data", {}) for out in outputs)
    # what the notebook writes goes to its scratch folder, not into the user's
    assert [p.name for p in folder.iterdir()] == [name]
