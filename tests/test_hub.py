"""A class on the course's JupyterHub, from login to feedback, driven in Debian's Chromium.

One scenario on one hub (hub/jupyterhub_config.py, as `make hub` starts it): an instructor and two
students, each a Unix account created for the test (prefix tfgt-, removed at the end), each
JupyterLab running as its user. The instructor releases ex01 through nbgrader's exchange; both
students log in, fetch it, answer (one right, one wrong), validate and submit; the instructor
collects, grades the class with the course's grading command and releases the feedback; each
student fetches the feedback and reads the French page. File permissions are then tried for
real, as each student's Unix user. Screenshots go to test-artifacts/ (and small copies to docs/
with UPDATE_DOCS=1). Runs as root only (it creates Unix accounts).
"""

from __future__ import annotations

import csv
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from coursetools import hub as course_hub
from autograder.course import REPO_ROOT
from tests.test_lab import (
    CHROMIUM, CHROMIUM_ARGS, EXERCISE, EXPLANATION, SLOW, TEST_CELLS, cell_index, expect_instructor_tools,
    expect_student_tools_only, expect_validation_failure, expect_validation_success, free_port, output_of,
    run_all, screenshot, small_png, solutions, stop, type_into_cell, validate, wait_until_idle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.hub,
    pytest.mark.skipif(os.geteuid() != 0, reason="crée des comptes Unix : à lancer en root (comme la CI)"),
]

COURSE_ID = "tf-gradienttape"
DOCS = REPO_ROOT / "docs"


@dataclass
class Hub:
    url: str
    classroom: course_hub.Classroom
    passwords: dict[str, str]
    exchange: Path
    course: Path
    python: str
    env: dict[str, str]
    log: Path
    #: What each student did: which answer, and their notebook's path in their home.
    wrong: str = ""
    right: str = ""
    pages: dict[str, Page] = field(default_factory=dict)


