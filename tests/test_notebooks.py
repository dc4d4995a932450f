"""The notebooks run top to bottom in a fresh python3 kernel, against this working tree."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

#: End-to-end runs of the tool (deselect with -m "not slow").
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


@pytest.mark.parametrize("name", ["quickstart.ipynb", "business_case.ipynb"])
def test_notebook_runs(name, monkeypatch):
    # the kernel imports the package under test, not an installed copy
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    # charts come out as images, a plan as its HTML summary or tables
    assert any("image/png" in out.get("data", {}) for out in outputs)
    assert any("text/html" in out.get("data", {}) for out in outputs)
