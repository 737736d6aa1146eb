"""A test process grades the copies of its slot one after the other: each copy must get exactly what it
would get alone, in a fresh test process (execute.TestProcess, tester.serve_many)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from autograder.course import REPO_ROOT
from autograder.execution import execute
from autograder.execution.backends import Job
from autograder.execution.preprocessor import prepare_job
from autograder.execution.student_process import RunParameters

pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]

COPIES = 15


def _real_class(root):
    """Complete copies of ex01: correct ones and typical mistakes (the benchmark's realistic class)."""
    spec = importlib.util.spec_from_file_location("bench_grading", REPO_ROOT / "benchmarks" / "bench_grading.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.make_real_class(root, COPIES)
    source = REPO_ROOT / "source" / bench.DEMO_ASSIGNMENT / bench.NOTEBOOK
    return {folder.name: prepare_job(Job(folder.name, bench.DEMO_ASSIGNMENT, source,
                                         folder / bench.DEMO_ASSIGNMENT / bench.NOTEBOOK))
            for folder in sorted(root.iterdir())}


def _grade(roles: dict[str, str], order: list[str]) -> dict[str, list]:
    parameters = RunParameters(cell_timeout=60)
    outputs = {}
    for student in order:
        result = execute.run_sandboxed(roles[student], student, parameters, 300)
        assert result.failure is None, result.failure
        outputs[student] = result.outputs
    return outputs


def test_when_copies_follow_each_other_in_one_test_process_then_each_gets_what_a_fresh_process_gives(
        tmp_path, monkeypatch):
    roles = _real_class(tmp_path / "rendus")
    order = sorted(roles)
    monkeypatch.setattr(execute, "COPIES_PER_TEST_PROCESS", 1)  # a new test process for every copy
    execute.stop_test_processes()
    fresh = _grade(roles, order)
    monkeypatch.setattr(execute, "COPIES_PER_TEST_PROCESS", 1000)
    execute.stop_test_processes()
    shared = _grade(roles, order)
    backwards = _grade(roles, order[::-1])  # the same test process again, the other way round
    execute.stop_test_processes()
    assert len({json.dumps(o, sort_keys=True) for o in fresh.values()}) > 5  # copies that differ indeed
    for student in order:
        assert shared[student] == fresh[student], student
        assert backwards[student] == fresh[student], student


#: A student's cell that searches every object of its process (what the garbage collector tracks: dicts,
#: lists, tuples, functions' constants) for the hidden tests' marker. (Reading its raw memory through
#: /proc/self/mem is refused in the sandbox.) The pattern is written so that the text it looks for is
#: nowhere in the cell itself.
MEMORY_SEARCH = r'''
import gc, re, types
pattern = re.compile("BEGIN[ ]HIDDEN[ ]TESTS")
def count(value):
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("latin-1")
    return len(pattern.findall(value)) if isinstance(value, str) else 0
found = 0
for obj in gc.get_objects():
    if isinstance(obj, dict):
        items = list(obj.keys()) + list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = list(obj)
    elif isinstance(obj, types.FunctionType):
        items = list(obj.__code__.co_consts)
    else:
        continue
    found += sum(count(item) for item in items)
print("TESTS CACHES EN MEMOIRE", found)
'''

#: Runs tester.serve_many as the warm server's child would, grades the copies given on its input one after
#: the other ([cells JSON, student id] pairs) and prints the last one's answer. ``sys.argv[1]``: "avec", as
#: in a run; "sans", the student's process forked from the test process itself (the defence switched off);
#: "interpreteur", as without root (no fork into a sandbox: bubblewrap starts a new interpreter).
SERVE = r'''
import json, os, sys
from multiprocessing import Pipe
from autograder.execution import sandbox, spawner, tester
from autograder.execution.student_process import RunParameters
if sys.argv[1] == "sans":
    spawner.Spawner.fork_student = lambda self, limits, uid: sandbox.fork_runner(limits, uid)
if sys.argv[1] == "interpreteur":  # as without root: each student's process is a new interpreter (bubblewrap)
    sandbox.fast_path_available = lambda: False
    def no_fork(*args, **kwargs):
        raise PermissionError(1, "unshare : Operation not permitted")  # what forking into a sandbox gives without root
    sandbox.fork_runner = no_fork
ours, theirs = Pipe()
pid = os.fork()  # before the cells are read: like the warm server, the test process starts without a test
if pid == 0:
    ours.close()
    tester.serve_many(theirs)
    os._exit(0)
theirs.close()
copies = json.loads(sys.stdin.read())  # [[cells JSON, student id], ...]
parameters = RunParameters(cell_timeout=120)
for cells, student in copies:
    ours.send((cells, student, parameters))
    while "cell" in (answer := json.loads(ours.recv_bytes())):  # a message per code cell done, then the answer
        pass
print(json.dumps(answer))
ours.close()
os.waitpid(pid, 0)
'''


@pytest.mark.skipif(not __import__("autograder.execution.sandbox", fromlist=["x"]).fast_path_available(),
                    reason="the student's process is forked into the sandbox only as root")
@pytest.mark.parametrize("defence", ["avec", "sans"])
def test_when_a_student_searches_its_memory_after_other_copies_then_no_hidden_test_is_there(tmp_path, defence):
    import subprocess
    import sys

    roles = _real_class(tmp_path / "rendus")
    full = roles[sorted(roles)[0]]
    # The search, then a crash, then the search again in the process that follows the crash.
    search = json.dumps([{"cell_type": "code", "source": source, "student": True, "test": False, "instructor": False}
                         for source in (MEMORY_SEARCH, "import os\nos._exit(0)", MEMORY_SEARCH)])
    done = subprocess.run([sys.executable, "-c", SERVE, defence],
                          input=json.dumps([[full, "copie-complete"], [search, "fouille"]]),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = json.loads(done.stdout.strip().splitlines()[-1])["outputs"]
    assert outputs[1] and outputs[1][-1]["output_type"] == "error"  # the crash
    for cell in (0, 2):
        text = "".join(o.get("text", "") for o in outputs[cell])
        found = int(text.split("TESTS CACHES EN MEMOIRE")[1])
        if defence == "avec":
            assert found == 0, cell  # forked by the spawner, which never held a test
        else:
            assert found > 0, cell  # forked from the test process: the previous copy's hidden tests are in its memory


def test_when_each_students_process_is_a_new_interpreter_then_copies_follow_each_other_the_same_way(tmp_path):
    """Without root there is no fork into the sandbox: bubblewrap starts each student's process afresh."""
    import subprocess
    import sys

    roles = _real_class(tmp_path / "rendus")
    first, second = sorted(roles)[:2]
    alone = _grade(roles, [second])[second]
    done = subprocess.run([sys.executable, "-c", SERVE, "interpreteur"],
                          input=json.dumps([[roles[first], first], [roles[second], second]]),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["outputs"] == alone


def test_when_the_grading_process_ends_with_an_idle_test_process_then_it_does_not_wait_for_it():
    """multiprocessing joins its child processes at exit: the idle test processes must be stopped before.

    The process below imports the module first, as a script does, keeps one idle test process, and ends.
    """
    import subprocess
    import sys

    script = (
        "from autograder.execution import execute\n"
        "from autograder.execution.student_process import RunParameters\n"
        "parameters = RunParameters(uid_base=61000)\n"
        "process = execute.TestProcess()\n"
        "execute._give_back(parameters, process)\n"
        "print('idle', execute._IDLE[(61000, parameters.slot)].process.is_alive(), flush=True)\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the process waited for its idle test process at exit")
    assert done.stdout.strip() == "idle True", done.stderr[-2000:]
