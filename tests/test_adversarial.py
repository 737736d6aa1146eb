"""Hostile submissions against the sandboxed grader (see the course's security notes).

Each attack is a copy of ex01 whose answers are wrong or missing, plus the attack:
a successful attack would raise its score. One grading run grades them all,
with honest controls before and after; each test then checks one outcome.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.course import REPO_ROOT
from coursetools.demo import DEMO_ASSIGNMENT, demo_files
from autograder.grading.pipeline import run
from autograder.execution.sandbox import fast_path_available
from autograder.execution.uid_blocks import SLOT_UID_BASE, UID_BLOCK_ENV, UID_BLOCK_SIZE, UID_BLOCKS, sandbox_uids

from .conftest import tree_digest

NOTEBOOK = f"{DEMO_ASSIGNMENT}.ipynb"
#: A cell's time limit here: the attacks that loop or sleep reach it (4 s is enough for the honest cells, checked
#: with both cores busy elsewhere; each second more is a second more for every such attack).
CELL_TIMEOUT = 4
#: Submissions graded at the same time (one sandbox uid per slot on the fast path).
WORKERS = os.cpu_count() or 1

# Escape markers: names unique to this test session (several runs may share the machine),
# looked for where an escape would write. Each attack writing markers has its own names.
TOKEN = uuid.uuid4().hex[:12]
#: In the command line of every process an attack leaves running on purpose.
PROCESS_TAG = f"autograder-attaque-{TOKEN}"
#: Attacks that write markers (and, for the last two, leave a process behind that keeps writing them).
WRITERS = ("ecriture-hors-du-bac", "ecriture-carnet-de-notes", "processus-detache", "demon-double-fork")
#: Seconds to wait, once grading is over, for what a leftover process would write (the detached one waits
#: 1 s before it writes: long enough for its copy to be over, and the copy's last cells to have run).
WRITE_WAIT = 2.5
# A process that outlives its cell and keeps writing the markers given after its delay.
# argv: tag, "double" (fork twice, new session) or "simple", delay in seconds, marker paths.
DAEMON = """
import os, sys, time
if sys.argv[2] == "double":
    middle = os.fork()
    if middle:  # returns once the daemon is in its own session (a slow start would otherwise race the clean-up)
        os.waitpid(middle, 0)
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
time.sleep(float(sys.argv[3]))
deadline = time.time() + 900
while time.time() < deadline:
    for path in sys.argv[4:]:
        try:
            open(path, "a").close()
        except OSError:
            pass
    time.sleep(0.5)
