"""What the warm server prepares for the students' processes: IPython's shell, built without side effects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap


def _run(code: str, home, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("IPYTHONDIR", "HOME")}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**clean, "HOME": str(home), **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_building_the_shell_in_the_warm_server_leaves_the_graders_home_untouched(tmp_path):
    # The grader often runs as root: a ~/.ipython made by the shell's profile would belong to root, and its
    # owner's own Jupyter and nbgrader commands would then fail on it (Permission denied).
    home = tmp_path / "home"
    home.mkdir()
    _run("from autograder.execution.runner import prepare_shell; prepare_shell()", home)
    assert sorted(p.name for p in home.iterdir()) == []


def test_the_warm_server_shell_leaves_no_trace_of_ipython_in_the_server_then_comes_back_whole_in_the_student(tmp_path):
    # The test processes are forked from the same server: they must not see IPython's builtins or
    # its __main__ module. The student's process gets them back, as a shell built there would give.
    out = _run("""
        import builtins, json, os, sys
        main_before = sys.modules["__main__"]
        from autograder.execution import runner
        runner.prepare_shell()
        server = {"display": hasattr(builtins, "display"), "ipython": hasattr(builtins, "__IPYTHON__"),
                  "main": sys.modules["__main__"] is main_before, "ps1": hasattr(sys, "ps1")}
        shell = runner._shell()
        result = shell.run_cell("import os\\nx = __name__, display is not None, get_ipython() is not None", store_history=False)
        student = {"ok": result.success, "x": list(shell.user_ns["x"]), "main": sys.modules["__main__"] is shell.user_module,
                   "profile": os.path.isdir(shell.profile_dir.location)}
        import shutil
        shutil.rmtree(shell.ipython_dir)  # made again here, outside a sandbox: not left in /tmp
        print(json.dumps({"server": server, "student": student}))
    """, tmp_path)
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["server"] == {"display": False, "ipython": False, "main": True, "ps1": False}
    assert seen["student"] == {"ok": True, "x": ["__main__", True, True], "main": True, "profile": True}


def test_the_warm_server_ends_without_the_shells_exit_handler_which_the_students_process_gets_back(tmp_path):
    # The shell's exit handler collects every object of the process (about 0.25 s over TensorFlow's), in the
    # server at the end of each grading, while the grader's output waits. Each generation-2 collection
    # during the exit handlers (not the interpreter's own end, after them) is reported on stdout.
    code = """
        import atexit, gc, os
        atexit.register(gc.callbacks.clear)  # registered first: runs after the other handlers
        from autograder.execution import runner
        runner.prepare_shell()
        if os.environ.get("STUDENT") == "1":
            runner._shell()
        def report(phase, info):
            if phase == "start" and info["generation"] == 2:
                os.write(1, b"collection\\n")
        atexit.register(gc.callbacks.append, report)  # registered last: runs first among the handlers
    """
    server = _run(code, tmp_path)
    student = _run(code, tmp_path, STUDENT="1")
    assert "collection" not in server
    assert "collection" in student
