"""The start of a run: the gradebook, created as nbgrader creates it, without nbgrader's subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_creating_the_gradebook_leaves_no_thread_behind_and_nbgrader_importable(tmp_path):
    # nbgrader's modules import each other in a cycle: when a background thread creating the gradebook
    # imported them while the main thread did too, the main thread got a half-initialised module and the
    # run stopped (« cannot import name 'InstantiateTests' from partially initialized module »), every
    # time for `grading.pipeline.run` called from a script. The gradebook is now created in the caller's
    # thread. Guarded without depending on the timing of a race: in a fresh interpreter, when
    # `create_gradebook` returns, no other thread runs and no module is half imported, and the run's next
    # nbgrader import works.
    script = textwrap.dedent(f"""
        import json, sys, threading
        from autograder.grading.prepare import create_gradebook
        create_gradebook("sqlite:///{tmp_path / 'gradebook.db'}")
        others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        half = sorted(name for name, module in list(sys.modules.items())
                      if getattr(getattr(module, "__spec__", None), "_initializing", False))
        from autograder.execution.preprocessor import SandboxedExecute
        print(json.dumps({{"threads": others, "half": half}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-1500:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"threads": [], "half": []}, seen
    assert (tmp_path / "gradebook.db").exists()


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
    create_gradebook(url)  # (a new gradebook made by nbgrader alone is compared above)
    with Gradebook(url) as gradebook:
        gradebook.add_student("ada", first_name="Ada")
    before = _schema(tmp_path / "gradebook.db")
    create_gradebook(url)
    assert _schema(tmp_path / "gradebook.db") == before
    with Gradebook(url) as gradebook:
        assert [s.id for s in gradebook.students] == ["ada"]