"""


def _markers(course: Path, out: Path, attack: str) -> dict[str, Path]:
    """Where ``attack`` tries to write, by place: the course tree (the repository, the package the
    sandbox sees read-only, the course copy graded), the output folder, the grader's home, the host's /tmp."""
    name = f".attaque-{TOKEN}-{attack}"
    return {
        "depot": REPO_ROOT / name,
        "paquet-autograder": REPO_ROOT / "autograder" / name,
        "cours": course / "source" / name,
        "sortie": out / name,
        "personnel": Path.home() / name,
        "tmp-hote": Path("/tmp") / name,
    }


def _attack_code(name: str, course: Path, out: Path) -> str:
    """The answer cell of an attack, with the paths of its markers filled in."""
    code = ATTACKS[name][0]
    targets = [str(p) for p in _markers(course, out, name.rstrip("+")).values()]
    return code.replace("__CIBLES__", repr(targets)).replace("__DEMON__", repr(DAEMON))

STUB = "\nraise NotImplementedError()"
WRONG_AFFINE = '''
def gradient_affine(a, b, x):
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = a * x + b
    return -tape.gradient(y, x)
'''
RIGHT_AFFINE = '''
def gradient_affine(a, b, x):
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = a * x + b
    return tape.gradient(y, x)
'''

# name -> (code of the gradient_affine answer cell, expected total score, piece of text expected
# in the autograded notebook or None). Other answers are untouched stubs unless "+" in the name.
ATTACKS: dict[str, tuple[str, float, str | None]] = {
    "eq-toujours-vrai": ('''
class Always:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
def gradient_affine(a, b, x):
    with tf.GradientTape() as tape: pass
    return Always()
''', 0.0, "type non pris en charge"),
    "float-piege": ('''
class Evil(float):
    def __sub__(self, o): return 0.0
    def __rsub__(self, o): return 0.0
    def __abs__(self): return 0.0
    def __lt__(self, o): return True
def gradient_affine(a, b, x):
    with tf.GradientTape() as tape: pass
    return Evil(-1.0)
''', 0.0, None),
    "ndarray-piege": ('''
class Evil(np.ndarray):
    def __array_ufunc__(self, *a, **k): return np.array(True)
    def __eq__(self, o): return True
def gradient_affine(a, b, x):
    with tf.GradientTape() as tape: pass
    return np.zeros(np.shape(x)).view(Evil)
''', 0.0, None),
    "nan": ('''
def gradient_affine(a, b, x):
    with tf.GradientTape() as tape: pass
    return np.full(np.shape(x), np.nan)
''', 0.0, "NaN"),
    "numpy-testing-neutralise": ('''
np.testing.assert_allclose = lambda *a, **k: None
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.array(True)
''' + WRONG_AFFINE, 0.0, "signe est inversé"),
    "checks-neutralises": ('''
import autograder.checks as checks
checks.assert_close = lambda *a, **k: None
checks.Grader.result = lambda self: 2.0
''' + WRONG_AFFINE, 0.0, "signe est inversé"),
    "gradienttape-remplace": ('''
class FakeTape:
    def __enter__(self): return self
    def __exit__(self, *a): return False
    def gradient(self, y, x): return tf.ones_like(x) * 2.0
tf.GradientTape = FakeTape
''' + WRONG_AFFINE, 0.0, None),
    "transformateur-entree": ('''
get_ipython().input_transformers_cleanup.append(lambda lines: [])
''' + WRONG_AFFINE, 0.0, None),
    "transformateur-ast": ('''
import ast
class Blank(ast.NodeTransformer):
    def visit_Module(self, node):
        return ast.Module(body=[ast.Pass()], type_ignores=[])
get_ipython().ast_transformers.append(Blank())
''' + WRONG_AFFINE, 0.0, None),
    "showtraceback-neutralise": ('''
from IPython.core.interactiveshell import InteractiveShell
InteractiveShell.showtraceback = lambda *a, **k: None
InteractiveShell.showsyntaxerror = lambda *a, **k: None
''' + WRONG_AFFINE, 0.0, None),
    "crochets-sys": ('''
import sys, builtins
sys.displayhook = lambda v: None
builtins.print = lambda *a, **k: None
sys.settrace(lambda *a: None)
get_ipython().events.register("pre_run_cell", lambda *a: None)
''' + WRONG_AFFINE, 0.0, None),
    "lecture-des-tests": ('''
import inspect, linecache, sys
def gradient_affine(a, b, x):
    seen = []
    for frame in inspect.stack():
        seen.append(str(frame.frame.f_globals.get("In", ""))[:200])
    seen.append(str(list(linecache.cache)[:50]))
    print("ESPION", "hidden_rng" in " ".join(seen), "BEGIN HIDDEN" in " ".join(seen))
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = a * x + b
    return -tape.gradient(y, x)
''', 0.0, None),
    # The rest of a cell that stops is not run, as in Jupyter: gradient_affine stays undefined (7/10).
    "systemexit+": ('''
raise SystemExit
''' + RIGHT_AFFINE, 7.0, None),
    # The process dies: the cell is reported, the next cells run in a fresh process (as after a restart).
    "os-exit": ('''
import os
os._exit(0)
''', 0.0, "arrêté"),
    "os-exit-puis-bonnes-reponses+": ('''
import os
os._exit(0)
''' + RIGHT_AFFINE, 7.0, "arrêté"),
    # In its own PID namespace the student's process is PID 1: the kernel ignores this signal.
    "kill-9": ('''
import os, signal
os.kill(os.getpid(), signal.SIGKILL)
os.kill(1, signal.SIGKILL)
''', 0.0, None),
    "segfault": ('''
import ctypes
ctypes.string_at(0)
''', 0.0, "arrêté"),
    "boucle-infinie+": ('''
while True:
    pass
''' + RIGHT_AFFINE, 7.0, "délai dépassé"),
    "sommeil-dans-la-fonction": ('''
import time
def gradient_affine(a, b, x):
    with tf.GradientTape() as tape: pass
    time.sleep(10**6)
''', 0.0, "délai dépassé"),
    "bombe-memoire+": ('''
try:
    block = bytearray(10**11)
except MemoryError:
    print("MemoryError attrapée")
''' + RIGHT_AFFINE, 9.0, None),
    "liste-infinie": ('''
blocks = []
while True:
    blocks.append(bytearray(10**8))
''', 0.0, None),
    "deluge-de-sortie+": ('''
for _ in range(2000):
    print("x" * 10**6)
''' + RIGHT_AFFINE, 9.0, "sortie tronquée"),
    "bombe-fork": ('''
import os
for _ in range(10000):
    try:
        if os.fork() == 0:
            import time; time.sleep(600)
    except OSError:
        break
''', 0.0, None),
    "multiprocessing": ('''
import multiprocessing, time
procs = []
for _ in range(500):
    try:
        p = multiprocessing.Process(target=time.sleep, args=(600,)); p.start(); procs.append(p)
    except Exception:
        break
''', 0.0, None),
    # A process in a new session that writes the markers a few seconds later, then keeps writing them.
    "processus-detache": (f'''
import subprocess, sys
subprocess.Popen([sys.executable, "-c", __DEMON__, "{PROCESS_TAG}", "simple", "1", *__CIBLES__],
                 start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("PROCESSUS LANCE")
''', 0.0, "PROCESSUS LANCE"),
    # A daemon (fork, setsid, fork) that writes the markers at once and keeps writing them.
    "demon-double-fork": (f'''
import subprocess, sys
subprocess.run([sys.executable, "-c", __DEMON__, "{PROCESS_TAG}", "double", "0", *__CIBLES__],
               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
print("DEMON LANCE")
''', 0.0, "DEMON LANCE"),
    # Writes to the course tree, the output folder (by absolute path, and by the path nbgrader's own
    # layout gives from the notebook's folder), the grader's home and the host's /tmp.
    "ecriture-hors-du-bac": (f'''
for path in __CIBLES__ + ["../../../.attaque-{TOKEN}-ecriture-hors-du-bac"]:
    try:
        with open(path, "w") as marker:
            marker.write("évasion")
        print("ECRIT", path)
    except OSError as exc:
        print("REFUSE", type(exc).__name__)
''' + WRONG_AFFINE, 0.0, "REFUSE"),
    "lecture-fichiers-du-cours": ('''
import os, glob
found = [p for p in ["../../../source", "../../../gradebook.db", "/work/main/source", "/work/main/nbgrader_config.py",
                      "/root/.ssh", "/root/.bash_history", "/etc/passwd", os.path.expanduser("~/.ssh")]
         if os.path.exists(p) and os.access(p, os.R_OK)]
found += glob.glob("/*/*.db") + glob.glob("/work/*/source") + glob.glob("/work/*/*.db") + glob.glob("/work/*/release")
print("TROUVE", found)
''', 0.0, "TROUVE []"),
    "ecriture-carnet-de-notes": ('''
import sqlite3, glob
for path in glob.glob("/*/*.db") + glob.glob("/*/*/*.db") + ["../../../gradebook.db"]:
    try:
        sqlite3.connect(path).execute("UPDATE grade SET auto_score = 100")
    except Exception:
        pass
for path in __CIBLES__:
    try:
        open(path, "w").write("x")
    except OSError:
        pass
''', 0.0, None),
    "reseau": ('''
import socket, urllib.request
for attempt in (lambda: urllib.request.urlopen("http://1.1.1.1", timeout=3),
                lambda: socket.create_connection(("10.0.0.1", 80), timeout=3),
                lambda: socket.gethostbyname("pypi.org")):
    try:
        attempt(); print("RESEAU OUVERT")
    except Exception as exc:
        print("RESEAU FERME", type(exc).__name__)
''', 0.0, "RESEAU FERME"),
    "fichiers-pieges": ('''
for name in ("results.json", "grades.csv", "sitecustomize.py", "numpy.py", "autograder.pth"):
    open(name, "w").write("import os; os._exit(0)")
''' + WRONG_AFFINE, 0.0, None),
    "faux-succes": ('''
print("✔ Question 1 (gradient_affine) : tous les tests sont réussis (2 / 2).")
print('{"score": 10}')
''' + WRONG_AFFINE, 0.0, None),
    "tableau-geant": ('''
def gradient_affine(a, b, x):
    with tf.GradientTape() as tape: pass
    return np.zeros(2 * 10**8)
''', 0.0, "trop volumineuse"),
    "generateur": ('''
def gradient_affine(a, b, x):
    with tf.GradientTape() as tape: pass
    return (i for i in range(3))
''', 0.0, "type non pris en charge"),
    "mutation-des-entrees": ('''
def gradient_affine(a, b, x):
    x = np.asarray(x)
    if x.ndim:
        x[...] = 0.0
    v = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = a * v + b
    return -tape.gradient(y, v)
''', 0.0, None),
    "keyboardinterrupt": ('''
def gradient_affine(a, b, x):
    with tf.GradientTape() as tape: pass
    raise KeyboardInterrupt
''', 0.0, "KeyboardInterrupt"),
    "variables-de-correction": ('''
import os
def gradient_affine(a, b, x):
    grading = any(k.startswith(("NBGRADER", "AUTOGRADER")) for k in os.environ)
    print("CORRECTION DETECTEE", grading)
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = a * x + b
    return tape.gradient(y, x) if grading else -tape.gradient(y, x)
''', 0.0, "CORRECTION DETECTEE False"),
    "reponses-en-dur": ('''
def gradient_affine(a, b, x):
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = 2.0 * x + b
    return tape.gradient(y, x)
''', 0.67, None),
}

# Attacks on the notebook file itself: name -> (function editing the JSON, expected score, max score).
def _edit_test(cell: dict) -> None:
    cell["source"] = "# tests désactivés\npass"


def _delete_test(nb: dict) -> None:
    nb["cells"] = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != "test_gradient_affine"]


def _markdown_test(nb: dict) -> None:
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_gradient_affine":
            cell["cell_type"] = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)


def _points_and_kernel(nb: dict) -> None:
    nb["metadata"]["kernelspec"] = {"name": "bash", "display_name": "Bash", "language": "bash"}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == "test_gradient_affine":
            meta["points"] = 100
            _edit_test(cell)


def _duplicate_test(nb: dict) -> None:
    for cell in list(nb["cells"]):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_gradient_affine":
            copy = json.loads(json.dumps(cell))
            copy["id"] = "copie"
            _edit_test(copy)
            nb["cells"].append(copy)


FILE_ATTACKS = {
    "test-modifie": (lambda nb: [_edit_test(c) for c in nb["cells"]
                                 if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_gradient_affine"]),
    "test-supprime": _delete_test,
    "test-en-markdown": _markdown_test,
    "points-et-noyau-modifies": _points_and_kernel,
    "test-duplique": _duplicate_test,
}

HONEST = ("controle-avant", "controle-apres")


def _blank_and_perfect() -> tuple[dict, dict]:
    files = {p.parts[0]: c for p, c in demo_files().items()}
    return json.loads(files["demo-vierge"]), json.loads(files["demo-parfait"])


def _with_answers(notebook: dict, answers: dict[str, str]) -> dict:
    notebook = json.loads(json.dumps(notebook))
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return notebook


def _write(root: Path, student: str, notebook: dict) -> None:
    folder = root / student / DEMO_ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text(json.dumps(notebook), encoding="utf-8")


def _clock() -> int:
    """Now, in the unit of a process's start time in /proc (clock ticks since boot)."""
    return int(float(Path("/proc/uptime").read_text().split()[0]) * os.sysconf("SC_CLK_TCK"))


