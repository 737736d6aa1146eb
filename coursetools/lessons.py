"""Re-execute the lessons of course/ and store their outputs (``make lessons``).

Outputs are stored so that students see them before running anything, and so
that nbval can re-execute each lesson and compare. Tracebacks of the cells that
raise on purpose are cut to their last line: the full traceback would store
paths of this machine, and nbval does not compare tracebacks anyway.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.course import REPO_ROOT, prepare_environment

RAISES = "NBVAL_RAISES_EXCEPTION"
RAISES_TAG = "raises-exception"


def execute_lesson(path: Path, timeout: int = 300) -> float:
    """Execute ``path`` in place; return the wall time in seconds."""
    prepare_environment()
    notebook = nbformat.read(path, as_version=4)
    # nbval reads the `# NBVAL_RAISES_EXCEPTION` comment, nbclient only the cell tag: tag
    # those cells while executing, and store them with the comment alone (nbval warns
    # when both are present).
    raising = [c for c in notebook.cells if c.cell_type == "code" and RAISES in c.source]
    for cell in raising:
        cell.metadata.setdefault("tags", [])
        if RAISES_TAG not in cell.metadata["tags"]:
            cell.metadata["tags"].append(RAISES_TAG)
    started = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    elapsed = time.perf_counter() - started
    for cell in raising:
        cell.metadata["tags"].remove(RAISES_TAG)
        if not cell.metadata["tags"]:
            del cell.metadata["tags"]
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
    nbformat.validate(notebook)
    nbformat.write(notebook, path)
    return elapsed


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((REPO_ROOT / "course").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"{path.name} : exécutée en {execute_lesson(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
