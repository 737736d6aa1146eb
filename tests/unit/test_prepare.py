"""The start of a run: the gradebook is created in the background while the copies are collected."""

from __future__ import annotations

import subprocess
import sys
import textwrap

#: Pauses of the main thread between starting the gradebook's thread and its own nbgrader import: the
#: collision needs both threads inside nbgrader's import cycle at once, which depends on the timing.
DELAYS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


def test_gradebook_thread_leaves_nbgrader_importable_in_the_main_thread(tmp_path):
    # nbgrader's modules import each other in a cycle: when the background thread imported them while
    # the main thread did too, the main thread got a half-initialised module and the run stopped
    # (« cannot import name 'InstantiateTests' from partially initialized module »), every time for
    # `grading.pipeline.run` called from a script.
    runs = []
    for delay in DELAYS:
        script = textwrap.dedent(f"""
            import time
            from autograder.grading.prepare import create_gradebook
            thread = create_gradebook("sqlite:///{tmp_path / f'gradebook-{delay}.db'}")
            time.sleep({delay})
            from autograder.execution.preprocessor import SandboxedExecute
            thread.join()
            print("ok")
        """)
        runs.append(subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True))
    for delay, process in zip(DELAYS, runs):
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0 and out.strip() == "ok", f"pause de {delay} s : {err[-1500:]}"
        assert (tmp_path / f"gradebook-{delay}.db").exists()