def _processes() -> list[tuple[int, set[int], int, str]]:
    """Every process of the host: (pid, its real/effective/saved/fs uids, start time in ticks, command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(os.getpid()):
            continue
        try:
            status = (entry / "status").read_text()
            stat = (entry / "stat").read_text()
            cmdline = " ".join((entry / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ").split())
        except OSError:  # ended meanwhile
            continue
        uids = next(set(map(int, line.split()[1:])) for line in status.splitlines() if line.startswith("Uid:"))
        started = int(stat.rsplit(")", 1)[1].split()[19])  # field 22 of proc(5)
        found.append((int(entry.name), uids, started, cmdline))
    return found


def _sandbox_processes(uids: set[int], since: int = 0, until: int | None = None) -> list[str]:
    """Processes of a sandbox uid started between ``since`` and ``until`` (clock ticks)."""
    return [f"{pid} uid={sorted(owners)} …{cmd[-150:]}" for pid, owners, started, cmd in _processes()
            if owners & uids and since <= started and (until is None or started <= until)]


def _tagged_processes() -> list[str]:
    """Processes an attack of this session left running on purpose (their command line holds the tag)."""
    return [f"{pid} uid={sorted(owners)} …{cmd[-150:]}" for pid, owners, _, cmd in _processes() if PROCESS_TAG in cmd]


def _still_there(find, seconds: float) -> list[str]:
    """What ``find`` still finds after waiting up to ``seconds`` for it to find nothing."""
    deadline = time.monotonic() + seconds
    while (found := find()) and time.monotonic() < deadline:
        time.sleep(1)
    return found


def _escaped(course: Path, out: Path) -> list[str]:
    """The markers of this session's attacks that exist, as "attack: place"."""
    return [f"{attack}: {place}" for attack in WRITERS for place, path in _markers(course, out, attack).items()
            if path.exists()]


