"""The start of a run: the gradebook, created as nbgrader creates it, without nbgrader's subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap

#: Pauses between the gradebook's creation and the run's next nbgrader import: when the gradebook was
#: created in a background thread, the collision needed both threads inside nbgrader's import cycle at
#: once, which depends on the timing (the test failed 3 runs out of 3 with that thread).
DELAYS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


def test_creating_the_gradebook_leaves_nbgrader_importable_in_the_main_thread(tmp_path):
    # nbgrader's modules import each other in a cycle: when a background thread creating the gradebook
    # imported them while the main thread did too, the main thread got a half-initialised module and the
    # run stopped (« cannot import name 'InstantiateTests' from partially initialized module »), every
    # time for `grading.pipeline.run` called from a script. The gradebook is now created in the caller's
    # thread; this guards against a thread coming back.
    runs = []
    for delay in DELAYS:
        script = textwrap.dedent(f"""
            import time
            from autograder.grading.prepare import create_gradebook
            create_gradebook("sqlite:///{tmp_path / f'gradebook-{delay}.db'}")
            time.sleep({delay})
            from autograder.execution.preprocessor import SandboxedExecute
            print("ok")
        """)
        runs.append(subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True))
    for delay, process in zip(DELAYS, runs):
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0 and out.strip() == "ok", f"pause de {delay} s : {err[-1500:]}"
        assert (tmp_path / f"gradebook-{delay}.db").exists()


def _schema(path) -> tuple[list[str], list[tuple]]:
    import sqlite3

    with sqlite3.connect(path) as connection:
        tables = sorted(row[0] for row in connection.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
        version = connection.execute("SELECT * FROM alembic_version").fetchall()
    return tables, version


def test_a_new_gradebook_is_the_one_nbgrader_creates_alone(tmp_path):
    # The revision is read with alembic's API instead of nbgrader's `alembic heads` subprocess: the
    # database must be the same, tables, indexes and revision stamp (else `nbgrader db upgrade` breaks).
    from nbgrader.api import Gradebook

    from autograder.grading.prepare import create_gradebook

    Gradebook(f"sqlite:///{tmp_path / 'nbgrader.db'}").close()
    create_gradebook(f"sqlite:///{tmp_path / 'ours.db'}")
    expected = _schema(tmp_path / "nbgrader.db")
    assert expected[1] and len(expected[0]) > 10
    assert _schema(tmp_path / "ours.db") == expected


def test_an_existing_gradebook_is_left_as_it_is(tmp_path):
    from nbgrader.api import Gradebook

    from autograder.grading.prepare import create_gradebook

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        gradebook.add_student("ada", first_name="Ada")
    before = _schema(tmp_path / "gradebook.db")
    create_gradebook(url)
    assert _schema(tmp_path / "gradebook.db") == before
    with Gradebook(url) as gradebook:
        assert [s.id for s in gradebook.students] == ["ada"]
