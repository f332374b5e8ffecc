"""The tutorial (docs/tutorial/tutorial.md, a jupytext notebook) runs from start to end.

It is converted with jupytext and executed with nbclient in a temporary working folder,
on a kernel that runs this interpreter (so the checkout's minders is the one imported).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("pyabc")  # the tutorial calibrates

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial" / "tutorial.md"


def _kernel_dir(tmp_path: Path) -> Path:
    """A kernelspec 'python3' whose command is this interpreter (sys.executable), in a
    folder of its own: whatever kernels the machine has, the notebook runs on this venv."""
    from ipykernel.kernelspec import install

    prefix = tmp_path / "jupyter"
    install(kernel_name="python3", prefix=str(prefix))
    return prefix / "share" / "jupyter"


def test_tutorial_runs_without_errors(tmp_path, monkeypatch):
    notebook = jupytext.read(TUTORIAL)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(_kernel_dir(tmp_path)))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # a kernel started from the checkout's tests imports the same minders
    src = str(Path(__file__).resolve().parents[1] / "src")
    paths = [src, os.environ.get("PYTHONPATH")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError on the first cell that fails

    codes = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert codes and all(cell.get("execution_count") for cell in codes)
    errors = [out for cell in codes for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert errors == []
    assert (work / "tutorial-results" / "sweep" / "report.html").is_file()
    assert (work / "tutorial-results" / "plan" / "report.html").is_file()