def public_python(probe_user: str, public: Path) -> str:
    """A Python of the course's environment that every account can run.

    The hub runs each user's server and kernels as that user: the course's Python must be
    readable by all. When the virtual environment's interpreter is not (a Python built in
    root's home, for instance), the same packages are used through the system's interpreter
    of the same version (/usr/bin/python3.X), in a virtual environment that points to the
    course's site-packages.
    """
    probe = subprocess.run(["runuser", "-u", probe_user, "--", sys.executable, "-c", "import jupyterhub"],
                           capture_output=True)
    if probe.returncode == 0:
        return sys.executable
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not system.exists():
        pytest.fail(f"{sys.executable} n'est pas lisible par les autres comptes et {system} n'existe pas")
    import sysconfig

    view = public / "python"
    (view / "bin").mkdir(parents=True)
    (view / "bin" / "python").symlink_to(system)
    (view / "pyvenv.cfg").write_text(f"home = {system.parent}\ninclude-system-site-packages = false\n")
    lib = view / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    lib.mkdir(parents=True)
    (lib / "site-packages").symlink_to(sysconfig.get_paths()["purelib"])
    # Jupyter's data and configuration of the environment (extensions, JupyterLab's settings).
    for name in ("share", "etc"):
        (view / name).symlink_to(Path(sys.prefix) / name)
    # nbgrader runs the `alembic` command when it creates a gradebook.
    alembic = view / "bin" / "alembic"
    alembic.write_text(f"#!{view / 'bin' / 'python'}\nimport sys\nfrom alembic.config import main\nsys.exit(main())\n")
    alembic.chmod(0o755)
    return str(view / "bin" / "python")


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=10)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterHub n'a pas démarré :\n" + log.read_text()[-4000:])
            time.sleep(0.5)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory):
    prefix = f"tfgt-{secrets.token_hex(2)}-"
    classroom = course_hub.Classroom.demo(prefix, students=2)
    passwords = {user: secrets.token_urlsafe(12) for user in classroom.accounts}
    # Public to all accounts: the exchange and, when needed, the Python of the course.
    public = Path(tempfile.mkdtemp(prefix="tfgt-hub-"))
    public.chmod(0o755)
    state = tmp_path_factory.mktemp("hub-state")
    exchange = public / "exchange"
    server = None
    try:
        for user, password in passwords.items():
            course_hub.create_account(user, password)
        python = public_python(classroom.students[0], public)
        course_hub.prepare_exchange(exchange)
        course = course_hub.home_of(classroom.instructor) / course_hub.COURSE_FOLDER
        course_hub.install_course(classroom.instructor, course)
        env = course_hub.course_environment(exchange, course, python)
        course_hub.run_as(classroom.instructor, [python, "-m", "nbgrader", "release_assignment", EXERCISE], course, env)

        port = free_port()
        log = state / "jupyterhub.log"
        hub_env = {
            **env,
            "TF_COURSE_INSTRUCTORS": classroom.instructor,
            "TF_COURSE_STUDENTS": " ".join(classroom.students),
            "TF_COURSE_HUB_DIR": str(state),
            "TF_COURSE_PYTHON": python,
        }
        command = [
            sys.executable, "-m", "jupyterhub", "-f", str(REPO_ROOT / "hub" / "jupyterhub_config.py"),
            f"--JupyterHub.bind_url=http://127.0.0.1:{port}",
            f"--JupyterHub.hub_bind_url=http://127.0.0.1:{free_port()}",
            f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}",
            # At the end the hub leaves at once: the accounts' servers are killed below with the rest of their processes.
            "--JupyterHub.cleanup_servers=False",
        ]
        if not Path(REPO_ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy").exists():
            pytest.fail("configurable-http-proxy manque : lancez `make hub-proxy` (ou `make test`)")
        with log.open("w") as out:
            server = subprocess.Popen(command, cwd=state, env=hub_env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        wait_for(url + "/hub/login", server, log)
        yield Hub(url, classroom, passwords, exchange, course, python, env, log)
    finally:
        if server is not None:
            stop(server, grace=0)
        # Whatever the test's accounts still run (their servers, kernels), then the accounts.
        users = set(passwords)
        for process in psutil.process_iter(["username"]):
            if process.info["username"] in users:
                try:
                    process.kill()
                except psutil.NoSuchProcess:
                    pass
        time.sleep(1)
        for user in passwords:
            course_hub.remove_account(user)
        shutil.rmtree(public, ignore_errors=True)


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def log_in(hub: Hub, chromium, user: str, shot: str | None = None) -> Page:
    """A browser of its own for ``user``: the hub's login page, then the user's JupyterLab."""
    if user in hub.pages:
        return hub.pages[user]
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    page.goto(hub.url + "/hub/login")
    expect(page.locator("h1")).to_contain_text("Dérivation automatique avec tf.GradientTape")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub.passwords[user])
    if shot:
        keep(screenshot(page, shot), shot)
    page.locator("#login_submit").click()
    expect(page).to_have_url(re.compile(f"/user/{re.escape(user)}/lab"), timeout=SLOW)
    expect(page.locator(".lm-MenuBar-item", has_text="Nbgrader")).to_be_visible(timeout=SLOW)
    hub.pages[user] = page
    return page


def keep(path: Path, name: str) -> None:
    """With UPDATE_DOCS=1, a small copy of a screenshot goes to docs/ (README pictures)."""
    if os.environ.get("UPDATE_DOCS"):
        shutil.copy(small_png(path), DOCS / f"{name}.png")


def assignment_list(page: Page):
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    page.locator(".lm-Menu-item", has_text="Assignment List").click()
    panel = page.locator("#nbgrader-assignment-list")
    expect(panel).to_be_visible(timeout=SLOW)
    return panel


def fetch_and_open(page: Page, shot: str | None = None) -> None:
    panel = assignment_list(page)
    released = panel.locator("#released_assignments_list .list_item", has_text=EXERCISE)
    expect(released).to_have_count(1, timeout=SLOW)
    if shot:
        keep(screenshot(page, shot), shot)
    released.get_by_role("button", name="Fetch").click()
    fetched = panel.locator("#fetched_assignments_list").get_by_role("button", name=EXERCISE)
    expect(fetched).to_be_visible(timeout=SLOW)
    fetched.click()
    panel.locator("#fetched_assignments_list .nested_list_item a", has_text=EXERCISE).click()
    expect(page).to_have_url(re.compile(f"/lab/tree/{EXERCISE}/{EXERCISE}.ipynb"), timeout=SLOW)
    wait_until_idle(page)


def answer(page: Page, wrong: bool) -> None:
    cells = cell_index(EXERCISE)
    answers = solutions(EXERCISE)
    if wrong:
        answers["gradient_affine"] = answers["gradient_affine"].replace("tf.Variable(x,", "tf.constant(x,")
    for grade_id, text in answers.items():
        type_into_cell(page, cells[grade_id], EXPLANATION if grade_id == "explication" else text)
    run_all(page)


def submit(page: Page) -> None:
    panel = assignment_list(page)
    fetched = panel.locator("#fetched_assignments_list .list_item", has_text=EXERCISE).first
    fetched.get_by_role("button", name="Submit").click()
    expect(panel.locator("#submitted_assignments_list .list_item", has_text=EXERCISE).first).to_be_visible(timeout=SLOW)


def as_user(user: str, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user, "--", "env", "LC_ALL=C", *command], capture_output=True, text=True)


