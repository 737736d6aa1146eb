"""Benchmark: stock `nbgrader autograde` against the course's sandboxed pipeline, in the same run.

    .venv/bin/python benchmarks/bench_grading.py --n 200                 (or: make bench N=200)
    .venv/bin/python benchmarks/bench_grading.py --n 60 --classe reelle  (or: make bench N=60 CLASSE=reelle)

Two kinds of class of ex01:

- ``melange`` (the default): correct, partly wrong, slow, broken, a quarter of each (blank and
  broken copies are cheap to grade);
- ``reelle``: what a real class hands in: every copy complete, a fifth correct, each of the
  others with a different combination of typical wrong answers (tests/mutants/ex01.py).

It grades them with stock nbgrader (serial, one kernel per submission, no sandbox) and with
the course's pipeline (sandbox on, the whole command: start-up and class report included),
checks that both give the same scores, and prints the ratio, copies per second, the CPU per
copy (the whole machine's busy time during the command, and what per-process accounting sees)
against the floor (CPU time of only executing the cells in an already-warm process), the share of each stage of the run, the peak memory of each kind of process and
the memory of the main process along the run. It also measures the least a copy's own process costs
(a fork of a process that imported TensorFlow, TensorFlow's runtime started, one gradient): each
copy runs in a new process, and a process whose TensorFlow runtime started cannot be forked. ``--scheduler N`` runs the copies on a local
Dask cluster of N worker processes instead.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.course import prepare_environment  # noqa: E402
from coursetools.demo import DEMO_ASSIGNMENT, demo_files  # noqa: E402

NOTEBOOK = f"{DEMO_ASSIGNMENT}.ipynb"
SLOW = '''
import time
time.sleep(0.5)  # a student's slow cell
'''


#: Answers of a broken copy: a syntax error, then a function that fails when called.
BROKEN = {
    "gradient_affine": "def gradient_affine(a, b, x)\n    return a\n",
    "carre_et_derivee": "def carre_et_derivee(x):\n    return x ** 2, derivee_pas_definie(x)\n",
}


def _with_answers(notebook: dict, answers: dict[str, str]) -> dict:
    notebook = json.loads(json.dumps(notebook))
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cell["source"] = answers[grade_id](source) if callable(answers[grade_id]) else answers[grade_id]
    return notebook


def make_submissions(root: Path, n: int) -> dict[str, str]:
    """N submissions, a quarter of each kind; returns student -> kind.

    correct; partly wrong (the demo's partial copy); slow (a 0.5 s sleep in an answer cell);
    broken: every other one has code that fails (a syntax error, a name error), the others
    were handed in untouched.
    """
    files = {p.parts[0]: c for p, c in demo_files().items()}
    perfect = json.loads(files["demo-parfait"])
    kinds = {}
    for index in range(n):
        kind = ("correct", "partiel", "lent", "casse")[index % 4]
        student = f"etudiant-{index:04d}"
        if kind == "correct":
            notebook = perfect
        elif kind == "partiel":
            notebook = json.loads(files["demo-partiel"])
        elif kind == "lent":
            notebook = _with_answers(perfect, {"gradient_affine": lambda source: SLOW + source})
        elif index % 8 == 3:
            notebook = _with_answers(perfect, BROKEN)
        else:
            notebook = json.loads(files["demo-vierge"])
        folder = root / student / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(json.dumps(notebook), encoding="utf-8")
        kinds[student] = kind
    return kinds


def _mutant_combinations() -> list[dict]:
    """Combinations of typical wrong answers of ex01, one mistake first, then two, three, four."""
    import itertools

    sys.path.insert(0, str(REPO))
    from tests.mutants.ex01 import MUTANTS  # noqa: E402

    by_answer: dict[str, list] = {}
    for mutant in MUTANTS:
        by_answer.setdefault(mutant.answer, []).append(mutant)
    answers = sorted(by_answer)
    combinations = [
        {answer: mutant for answer, mutant in zip(answers, choice) if mutant is not None}
        for choice in itertools.product(*[[None] + by_answer[a] for a in answers])
    ]
    combinations = [c for c in combinations if c]
    combinations.sort(key=len)
    return combinations


def make_real_class(root: Path, n: int) -> dict[str, str]:
    """N complete copies: a fifth correct, each of the others with a different set of typical mistakes."""
    files = {p.parts[0]: c for p, c in demo_files().items()}
    perfect = json.loads(files["demo-parfait"])
    combinations = _mutant_combinations()
    kinds, wrong = {}, 0
    for index in range(n):
        student = f"etudiant-{index:04d}"
        if index % 5 == 0:
            notebook, kind = perfect, "correct"
        else:
            mistakes = combinations[wrong % len(combinations)]
            wrong += 1
            notebook = _with_answers(perfect, {answer: m.apply for answer, m in mistakes.items()})
            kind = " + ".join(m.name for m in mistakes.values())
        folder = root / student / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(json.dumps(notebook), encoding="utf-8")
        kinds[student] = kind
    return kinds


def stock(submissions: Path, work: Path) -> tuple[float, dict[str, float]]:
    """Plain nbgrader: generate_assignment, then autograde every submission (serially, as nbgrader does)."""
    root = work / "stock"
    root.mkdir()
    shutil.copytree(REPO / "source", root / "source")
    shutil.copytree(submissions, root / "submitted")
    (root / "nbgrader_config.py").write_text(f"load_subconfig({str(REPO / 'nbgrader_config.py')!r})\n")
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    subprocess.run([nbgrader, "generate_assignment", DEMO_ASSIGNMENT, "--force"], cwd=root, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([nbgrader, "autograde", DEMO_ASSIGNMENT], cwd=root, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    subprocess.run([nbgrader, "export", "--to=grades.csv"], cwd=root, check=True, capture_output=True)
    with (root / "grades.csv").open() as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    return elapsed, scores


OURS = """
import time
t0 = time.perf_counter()
import json, sys, threading
sys.path.insert(0, {repo!r})
import psutil
from pathlib import Path
from autograder.grading.pipeline import run
try:  # the command's own end (python -m autograder): its exit handlers, then no interpreter teardown
    from autograder.cli import QuickExit
    quick = QuickExit()
except ImportError:  # an older copy of the code (--code)
    quick = None

me = psutil.Process()
peaks = {{"principal": 0, "serveur": 0, "test": 0, "etudiant": 0, "retours": 0}}
cpu_children = {{}}  # pid -> CPU seconds of a child of the main process (and of the children it waited for)
trace = []  # (copies done, RSS of the main process in MB)
done = [0]
stop = threading.Event()

def sample():
    while not stop.wait(0.2):
        try:
            peaks["principal"] = max(peaks["principal"], me.memory_info().rss)
            for child in me.children(recursive=True):
                try:
                    # Forked processes keep the server's command line: tell them apart by their depth below it.
                    chain, current = [], child
                    while current is not None and current.pid != me.pid:
                        chain.append(current)
                        current = current.parent()
                    top = chain[-1] if chain else child
                    if "forkserver" not in " ".join(top.cmdline()):
                        role = "retours"  # feedback pages (and nbgrader's helpers)
                    elif len(chain) == 1:
                        role = "serveur"  # the warm server the test processes are forked from
                    elif len(chain) == 2:
                        role = "test"
                    else:
                        role = "etudiant"  # the sandboxed student's process
                    peaks[role] = max(peaks[role], child.memory_info().rss)
                    if child.ppid() == me.pid:
                        t = child.cpu_times()
                        cpu_children[child.pid] = t.user + t.system + t.children_user + t.children_system
                except psutil.Error:
                    pass
        except psutil.Error:
            pass

def progress(student, assignment):
    done[0] += 1
    if done[0] % max(1, {n} // 10) == 0:
        trace.append((done[0], me.memory_info().rss / 2**20))

threading.Thread(target=sample, daemon=True).start()
started = time.perf_counter()
extra = {{"scheduler": {scheduler!r}}} if {scheduler!r} else {{}}
result = run(Path({submissions!r}), Path({out!r}), workers={workers}, on_progress=progress, **extra)
seconds = time.perf_counter() - started
stop.set()
for child in me.children():  # the warm server is never waited for: count it while it lives
    try:
        t = child.cpu_times()
        cpu_children[child.pid] = t.user + t.system + t.children_user + t.children_system
    except psutil.Error:
        pass
t = me.cpu_times()
alive = {{c.pid for c in me.children()}}  # the others were waited for: counted in children_user/system
cpu = t.user + t.system + t.children_user + t.children_system + sum(v for pid, v in cpu_children.items() if pid in alive)
print(json.dumps({{"seconds": seconds, "scores": {{o.student_id: o.score for o in result.outcomes}},
                  "peaks": {{k: v / 2**20 for k, v in peaks.items()}}, "trace": trace, "cpu": cpu,
                  "stages": getattr(result, "stages", {{}}), "process_seconds": time.perf_counter() - t0}}))
if quick is not None:
    quick.status = 0
"""


def machine_cpu() -> float | None:
    """CPU seconds the whole machine has been busy since it started (every core, every process, the kernel)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait (guest time is already in user)
    return busy / os.sysconf("SC_CLK_TCK")


def ours(submissions: Path, work: Path, n: int, workers: int | None, scheduler: str | None = None,
         name: str = "ours", code: Path = REPO) -> dict:
    """The course's pipeline, sandbox on, as ``python -m autograder grade`` runs it (collect, autograde,
    feedback, exports, class report), with memory samples.

    ``seconds`` is the whole command as a user runs it: the interpreter's start and imports included,
    up to the end of every process holding its output. ``machine_cpu`` is the CPU the whole machine
    spent meanwhile: it also counts what per-process accounting misses (processes ended without being
    waited for, the kernel's own work), and whatever else runs on the machine.
    """
    script = OURS.format(repo=str(code), submissions=str(submissions), out=str(work / name), n=n, workers=workers,
                         scheduler=scheduler)
    busy = machine_cpu()
    started = time.perf_counter()
    # Run from the work folder: the warm server is a ``python -c`` process, whose sys.path starts with its
    # working folder, before PYTHONPATH; from the repository it would import this copy's package, not ``code``'s.
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=work,
                          env={**os.environ, "PYTHONPATH": str(code)})
    ended = machine_cpu()
    if done.returncode != 0:
        raise SystemExit(f"La correction mesurée a échoué (code {done.returncode}) :\n{done.stderr[-3000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    measured["command_seconds"] = time.perf_counter() - started
    measured["machine_cpu"] = ended - busy if busy is not None and ended is not None else None
    return measured


def local_cluster(workers: int):
    """A local Dask cluster of ``workers`` processes (non-daemonic: the sandboxes are their children)."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.daemon": False}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")


def tree_cpu() -> float:
    """CPU seconds of this process's descendants (the Dask workers and their sandboxes), alive or waited for.

    Each live process counts its own time and that of the children it waited for (a child that ended is
    counted once, in its parent).
    """
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return total


STAGES = ("collect", "prepare", "execute", "record", "feedback", "export", "report")
STAGE_NAMES = {"collect": "collecte", "prepare": "préparation", "execute": "exécution", "record": "enregistrement",
               "feedback": "retours", "export": "exports", "report": "rapport"}


def describe(measured: dict, n: int, floor_per_copy: float | None) -> str:
    seconds = measured["command_seconds"]
    stages = measured["stages"]
    total = sum(stages.values()) or 1.0
    tracked = measured.get("cpu", 0.0) / n
    machine = measured.get("machine_cpu")
    cpu = machine / n if machine is not None else tracked
    line = f"{seconds:8.1f} s  {n / seconds:6.2f} rendus/s  CPU {cpu * 1000:.0f} ms/rendu"
    if machine is not None:
        line += f" (toute la machine\u00a0; processus suivis\u00a0: {tracked * 1000:.0f} ms)"
    else:
        line += " (processus suivis)"
    if floor_per_copy:
        line += f", {cpu / floor_per_copy:.1f} × le plancher"
    # Before the run: the interpreter's start and the imports; after it: the end of the process (its
    # helper processes stopped, its threads joined).
    start = measured["process_seconds"] - measured["seconds"]
    end = seconds - measured["process_seconds"]
    times = f"\n    démarrage de l'interpréteur {start:.1f} s, arrêt {end:.1f} s"
    if not stages:
        return line + times
    shares = ", ".join(f"{STAGE_NAMES[k]} {stages.get(k, 0.0) / total:.0%}" for k in STAGES)
    return line + times + f" ; étapes : {shares}"


def floor(submissions: Path) -> float:
    """CPU seconds to only execute every submission's cells in one warm process (no isolation, no nbgrader)."""
    sys.path.insert(0, str(REPO))
    from tests.nbrun import run_assignment  # noqa: E402
    import nbformat

    source = REPO / "source" / DEMO_ASSIGNMENT / NOTEBOOK
    run_assignment(source, "echauffement")  # warm: TensorFlow imported, first graph traced
    started = time.process_time()
    for folder in sorted(submissions.iterdir()):
        notebook = nbformat.read(folder / DEMO_ASSIGNMENT / NOTEBOOK, as_version=4)
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells
                   if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
        try:
            run_assignment(source, folder.name, answers)
        except Exception:  # noqa: BLE001 - a broken submission still costs its time
            pass
    return time.process_time() - started


def fresh_process_floor(samples: int = 20) -> float:
    """CPU seconds of the least a copy's own process costs: a fork of a process that imported TensorFlow,
    TensorFlow's runtime started in it, one gradient taken (what isolating each copy costs at minimum).

    Called before anything starts TensorFlow's runtime in this process (``floor`` does): a process whose
    runtime started can no longer fork a working child.
    """
    import resource

    import tensorflow as tf

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(samples):
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                x = tf.Variable(2.0)
                with tf.GradientTape() as tape:
                    y = x * x + 3.0 * x
                status = 0 if float(tape.gradient(y, x)) == 7.0 else 1
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
        if status:
            raise RuntimeError("le processus neuf n'a pas calculé le gradient attendu")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="nombre de rendus (défaut : 200)")
    parser.add_argument("--sans-stock", action="store_true", help="ne mesure pas nbgrader ordinaire")
    parser.add_argument("--workers", type=int, help="copies exécutées en même temps (défaut : le nombre de cœurs)")
    parser.add_argument("--classe", choices=("melange", "reelle"), default="melange",
                        help="melange : correct, partiel, lent, cassé ; reelle : copies complètes, erreurs typiques variées")
    parser.add_argument("--code", type=Path, metavar="DOSSIER",
                        help="mesure aussi le pipeline d'une autre copie du dépôt, dans la même exécution (avant/après)")
    parser.add_argument("--scheduler", type=int, nargs="*", metavar="N",
                        help="mesure aussi la correction sur une grappe Dask locale de N processus (ex. : 1 2 4)")
    args = parser.parse_args()
    prepare_environment()
    work = Path(tempfile.mkdtemp(prefix="bench-correction-"))
    try:
        submissions = work / "rendus"
        if args.classe == "reelle":
            kinds = make_real_class(submissions, args.n)
            described = "classe réelle : copies complètes, un cinquième justes, les autres avec des erreurs typiques différentes"
        else:
            kinds = make_submissions(submissions, args.n)
            described = "correct, partiel, lent, cassé : un quart chacun"
        load = os.getloadavg()
        print(f"Machine : {os.cpu_count()} cœurs, charge moyenne {load[0]:.2f} ; {args.n} rendus de {DEMO_ASSIGNMENT} "
              f"({described})", flush=True)
        fresh = fresh_process_floor()  # before floor(), which starts TensorFlow's runtime in this process
        floor_seconds = floor(submissions)
        floor_per_copy = floor_seconds / args.n
        print(f"plancher (exécuter seulement les cellules, processus chaud) : {floor_seconds:.1f} s de CPU, "
              f"{floor_per_copy * 1000:.0f} ms/rendu", flush=True)
        cores = os.cpu_count() or 1
        print(f"processus neuf par copie (fork d'un processus qui a importé TensorFlow, démarrage de TensorFlow, "
              f"un gradient) : {fresh * 1000:.0f} ms de CPU, à lui seul au plus {cores / fresh:.0f} rendus/s "
              f"sur {cores} cœurs", flush=True)
        measured = ours(submissions, work, args.n, args.workers)
        our_seconds, our_scores = measured["command_seconds"], measured["scores"]
        print("pipeline du cours (bac à sable, commande entière) : " + describe(measured, args.n, floor_per_copy), flush=True)
        if args.code:
            other = ours(submissions, work, args.n, args.workers, name="autre", code=args.code.resolve())
            differ = sorted(s for s in kinds if other["scores"].get(s) != our_scores.get(s))
            print(f"pipeline de {args.code} : " + describe(other, args.n, floor_per_copy)
                  + f"\n    rapport : {other['command_seconds'] / our_seconds:.2f}×"
                  + ("" if not differ else f" ; NOTES DIFFÉRENTES ({len(differ)})"), flush=True)
        for workers in args.scheduler or []:
            cluster = local_cluster(workers)
            try:
                before = tree_cpu()
                remote = ours(submissions, work, args.n, args.workers, cluster.scheduler_address, f"dask-{workers}")
                remote["cpu"] = remote["cpu"] + tree_cpu() - before
            finally:
                cluster.close()
            differ = sorted(s for s in kinds if remote["scores"].get(s) != our_scores.get(s))
            print(f"grappe Dask locale, {workers} processus : " + describe(remote, args.n, floor_per_copy)
                  + ("" if not differ else f"\n    NOTES DIFFÉRENTES ({len(differ)})"), flush=True)
        if not args.sans_stock:
            stock_seconds, stock_scores = stock(submissions, work)
            print(f"nbgrader autograde ordinaire : {stock_seconds:8.1f} s  {args.n / stock_seconds:6.2f} rendus/s", flush=True)
            differ = sorted(s for s in kinds if stock_scores.get(s) != our_scores.get(s))
            print(f"rapport au nbgrader ordinaire (même exécution) : {stock_seconds / our_seconds:.1f}×")
            print("notes identiques : " + ("oui" if not differ else f"NON ({len(differ)} différences : {differ[:5]})"))
        print(f"charge moyenne à la fin : {os.getloadavg()[0]:.2f}")
        peaks = measured["peaks"]
        print(f"mémoire maximale (RSS) : processus principal {peaks['principal']:.0f} Mo, "
              f"serveur préchauffé {peaks['serveur']:.0f} Mo, processus de test {peaks['test']:.0f} Mo, "
              f"processus de l'étudiant·e {peaks['etudiant']:.0f} Mo, génération des retours {peaks['retours']:.0f} Mo")
        print("mémoire du processus principal au fil de la correction : "
              + ", ".join(f"{count} rendu{'s' if count > 1 else ''} : {rss:.0f} Mo" for count, rss in measured["trace"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