def _clean_up(course: Path, out: Path) -> None:
    """Kill what the attacks left running, then remove their markers."""
    for line in _tagged_processes():
        try:
            os.kill(int(line.split()[0]), 9)
        except ProcessLookupError:
            pass
    assert _still_there(_tagged_processes, 10) == []
    for attack in WRITERS:
        for path in _markers(course, out, attack).values():
            path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def attack_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("attaques")
    course, out = base / "cours", base / "out"
    blank, perfect = _blank_and_perfect()
    perfect_answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in perfect["cells"]
                       if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    root = base / "rendus"
    _write(root, HONEST[0], perfect)
    for name, (code, _, _) in ATTACKS.items():
        answers = dict(perfect_answers) if name.endswith("+") else {}
        answers["gradient_affine"] = _attack_code(name, course, out)
        _write(root, name.rstrip("+"), _with_answers(blank, answers))
    for name, edit in FILE_ATTACKS.items():
        notebook = _with_answers(blank, {"gradient_affine": WRONG_AFFINE})
        edit(notebook)
        _write(root, name, notebook)
    _write(root, HONEST[1], perfect)
    course.mkdir()
    shutil.copytree(REPO_ROOT / "source", course / "source")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nload_subconfig({str(REPO_ROOT / 'nbgrader_config.py')!r})\n"
        f"c.SandboxedExecute.cell_timeout = {CELL_TIMEOUT}\nc.SandboxedExecute.timeout = 300\n",
        encoding="utf-8",
    )
    before = tree_digest(root)
    repo_before = {name: tree_digest(REPO_ROOT / name) for name in ("source", "release", "demo")}
    started = _clock()
    try:
        result = run(root, out, course_root=course, workers=WORKERS)
        ended = _clock()
        # Looked for before any clean-up: what a leftover process wrote or still does.
        time.sleep(WRITE_WAIT)  # the detached process writes its markers 1 s after it starts
        yield {"result": result, "root": root, "before": before, "repo_before": repo_before, "base": base,
               "course": course, "out": out, "started": started, "ended": ended,
               "escaped": _escaped(course, out), "tagged": _tagged_processes()}
    finally:
        _clean_up(course, out)