def expect_denied(user: str, *command: str) -> None:
    result = as_user(user, *command)
    assert result.returncode != 0 and "Permission denied" in result.stderr, (user, command, result)


# --------------------------------------------------------------------------
# The scenario, in order
# --------------------------------------------------------------------------


def test_when_two_students_fetch_answer_validate_and_submit_then_the_exchange_has_both(hub: Hub, chromium):
    wrong_student, right_student = hub.classroom.students
    for student, wrong in ((right_student, False), (wrong_student, True)):
        first = student == right_student
        page = log_in(hub, chromium, student, shot="hub-connexion" if first else None)
        fetch_and_open(page, shot="hub-liste-des-devoirs" if first else None)
        expect_student_tools_only(page)
        answer(page, wrong)
        cells = cell_index(EXERCISE)
        if wrong:
            expect(output_of(page, cells["test_gradient_affine"])).to_contain_text("✘ Question 1 (gradient_affine)")
            dialog = validate(page)
            failed = expect_validation_failure(dialog)
            expect(failed).to_contain_text("Vérifie gradient_affine")
            keep(screenshot(page, "hub-validate-echec"), "hub-validate-echec")
        else:
            for grade_id in TEST_CELLS:
                expect(output_of(page, cells[grade_id])).to_contain_text("tous les tests sont réussis")
            dialog = validate(page)
            expect_validation_success(dialog)
            screenshot(page, "hub-validate-succes")
        dialog.get_by_role("button", name="Ok").click()
        submit(page)
    hub.wrong, hub.right = wrong_student, right_student

    inbound = hub.exchange / COURSE_ID / "inbound"
    submitted = sorted(p.name.split("+")[0] for p in inbound.iterdir())
    assert submitted == sorted(hub.classroom.students)
    for folder in inbound.iterdir():
        assert pwd.getpwuid(folder.stat().st_uid).pw_name == folder.name.split("+")[0]


def test_when_the_instructor_grades_the_class_then_feedback_is_released_with_the_grades(hub: Hub, chromium):
    assert hub.right, "le scénario s'arrête : les rendus manquent"
    prof, course, env, python = hub.classroom.instructor, hub.course, hub.env, hub.python
    # The README's commands, as the instructor.
    course_hub.run_as(prof, [python, "-m", "nbgrader", "collect", EXERCISE], course, env)
    for student in hub.classroom.students:
        assert (course / "submitted" / student / EXERCISE / f"{EXERCISE}.ipynb").is_file()
    out = course / "build" / "correction"
    # The grading command, from the instructor's course. It runs as root, as the README says: the
    # sandbox then runs the students' code as nobody. Its results are handed back to the instructor.
    graded = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--submissions", "submitted", "--out", "build/correction"],
        cwd=course, env={**course_hub.course_environment(hub.exchange, course), "HOME": str(course.parent)},
        capture_output=True, text=True,
    )
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    subprocess.run(["chown", "-R", f"{prof}:{prof}", str(course / "build")], check=True)
    staged = course_hub.run_as(prof, [python, "-m", "autograder", "retours", "build/correction"], course, env)
    assert "2 page(s) de retour" in staged.stdout, staged
    course_hub.run_as(prof, [python, "-m", "nbgrader", "release_feedback", EXERCISE], course, env)

    with (out / "grades.csv").open(encoding="utf-8") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert set(scores) == set(hub.classroom.students)
    assert scores[hub.right] > scores[hub.wrong]
    # One feedback page per student in the exchange, as nbgrader's release_feedback names them.
    assert len(list((hub.exchange / COURSE_ID / "feedback").glob("*.html"))) == 2

    page = log_in(hub, chromium, prof)
    expect_instructor_tools(page)


