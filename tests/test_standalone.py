"""Every released assignment runs alone, as a student receives it, outside this repository.

Each folder of release/ is copied alone to a temporary place and executed by a Jupyter kernel of a
Python where this repository's package is not installed (the base interpreter, with only the
environment's third-party packages on its path: the editable install is not seen). With the
instructor's answers, every visible test passes; with the stubs, the tests fail with French
diagnostics.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import REPO_ROOT, TF_QUIET_ENV, find_assignments
from coursetools.demo import _answer, _solutions

ASSIGNMENTS = sorted(find_assignments(REPO_ROOT / "release"))
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
#: The environment's third-party packages, on PYTHONPATH: their .pth files (the editable install) are not read.
PACKAGES = sysconfig.get_paths()["purelib"]


@pytest.fixture(scope="module")
def outside_kernel(tmp_path_factory) -> Path:
    """A kernelspec whose Python does not have this repository's package."""
    root = tmp_path_factory.mktemp("noyau")
    spec = root / "kernels" / "python-hors-depot"
    spec.mkdir(parents=True)
    env = {"PYTHONPATH": PACKAGES, "MPLBACKEND": "Agg", **TF_QUIET_ENV}
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [BASE_PYTHON, "-s", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python sans le dépôt", "language": "python", "env": env,
    }), encoding="utf-8")
    probe = subprocess.run([BASE_PYTHON, "-s", "-c", "import autograder"], cwd=root, capture_output=True, text=True,
                           env={"PYTHONPATH": PACKAGES, "PATH": os.environ.get("PATH", "")})
    assert probe.returncode != 0 and "No module named 'autograder'" in probe.stderr, "the package must be out of reach"
    return root


def run_alone(folder: Path, notebook: nbformat.NotebookNode, kernel_root: Path, tmp_path: Path) -> nbformat.NotebookNode:
    """Execute ``notebook`` inside a lone copy of ``folder``, with the outside kernel."""
    alone = tmp_path / "ailleurs" / folder.name
    shutil.copytree(folder, alone)
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(kernel_root)
    try:
        client = NotebookClient(notebook, kernel_name="python-hors-depot", timeout=300, allow_errors=True,
                                resources={"metadata": {"path": str(alone)}})
        client.execute()
    finally:
        if previous is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = previous
    return notebook


def graded_test_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in notebook.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata.get("nbgrader", {}).get("solution")]


def errors(cell: nbformat.NotebookNode) -> list[dict]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"
            or (o.get("output_type") == "stream" and o.get("name") == "stderr")]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_when_a_released_folder_runs_alone_with_right_answers_then_its_visible_tests_pass(
    assignment, outside_kernel, tmp_path
):
    folder = REPO_ROOT / "release" / assignment
    name = find_assignments(REPO_ROOT / "release")[assignment].notebooks[0]
    solutions = _solutions(nbformat.read(REPO_ROOT / "source" / assignment / name, as_version=4))
    notebook = _answer(nbformat.read(folder / name, as_version=4), solutions)
    run_alone(folder, notebook, outside_kernel, tmp_path)
    setup = notebook.cells[[i for i, c in enumerate(notebook.cells) if c.cell_type == "code"][0]]
    assert not errors(setup), errors(setup)
    for cell in graded_test_cells(notebook):
        assert not errors(cell), (cell.metadata["nbgrader"]["grade_id"], errors(cell))


@pytest.mark.parametrize("assignment", ASSIGNMENTS[:2])
def test_when_a_released_folder_runs_alone_unanswered_then_its_tests_fail_in_french(assignment, outside_kernel, tmp_path):
    folder = REPO_ROOT / "release" / assignment
    name = find_assignments(REPO_ROOT / "release")[assignment].notebooks[0]
    notebook = run_alone(folder, nbformat.read(folder / name, as_version=4), outside_kernel, tmp_path)
    for cell in graded_test_cells(notebook):
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        failed = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert failed or "✘" in text, cell.metadata["nbgrader"]["grade_id"]
        assert "ModuleNotFoundError" not in str(failed)
        assert any(word in text + str(failed) for word in ("fonction", "pas encore", "réponse", "question", "Question"))


def test_when_the_check_library_changes_then_the_released_copies_follow():
    done = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "bundle_checks.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