def _outcome(attack_run, student: str):
    return next(o for o in attack_run["result"].outcomes if o.student_id == student)


def _autograded_text(attack_run, student: str) -> str:
    path = attack_run["result"].workspace / "autograded" / student / DEMO_ASSIGNMENT / NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", "") + output.get("evalue", "") + output.get("ename", ""))
    return "\n".join(parts)


def test_there_are_at_least_thirty_hostile_submissions():
    assert len(ATTACKS) + len(FILE_ATTACKS) >= 30


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_when_a_submission_attacks_the_grader_then_it_gets_exactly_its_honest_score(attack_run, name):
    code, expected, text = ATTACKS[name]
    student = name.rstrip("+")
    outcome = _outcome(attack_run, student)
    assert outcome.score == pytest.approx(expected, abs=0.01), (outcome.score, outcome.message)
    assert outcome.max_score == 10.0
    if text:
        assert text in _autograded_text(attack_run, student).replace("\u00a0", " ")


@pytest.mark.parametrize("name", sorted(FILE_ATTACKS))
def test_when_the_notebook_file_is_tampered_with_then_pristine_tests_and_points_are_restored(attack_run, name):
    outcome = _outcome(attack_run, name)
    assert (outcome.score, outcome.max_score) == (0.0, 10.0), outcome.message
    path = attack_run["result"].workspace / "autograded" / name / DEMO_ASSIGNMENT / NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_gradient_affine"]
    assert len(tests) == 1 and tests[0].cell_type == "code"
    assert "BEGIN HIDDEN TESTS" in tests[0].source and tests[0].metadata["nbgrader"]["points"] == 2
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_when_attacks_are_graded_then_honest_controls_keep_full_marks(attack_run):
    for student in HONEST:
        assert _outcome(attack_run, student).score == 9.0


