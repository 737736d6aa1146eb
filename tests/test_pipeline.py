"""The instructor's pipeline: Moodle zips, class list, lateness, bad files, resume, PostgreSQL, manual grades."""

from __future__ import annotations

import csv
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook, SubmittedAssignment

from autograder.course import REPO_ROOT
from coursetools.demo import DEMO_ASSIGNMENT, demo_files
from autograder.grading.errors import GradingError
from autograder.grading.pipeline import run
from autograder.model import Status

from .conftest import tree_digest

NOTEBOOK = f"{DEMO_ASSIGNMENT}.ipynb"
FULL_AUTO = 9.0  # ex01: 10 points, of which 1 is graded by hand


@pytest.fixture(scope="module")
def notebooks() -> dict[str, bytes]:
    files = demo_files()
    pick = {path.parts[0]: content.encode("utf-8") for path, content in files.items()}
    return {
        "perfect": pick["demo-parfait"],
        "partial": pick["demo-partiel"],
        "blank": pick["demo-vierge"],
        "truncated": pick["demo-illisible"],
    }


def read_grades(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def write_submission(root: Path, student: str, content: bytes, *, assignment: str = DEMO_ASSIGNMENT,
                     name: str = NOTEBOOK, timestamp: str | None = None) -> Path:
    folder = root / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    if timestamp:
        (folder / "timestamp.txt").write_text(timestamp, encoding="utf-8")
    return folder / name


def course_with_config(tmp_path: Path, extra: str) -> Path:
    """A course root with the course's source/ and a configuration that adds ``extra``."""
    root = tmp_path / "cours"
    root.mkdir()
    shutil.copytree(REPO_ROOT / "source", root / "source")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nload_subconfig({str(REPO_ROOT / 'nbgrader_config.py')!r})\n{extra}\n", encoding="utf-8"
    )
    return root


# --------------------------------------------------------------------------
# Moodle
# --------------------------------------------------------------------------