def test_when_students_fetch_their_feedback_then_they_read_it_in_french(hub: Hub, chromium):
    assert hub.right, "le scénario s'arrête : les rendus manquent"
    for student in (hub.wrong, hub.right):
        page = hub.pages[student]
        panel = assignment_list(page)
        submitted = panel.locator("#submitted_assignments_list .list_item", has_text=EXERCISE).first
        button = submitted.get_by_role("button", name="Fetch Feedback")
        expect(button).to_be_visible(timeout=SLOW)
        button.click()
        expect(panel.locator("#submitted_assignments_list", has_text="view feedback")).to_be_visible(timeout=SLOW)
        found = sorted((course_hub.home_of(student) / EXERCISE / "feedback").glob(f"*/{EXERCISE}.html"))
        assert len(found) == 1, found
        relative = found[0].relative_to(course_hub.home_of(student))
        page.goto(f"{hub.url}/user/{student}/lab/tree/{relative}?reset")
        frame = page.frame_locator(".jp-HTMLViewer iframe")
        expect(frame.locator("body")).to_contain_text("Question 1", timeout=SLOW)
        if student == hub.wrong:
            # The French diagnostic of the wrong answer, as under the test cell in the notebook.
            diagnostic = frame.get_by_text(re.compile("Cause probable")).first
            expect(diagnostic).to_contain_text("None")
            diagnostic.scroll_into_view_if_needed()
            keep(screenshot(page, "hub-retour"), "hub-retour")
        else:
            expect(frame.locator("body")).not_to_contain_text("✘ Question")


def test_when_a_student_tries_to_read_others_files_then_the_system_refuses(hub: Hub):
    assert hub.right, "le scénario s'arrête : les rendus manquent"
    course = hub.course
    inbound = hub.exchange / COURSE_ID / "inbound"
    hidden = course / "source" / EXERCISE / f"{EXERCISE}.ipynb"
    for student, other in ((hub.wrong, hub.right), (hub.right, hub.wrong)):
        own = course_hub.home_of(student) / EXERCISE / f"{EXERCISE}.ipynb"
        their = course_hub.home_of(other) / EXERCISE / f"{EXERCISE}.ipynb"
        # The same attempt on one's own file works: the refusals below are the permissions'.
        assert as_user(student, "cat", str(own)).returncode == 0
        expect_denied(student, "cat", str(their))
        expect_denied(student, "ls", str(course_hub.home_of(other)))
        expect_denied(student, "ls", str(inbound))
        expect_denied(student, "ls", str(hub.exchange / COURSE_ID / "feedback"))
        expect_denied(student, "cat", str(hidden))
        expect_denied(student, "ls", str(course / "source"))
        expect_denied(student, "cat", str(course / "submitted" / other / EXERCISE / f"{EXERCISE}.ipynb"))
        expect_denied(student, "cat", str(course / "build" / "correction" / "gradebook.db"))
    # What students can read of the course, the released version, has no hidden test.
    released = hub.exchange / COURSE_ID / "outbound" / EXERCISE / f"{EXERCISE}.ipynb"
    assert as_user(hub.wrong, "cat", str(released)).returncode == 0
    source = hidden.read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" in source
    assert "HIDDEN TESTS" not in released.read_text(encoding="utf-8")