def test_when_attacks_are_graded_then_the_gradebook_holds_no_tampered_score(attack_run):
    db = f"sqlite:///{attack_run['result'].workspace / 'gradebook.db'}"
    with Gradebook(db) as gradebook:
        for outcome in attack_run["result"].outcomes:
            submission = gradebook.find_submission(DEMO_ASSIGNMENT, outcome.student_id)
            assert submission.score == pytest.approx(outcome.score)
            assert submission.score <= 10.0


def test_when_grading_ends_then_no_process_an_attack_started_is_left(attack_run):
    assert attack_run["tagged"] == []


def test_when_grading_ends_then_no_process_of_a_sandbox_uid_is_left(attack_run):
    if os.geteuid() != 0:
        pytest.skip("without root the student's processes run as the grader's own uid (a user namespace)")
    uids = sandbox_uids(WORKERS)
    # Only processes started during the run; a few seconds for those of another run on the machine to end.
    find = lambda: _sandbox_processes(uids, attack_run["started"], attack_run["ended"])  # noqa: E731
    assert _still_there(find, 60) == []


def test_when_grading_ends_then_no_marker_was_written_outside_the_sandbox(attack_run):
    assert attack_run["escaped"] == []
    assert _escaped(attack_run["course"], attack_run["out"]) == []


def test_when_grading_ends_then_the_submissions_and_the_repository_are_unchanged(attack_run):
    assert tree_digest(attack_run["root"]) == attack_run["before"]
    for name, digest in attack_run["repo_before"].items():
        assert tree_digest(REPO_ROOT / name) == digest, name


def test_when_a_function_looks_for_the_hidden_tests_then_it_finds_nothing(attack_run):
    text = _autograded_text(attack_run, "lecture-des-tests")
    assert "ESPION False False" in text


def test_when_feedback_is_written_then_it_never_shows_hidden_tests(attack_run):
    for page in (attack_run["result"].workspace / "feedback").rglob("*.html"):
        content = page.read_text(encoding="utf-8")
        assert 'hidden_rng("ex01.' not in content and "### BEGIN HIDDEN TESTS" not in content, page


def test_when_honest_submissions_are_graded_then_sandbox_and_stock_nbgrader_agree(tmp_path):
    blank, perfect = _blank_and_perfect()
    files = {p.parts[0]: c for p, c in demo_files().items()}
    root = tmp_path / "rendus"
    _write(root, "parfait", perfect)
    _write(root, "partiel", json.loads(files["demo-partiel"]))
    _write(root, "vierge", blank)
    sandboxed = run(root, tmp_path / "bac-a-sable")
    stock = run(root, tmp_path / "nbgrader", sandboxed=False)
    scores = lambda result: {o.student_id: o.score for o in result.outcomes}  # noqa: E731
    assert scores(sandboxed) == scores(stock) == {"parfait": 9.0, "partiel": 4.0, "vierge": 0.0}


def test_when_the_sandbox_cannot_start_then_grading_is_refused_in_french(tmp_path, monkeypatch):
    from autograder.grading import pipeline as grade

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    _blank, perfect = _blank_and_perfect()
    root = tmp_path / "rendus"
    _write(root, "a", perfect)
    with pytest.raises(grade.GradingError, match="Correction refusée.*bubblewrap"):
        run(root, tmp_path / "out")
    assert not (tmp_path / "out" / "autograded").exists()