def moodle_zip(path: Path, entries: list[tuple[str, bytes, tuple[int, ...]]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data, when in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            archive.writestr(info, data)
    return path


@pytest.fixture(scope="module")
def moodle_run(tmp_path_factory, notebooks):
    base = tmp_path_factory.mktemp("moodle")
    folder = "{}_{}_assignsubmission_file_/{}"  # Moodle 3.x (a trailing underscore); dates: the download's
    archive = moodle_zip(base / "tp1.zip", [
        (folder.format("Marie Dupont", 101, NOTEBOOK), notebooks["perfect"], (2026, 11, 20, 10, 0, 0)),
        (folder.format("Paul Martin", 102, NOTEBOOK), notebooks["blank"], (2026, 11, 19, 9, 0, 0)),
        (folder.format("Paul Martin", 102, "ex01_premiers-pas (1).ipynb"), notebooks["perfect"], (2026, 11, 20, 9, 0, 0)),
        (folder.format("Léa Durand", 103, "rapport.pdf"), b"%PDF-1.4 ...", (2026, 11, 20, 9, 0, 0)),
        (folder.format("Jean Petit", 104, "copie.ipynb"), notebooks["partial"], (2026, 11, 20, 9, 0, 0)),
        (folder.format("Ana Roux", 105, NOTEBOOK), notebooks["partial"], (2026, 11, 20, 9, 0, 0)),
    ])
    roster = base / "classe.csv"
    roster.write_text(
        "id,last_name,first_name,email,lms_user_id\n"
        "mdupont,Dupont,Marie,marie.dupont@example.org,\n"
        "pmartin,Martin,Paul,paul.martin@example.org,\n"
        "ldurand,Durand,Léa,,\n"
        "jpetit,Petit,Jean,,\n",
        encoding="utf-8",
    )
    before = tree_digest(base)
    result = run([archive], base / "out", roster=roster, assignment=DEMO_ASSIGNMENT)
    return {"result": result, "base": base, "before": before}


def test_when_a_moodle_zip_is_graded_then_names_are_matched_to_the_class_list(moodle_run):
    outcomes = {o.student_id: o for o in moodle_run["result"].outcomes}
    assert {"mdupont", "pmartin", "ldurand", "jpetit", "ana-roux-105"} == set(outcomes)
    assert outcomes["mdupont"].score == FULL_AUTO and outcomes["mdupont"].status == Status.GRADED
    assert "absent de la liste" in outcomes["ana-roux-105"].message


def test_when_a_student_submitted_several_versions_then_the_latest_is_graded(moodle_run):
    outcome = next(o for o in moodle_run["result"].outcomes if o.student_id == "pmartin")
    assert outcome.score == FULL_AUTO
    assert "la plus récente est corrigée" in outcome.message


def test_when_a_file_is_not_a_notebook_then_it_scores_zero_with_a_french_reason(moodle_run):
    outcome = next(o for o in moodle_run["result"].outcomes if o.student_id == "ldurand")
    assert (outcome.score, outcome.status) == (0.0, Status.REJECTED)
    assert "format non pris en charge" in outcome.message and "rapport.pdf" in outcome.message


def test_when_a_notebook_is_renamed_then_it_scores_zero_with_a_french_reason(moodle_run):
    outcome = next(o for o in moodle_run["result"].outcomes if o.student_id == "jpetit")
    assert (outcome.score, outcome.status) == (0.0, Status.REJECTED)
    assert "sans le renommer" in outcome.message and "copie.ipynb" in outcome.message


def test_when_moodle_submissions_are_graded_then_a_moodle_worksheet_matches_participants(moodle_run):
    """Without the worksheet Moodle exported, a new one: French headers, Moodle's default scale of 100."""
    (path,) = moodle_run["result"].moodle_csvs
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_id = {row["Identifiant"]: row for row in rows}
    assert set(by_id) == {f"Participant{n}" for n in (101, 102, 103, 104, 105)}
    assert by_id["Participant101"]["Note"] == "90.00" and by_id["Participant103"]["Note"] == "0.00"
    assert by_id["Participant101"]["Nom complet"] == "Marie Dupont"
    assert by_id["Participant101"]["Dernière modification (note)"] == "-"  # Moodle's guard stays on
    assert list(rows[0]) == ["Identifiant", "Nom complet", "Note", "Note maximale", "Dernière modification (note)"]


def test_when_moodle_submissions_are_graded_then_grades_csv_has_names_from_the_class_list(moodle_run):
    grades = read_grades(moodle_run["result"].grades_csv)
    assert grades["mdupont"]["last_name"] == "Dupont" and grades["mdupont"]["email"] == "marie.dupont@example.org"
    assert float(grades["pmartin"]["score"]) == FULL_AUTO
    assert float(grades["ldurand"]["score"]) == 0.0


def test_when_a_zip_is_graded_then_it_is_not_modified(moodle_run):
    after = {k: v for k, v in tree_digest(moodle_run["base"]).items() if not k.startswith("out/")}
    assert after == moodle_run["before"]


def test_when_the_run_ends_then_the_class_report_shows_figures_problems_and_manual_work(moodle_run):
    report = moodle_run["result"].report.read_text(encoding="utf-8")
    assert report.count("<img") >= 2
    assert "Distribution des notes" in report and "Réussite par question" in report
    assert "Diagnostics les plus fréquents" in report
    assert "rapport.pdf" in report  # rejected submission and its reason
    assert "À noter à la main" in report and "mdupont" in report


# --------------------------------------------------------------------------
# Bad files in a folder of submissions
# --------------------------------------------------------------------------


def test_when_submissions_are_broken_then_each_gets_a_reason_and_the_batch_goes_on(tmp_path, notebooks):
    root = tmp_path / "rendus"
    write_submission(root, "bon", notebooks["perfect"])
    write_submission(root, "vide", b"")
    write_submission(root, "tronque", notebooks["truncated"])
    write_submission(root, "enorme", notebooks["perfect"] + b" " * 3_000_000)
    write_submission(root, "json", b'{"hello": "world"}')
    write_submission(root, "mauvais-devoir", notebooks["perfect"], assignment="ex99_inconnu")
    others = sorted(a for a in os.listdir(REPO_ROOT / "source") if a != DEMO_ASSIGNMENT)
    if others:  # the notebook of another assignment handed in for ex01
        other = REPO_ROOT / "release" / others[0] / f"{others[0]}.ipynb"
        write_submission(root, "autre-devoir", other.read_bytes())
    before = tree_digest(root)
    result = run(root, tmp_path / "out", max_bytes=2_000_000)
    outcomes = {o.student_id: o for o in result.outcomes}
    assert outcomes["bon"].score == FULL_AUTO
    expected = {
        "vide": "est vide",
        "tronque": "JSON invalide",
        "enorme": "trop volumineux",
        "json": "pas un carnet Jupyter",
        "mauvais-devoir": "devoir inconnu",
    }
    if others:
        expected["autre-devoir"] = f"carnet du devoir « {others[0]} »"
    for student, reason in expected.items():
        outcome = outcomes[student]
        assert (outcome.score, outcome.status) == (0.0, Status.REJECTED), student
        assert reason in outcome.message.replace("\u00a0", " "), (student, outcome.message)
        assert (tmp_path / "out" / "feedback" / student).is_dir(), student
    assert tree_digest(root) == before


# --------------------------------------------------------------------------
# Lateness
# --------------------------------------------------------------------------


def test_when_a_submission_is_after_the_due_date_then_lateness_is_recorded(tmp_path, notebooks):
    course = course_with_config(
        tmp_path, f'c.Grading.due_dates = {{"{DEMO_ASSIGNMENT}": "2026-11-20 12:00:00 Europe/Paris"}}'
    )
    root = tmp_path / "rendus"
    write_submission(root, "a-l-heure", notebooks["perfect"], timestamp="2026-11-20 10:59:00 UTC")
    write_submission(root, "en-retard", notebooks["perfect"], timestamp="2026-11-20 13:00:00 UTC")
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")  # the suite's configuration ignores SQLAlchemy's warnings: not here
        result = run(root, tmp_path / "out", course_root=course)
    # A script calling run() sees no warning (Python hides the deprecation and import ones by default): not even
    # those nbgrader's gradebook gives for each new copy.
    hidden = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
    assert [f"{w.category.__name__}: {w.message}"[:100] for w in warned if not issubclass(w.category, hidden)] == []
    grades = read_grades(result.grades_csv)
    assert float(grades["a-l-heure"]["seconds_late"]) == 0.0
    assert float(grades["en-retard"]["seconds_late"]) == 7200.0  # 14:00 in Paris, due at 12:00
    assert grades["en-retard"]["duedate"].startswith("2026-11-20 11:00:00")
    late = next(o for o in result.outcomes if o.student_id == "en-retard")
    assert "rendu en retard (2 h 00)" in late.message.replace("\u00a0", " ")


# --------------------------------------------------------------------------
# Idempotence, resume
# --------------------------------------------------------------------------


def submission_count(workspace: Path) -> int:
    with Gradebook(f"sqlite:///{workspace / 'gradebook.db'}") as gradebook:
        return gradebook.db.query(SubmittedAssignment).count()


def test_when_a_run_is_repeated_then_grades_are_identical_and_nothing_is_duplicated(tmp_path, notebooks):
    root = tmp_path / "rendus"
    for student, kind in (("a", "perfect"), ("b", "partial"), ("c", "blank")):
        write_submission(root, student, notebooks[kind])
    first = run(root, tmp_path / "out")
    count = submission_count(first.workspace)
    second = run(root, tmp_path / "out")
    assert read_grades(second.grades_csv) == read_grades(first.grades_csv)
    assert submission_count(second.workspace) == count == 3
    assert all(o.reused for o in second.outcomes)
    forced = run(root, tmp_path / "out", force=True)
    assert not any(o.reused for o in forced.outcomes)
    assert read_grades(forced.grades_csv) == read_grades(first.grades_csv)


def test_when_a_run_is_interrupted_then_the_next_run_resumes(tmp_path, notebooks, monkeypatch):
    from autograder.grading.record import Recorder

    root = tmp_path / "rendus"
    for student, kind in (("a", "perfect"), ("b", "partial"), ("c", "blank")):
        write_submission(root, student, notebooks[kind])
    original, calls = Recorder.record, []

    def stop_at_second(recorder, student, *args, **kwargs):
        calls.append(student)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the instructor presses Ctrl+C while nbgrader records the grades
        return original(recorder, student, *args, **kwargs)

    monkeypatch.setattr(Recorder, "record", stop_at_second)
    with pytest.raises(KeyboardInterrupt):
        run(root, tmp_path / "out")
    monkeypatch.setattr(Recorder, "record", original)
    resumed = run(root, tmp_path / "out")
    reused = {o.student_id for o in resumed.outcomes if o.reused}
    assert reused == {calls[0]}  # the one recorded before the interruption (in order of completion)
    scores = {o.student_id: o.score for o in resumed.outcomes}
    assert scores == {"a": FULL_AUTO, "b": 4.0, "c": 0.0}


def test_when_a_submission_is_replaced_by_a_broken_file_then_its_old_grade_is_dropped(tmp_path, notebooks):
    root = tmp_path / "rendus"
    path = write_submission(root, "a", notebooks["perfect"])
    run(root, tmp_path / "out")
    path.write_bytes(notebooks["truncated"])
    again = run(root, tmp_path / "out")
    assert read_grades(again.grades_csv)["a"]["score"] == "0.0"


# --------------------------------------------------------------------------
# Manual grading
# --------------------------------------------------------------------------


def test_when_a_manual_grade_is_given_then_the_exports_include_it(tmp_path, notebooks):
    root = tmp_path / "rendus"
    write_submission(root, "a", notebooks["perfect"])
    first = run(root, tmp_path / "out")
    assert read_grades(first.grades_csv)["a"]["needs_manual_grade"] == "True"
    # What formgrader's API does (apihandlers.GradeHandler) when the instructor gives the written answer its point.
    with Gradebook(f"sqlite:///{first.workspace / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("explication", NOTEBOOK.removesuffix(".ipynb"), DEMO_ASSIGNMENT, "a")
        grade.manual_score = 1.0
        grade.needs_manual_grade = False
        gradebook.db.commit()
    again = run(root, tmp_path / "out")
    row = read_grades(again.grades_csv)["a"]
    assert float(row["score"]) == 10.0 and row["needs_manual_grade"] == "False"


def test_when_the_output_folder_is_graded_then_plain_nbgrader_formgrader_api_sees_it(tmp_path, notebooks):
    root = tmp_path / "rendus"
    write_submission(root, "a", notebooks["partial"])
    result = run(root, tmp_path / "out")
    code = (
        "from nbgrader.apps import NbGraderAPI\n"
        "from traitlets.config.loader import PyFileConfigLoader\n"
        f"config = PyFileConfigLoader('nbgrader_config.py', path={str(result.workspace)!r}).load_config()\n"
        "api = NbGraderAPI(config=config)\n"
        f"submission = api.get_submission({DEMO_ASSIGNMENT!r}, 'a')\n"
        "print(submission['student'], submission['score'], submission['needs_manual_grade'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=result.workspace, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["a", "4.0", "True"]


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


def _as_postgres(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    """A real PostgreSQL server (Debian's package, installed by `make test`), on a Unix socket."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not binaries:
        pytest.fail("PostgreSQL est absent : lancez « make test », qui installe le paquet postgresql.")
    bindir = Path(binaries[-1]).parent
    # Not under pytest's temporary folder: it is private to this user, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="gradebook-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
        os.chmod(base, 0o755)
    _as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
    _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"),
                  "-o", f"-k {sockets} -c listen_addresses='' -p 54329", "start"])
    try:
        _as_postgres([str(bindir / "createdb"), "-h", str(sockets), "-p", "54329", "-U", "postgres", "gradebook"])
        yield f"postgresql://postgres@/gradebook?host={sockets}&port=54329"
    finally:
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-m", "immediate", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def test_when_the_gradebook_is_postgresql_then_grading_and_exports_work(tmp_path, notebooks, postgres_url):
    root = tmp_path / "rendus"
    write_submission(root, "a", notebooks["perfect"])
    write_submission(root, "b", notebooks["partial"])
    result = run(root, tmp_path / "out", db_url=postgres_url)
    assert not (tmp_path / "out" / "gradebook.db").exists()
    grades = read_grades(result.grades_csv)
    assert float(grades["a"]["score"]) == FULL_AUTO and float(grades["b"]["score"]) == 4.0
    with Gradebook(postgres_url) as gradebook:
        assert {s.student.id for s in gradebook.db.query(SubmittedAssignment)} == {"a", "b"}
    again = run(root, tmp_path / "out", db_url=postgres_url)
    assert read_grades(again.grades_csv) == grades


def test_when_an_assignment_changes_after_grading_into_postgresql_then_the_run_refuses(
    tmp_path, notebooks, postgres_url
):
    from autograder.grading.errors import GradingError

    root = tmp_path / "rendus"
    write_submission(root, "a", notebooks["perfect"])
    course = course_with_config(tmp_path, "")
    run(root, tmp_path / "out", db_url=postgres_url, course_root=course, report=False)
    path = course / "source" / DEMO_ASSIGNMENT / NOTEBOOK
    path.write_text(path.read_text(encoding="utf-8").replace('"points": 2', '"points": 3', 1), encoding="utf-8")
    with pytest.raises(GradingError, match="a changé depuis la correction"):
        run(root, tmp_path / "out", db_url=postgres_url, course_root=course, report=False)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def test_when_help_is_asked_then_every_option_is_explained_in_french():
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "--help"], capture_output=True, text=True, check=True)
    for text in ("Moodle", "liste de la classe", "carnet de notes", "recorrige"):
        assert text in done.stdout, text


def test_when_the_class_list_is_missing_then_the_cli_says_so_in_french(tmp_path, notebooks):
    root = tmp_path / "rendus"
    write_submission(root, "a", notebooks["perfect"])
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--submissions", str(root), "--out", str(tmp_path / "o"),
         "--roster", str(tmp_path / "absente.csv")],
        capture_output=True, text=True,
    )
    assert done.returncode == 2 and "liste de la classe" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("option, message", [("roster", "La liste de la classe"),
                                             ("moodle_worksheets", "La feuille d'évaluation")])
def test_when_a_class_file_is_missing_then_the_run_is_refused_before_the_sandboxes_start(
        tmp_path, notebooks, monkeypatch, option, message):
    from autograder.grading import pipeline

    root = tmp_path / "rendus"
    write_submission(root, "a", notebooks["perfect"])
    monkeypatch.setattr(pipeline, "open_backend", lambda options: pytest.fail("le serveur préchauffé a démarré"))
    missing = tmp_path / "absente.csv"
    with pytest.raises(GradingError, match=message):
        run(root, tmp_path / "o", **{option: missing if option == "roster" else [missing]})


#: Every test here grades end to end in the sandbox (select with -m e2e, or -m sandbox).
def test_when_no_submission_is_found_then_the_run_is_refused_with_the_expected_layout(tmp_path, notebooks):
    root = tmp_path / "rendus"
    root.mkdir()
    (root / NOTEBOOK).write_bytes(notebooks["perfect"])  # nobody's: at the top of the folder
    (root / "lisez-moi.txt").write_text("rendus du groupe B", encoding="utf-8")
    with pytest.raises(GradingError) as refused:
        run(root, tmp_path / "out")
    message = str(refused.value).replace("\u00a0", " ")
    assert message.startswith(f"Aucun rendu trouvé dans « {root} »")
    assert f"« {NOTEBOOK} » ignoré" in message and "ada/ex01_premiers-pas.ipynb" in message
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_when_a_script_calls_run_without_the_main_guard_then_the_message_says_how_to_fix_it(tmp_path, notebooks):
    # multiprocessing imports the main script again in each process it starts: a run() at the top of a
    # script would start a grading in every helper. The helpers stop with the idiom to use, in French.
    submissions = tmp_path / "rendus" / "ada"
    submissions.mkdir(parents=True)
    (submissions / NOTEBOOK).write_bytes(notebooks["perfect"])
    script = tmp_path / "corriger.py"
    script.write_text(
        "from pathlib import Path\n"
        "from autograder.grading.pipeline import run\n"
        f"run(Path({str(tmp_path / 'rendus')!r}), Path({str(tmp_path / 'out')!r}), report=False)\n",
        encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "placez l'appel sous la condition if __name__ == \"__main__\" (règle" in done.stderr, done.stderr[-3000:]


pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