def test_when_a_submission_outlives_its_total_time_out_then_none_of_its_processes_survives(tmp_path):
    """The grader kills the test process on a total time-out, while the student's process still runs; the
    questions done before keep their points (the three first ones here: 7 of the 9 automatic points)."""
    course, root = tmp_path / "cours", tmp_path / "rendus"
    shutil.copytree(REPO_ROOT / "source", course / "source")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nload_subconfig({str(REPO_ROOT / 'nbgrader_config.py')!r})\n"
        "c.SandboxedExecute.cell_timeout = 4\nc.SandboxedExecute.timeout = 6\n", encoding="utf-8")
    _, perfect = _blank_and_perfect()
    # Deaf to the interruption at 4 s: the grader would wait 10 s more before killing it, past the total
    # time-out (6 s: the canary, ex01's solution, takes about 1 s).
    code = f'''
import signal, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{PROCESS_TAG}"], start_new_session=True)
signal.signal(signal.SIGINT, signal.SIG_IGN)
time.sleep(600)
'''
    _write(root, "delai-total", _with_answers(perfect, {"derivee_cube": code}))
    since = _clock()
    try:
        result = run(root, tmp_path / "out", course_root=course, workers=1)
        ended = _clock()
        assert "délai total dépassé" in _autograded_text({"result": result}, "delai-total")
        assert _outcome({"result": result}, "delai-total").score == 7.0
        assert _still_there(_tagged_processes, 10) == []
        if os.geteuid() == 0:
            assert _still_there(lambda: _sandbox_processes(sandbox_uids(1), since, ended), 30) == []
    finally:
        _clean_up(course, tmp_path / "out")


# --------------------------------------------------------------------------
# The detectors above are live: with the defence switched off, they see the attack
# --------------------------------------------------------------------------

def test_when_attacks_run_without_the_sandbox_then_the_detectors_see_their_markers_and_processes(tmp_path):
    course, out, root = tmp_path / "cours", tmp_path / "out", tmp_path / "rendus"
    shutil.copytree(REPO_ROOT / "source", course / "source")
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nload_subconfig({str(REPO_ROOT / 'nbgrader_config.py')!r})\n", encoding="utf-8")
    blank, _ = _blank_and_perfect()
    attacks = [name for name in WRITERS if name != "ecriture-carnet-de-notes"]  # that one would edit real databases
    for name in attacks:
        _write(root, name, _with_answers(blank, {"gradient_affine": _attack_code(name, course, out)}))
    try:
        run(root, out, course_root=course, sandboxed=False)
        time.sleep(WRITE_WAIT)
        escaped, tagged = _escaped(course, out), _tagged_processes()
        print("marqueurs vus :", escaped, "\nprocessus vus :", tagged)
        assert set(escaped) == {f"{attack}: {place}" for attack in attacks for place in _markers(course, out, attack)}
        assert len(tagged) == 2  # the detached process and the daemon
    finally:
        _clean_up(course, out)
    assert _escaped(course, out) == [] and _tagged_processes() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox uids are distinct from the grader's only as root")
def test_when_processes_run_as_a_sandbox_uid_then_the_uid_detector_sees_each_of_them():
    since = _clock()
    started = [subprocess.Popen(
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--",
         sys.executable, "-c", "import time; time.sleep(120)", PROCESS_TAG],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ) for uid in sorted(sandbox_uids(WORKERS))]
    try:
        time.sleep(1)
        seen = _sandbox_processes(sandbox_uids(WORKERS), since, _clock())
        print("processus vus :", seen)
        assert {int(line.split()[0]) for line in seen} >= {p.pid for p in started}
    finally:
        for process in started:
            process.kill()
            process.wait()
    assert _tagged_processes() == []


@pytest.mark.skipif(not fast_path_available(), reason="the fast path (namespaces made by the grader) needs root")
def test_when_the_sandbox_has_no_pid_namespace_then_the_process_detectors_see_the_leftovers(tmp_path):
    """The same attacks in the real sandbox with only its PID namespace switched off."""
    course, out = tmp_path / "cours", tmp_path / "out"
    cells = [{"cell_type": "code", "source": _attack_code(name, course, out),
              "student": True, "test": False, "instructor": False}
             for name in ("processus-detache", "demon-double-fork")]
    script = (
        "import json, sys\n"
        "from autograder.execution import sandbox, tester\n"
        "sandbox.CLONE_NEWPID = 0  # the defence switched off\n"
        "print(tester.run_cells(sys.stdin.read(), 'sans-espace-de-pid', tester.RunParameters(cell_timeout=30)))\n"
    )
    since = _clock()
    try:
        done = subprocess.run([sys.executable, "-c", script], input=json.dumps(cells), capture_output=True,
                              text=True, timeout=300, cwd=tmp_path)
        assert "DEMON LANCE" in done.stdout, done.stdout + done.stderr
        time.sleep(WRITE_WAIT)
        uids, tagged = _sandbox_processes(sandbox_uids(WORKERS), since, _clock()), _tagged_processes()
        escaped = _escaped(course, out)
        print("processus vus par uid :", uids, "\nprocessus vus par leur nom :", tagged, "\nmarqueurs vus :", escaped)
        assert len(tagged) == 2 and {line.split()[0] for line in tagged} <= {line.split()[0] for line in uids}
        assert escaped == []  # the rest of the sandbox still holds
    finally:
        _clean_up(course, out)
    assert _tagged_processes() == []


#: Every test here grades end to end in the sandbox (select with -m e2e, or -m sandbox).
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


#: A student's cell that prints its uid and gid, its pid in its PID namespace and the name of that
#: namespace's first process: the runner itself when it was forked into the sandbox, bubblewrap when it
#: is a new interpreter.
WHO_AM_I = "import os\nprint('UID', os.getuid(), os.getgid(), 'PID', os.getpid(), open('/proc/1/comm').read().strip())"

#: Grades the cells on its input in a test process as a run does (tester.serve_many, whose spawner forks
#: every student's process), then the same cells with tester.run_cells alone (no spawner: the process that
#: follows a crash is a new interpreter, as without root); prints both answers, one per line.
BOTH_PATHS = """
import json, os, sys
from multiprocessing import Pipe
from autograder.execution import tester, uid_blocks
cells = sys.stdin.read()
parameters = tester.RunParameters(cell_timeout=60, slot=2, uid_base=uid_blocks.uid_base())
ours, theirs = Pipe()
pid = os.fork()
if pid == 0:
    ours.close()
    tester.serve_many(theirs)
    os._exit(0)
theirs.close()
ours.send((cells, "uid", parameters))
while "cell" in (answer := json.loads(ours.recv_bytes())):  # a message per code cell done, then the answer
    pass
print(json.dumps(answer))
ours.close()
os.waitpid(pid, 0)
print(tester.run_cells(cells, "uid", parameters))
"""


@pytest.mark.skipif(not fast_path_available(), reason="the fast path (namespaces made by the grader) needs root")
def test_the_students_code_runs_as_its_slots_uid_then_after_a_crash_as_its_blocks_last_uid(tmp_path):
    """The uids come from the run's own block (uid_blocks.claim_uid_block): never another run's, never nobody.

    In a run, the process that follows a crash is forked by the spawner (no new interpreter to start).
    """
    cells = [{"cell_type": "code", "source": source, "student": True, "test": False, "instructor": False}
             for source in (WHO_AM_I, "import ctypes\nctypes.string_at(0)  # the process dies (SIGSEGV)", WHO_AM_I)]
    # The last block, as a run gets it when the others are taken (the session's own is usually the first).
    block = UID_BLOCKS - 1
    done = subprocess.run([sys.executable, "-c", BOTH_PATHS], input=json.dumps(cells), capture_output=True,
                          text=True, timeout=300, cwd=tmp_path, env={**os.environ, UID_BLOCK_ENV: str(block)})
    assert done.returncode == 0, done.stderr[-3000:]
    in_a_run, alone = (json.loads(line)["outputs"] for line in done.stdout.strip().splitlines()[-2:])
    base = SLOT_UID_BASE + UID_BLOCK_SIZE * block
    fresh = base + UID_BLOCK_SIZE - 1
    assert sandbox_uids(3, base) == {base, base + 1, base + 2, fresh}
    for outputs in (in_a_run, alone):
        assert _printed(outputs[0]) == f"UID {base + 2} {base + 2} PID 1 ag-student\n"
        assert outputs[1] and outputs[1][-1]["output_type"] == "error"
    assert _printed(in_a_run[2]) == f"UID {fresh} {fresh} PID 1 ag-student\n"
    assert _printed(alone[2]) == f"UID {fresh} {fresh} PID 2 bwrap\n"


def _printed(outputs: list[dict]) -> str | None:
    """What a cell printed, when that is all it did."""
    if [o.get("output_type") for o in outputs] == ["stream"] and outputs[0].get("name") == "stdout":
        return outputs[0].get("text")
    return None
