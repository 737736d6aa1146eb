"""The student's experience in a real JupyterLab, driven in Debian's Chromium by Playwright.

A JupyterLab server runs on a temporary copy of release/ and course/ (with the course's
nbgrader_config.py, which nbgrader's Validate button reads from the server's working
directory). The browser types answers into an exercise notebook, runs it, presses nbgrader's
Validate button, and opens a lesson. Screenshots go to test-artifacts/ (never committed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import nbgrader
import psutil
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from autograder.course import REPO_ROOT, TF_QUIET_ENV

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's services.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", REPO_ROOT / "test-artifacts"))
EXERCISE = "ex01_premiers-pas"
LESSON = "course/01_premiers-pas.ipynb"
# Kernel start, TensorFlow import, nbgrader's validation (a second kernel): generous limits.
SLOW = 120_000

SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)\n[ \t]*### END SOLUTION[ \t]*$", re.S | re.M)


# --------------------------------------------------------------------------
# Server and browser
# --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab server: its root directory and how to reach it."""

    def __init__(self, root: Path, port: int, token: str, log: Path) -> None:
        self.root = root
        self.log = log
        self.url = f"http://127.0.0.1:{port}"
        self.token = token

    def api(self, path: str) -> object:
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def open(self, page: Page, path: str) -> None:
        # `reset`: a fresh workspace, with only this document open.
        page.goto(f"{self.url}/lab/tree/{path}?reset&token={self.token}")
        wait_until_idle(page)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """JupyterLab as `make lab` starts it, on a copy of the course (release/, course/, configuration)."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "cours"
    for name in ("release", "course"):
        shutil.copytree(REPO_ROOT / name, root / name)
    (root / "lab").mkdir()
    for name in ("nbgrader_config.py", "lab/nbgrader_config.py"):
        shutil.copy(REPO_ROOT / name, root / name)
    shutil.copytree(REPO_ROOT / "lab" / "student", root / "lab" / "student")
    # The Makefile's own recipe publishes release/ to the local exchange of nbgrader's assignment list.
    subprocess.run(
        ["make", "--no-print-directory", "-f", str(REPO_ROOT / "Makefile"), "lab-exchange"],
        cwd=root, check=True, capture_output=True,
    )
    # The user's own Jupyter settings and workspaces stay out of the test.
    env = {
        **os.environ,
        **TF_QUIET_ENV,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(root / "lab"), str(root / "lab" / "student")]),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
    }
    port, token = free_port(), os.urandom(16).hex()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False", "--LabApp.news_url=None",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (base / "jupyterlab.log").open("w")
    # nbgrader's Validate button reads nbgrader_config.py from the server's working directory.
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        lab = Lab(root, port, token, base / "jupyterlab.log")
        deadline = time.monotonic() + 90
        while True:
            try:
                lab.api("/api/status")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab n'a pas démarré :\n" + (base / "jupyterlab.log").read_text()[-3000:])
                time.sleep(0.3)
        yield lab
    finally:
        stop(server)
        log.close()


def stop(server: subprocess.Popen, grace: float = 10) -> None:
    """Stop the server, then whatever it started that is still alive after ``grace`` seconds (kernels run in their
    own sessions)."""
    try:
        children = psutil.Process(server.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        child.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 800},
            locale="fr-FR",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    yield page
    page.close()


def notebook(page: Page):
    """The notebook of the current tab."""
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook")


def cells_of(page: Page):
    return notebook(page).locator(".jp-Cell")


def wait_until_idle(page: Page) -> None:
    """Wait for the notebook's kernel to be started and idle (status bar, in French)."""
    expect(notebook(page)).to_be_visible(timeout=SLOW)
    expect(page.locator(".jp-StatusBar-TextItem", has_text="| Inactif")).to_have_count(1, timeout=SLOW)


def settle(page: Page) -> None:
    """Let the notebook repaint cells that scrolling brought into view (content-visibility)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_timeout(300)


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def small_png(path: Path) -> Path:
    """A 128-colour copy of a screenshot, small enough to be committed (docs/lab-diagnostic.png)."""
    from PIL import Image

    out = path.with_name(path.stem + "-petit.png")
    image = Image.open(path).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    return out


# --------------------------------------------------------------------------
# Student actions
# --------------------------------------------------------------------------


def solutions(assignment: str) -> dict[str, str]:
    """The instructor's solution of each answer cell of ``assignment``, by grade_id."""
    notebook = nbformat.read(REPO_ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    found = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            match = SOLUTION.search(cell.source)
            found[meta["grade_id"]] = SOLUTION.sub(lambda m: m.group(1), cell.source) if match else cell.source
    return found


def cell_index(assignment: str) -> dict[str, int]:
    """Position of each graded cell of the student notebook, by grade_id."""
    notebook = nbformat.read(REPO_ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: i
        for i, cell in enumerate(notebook.cells)
        if "grade_id" in cell.metadata.get("nbgrader", {})
    }


def type_into_cell(page: Page, index: int, text: str) -> None:
    """Replace the text of a cell as a student would (markdown cells are opened for editing first)."""
    cell = cells_of(page).nth(index)
    cell.scroll_into_view_if_needed()
    if "jp-MarkdownCell" in (cell.get_attribute("class") or ""):
        cell.dblclick()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    # Typed as one input, like a paste: the editor adds no indentation or closing brackets.
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")
    expect(cell.locator(".cm-content")).to_contain_text(text.splitlines()[0])


def run_all(page: Page) -> None:
    """Exécution › Exécuter toutes les cellules, then wait until every code cell has run."""
    page.locator(".lm-MenuBar-item", has_text="Exécution").click()
    page.locator(".lm-Menu-item", has_text=re.compile(r"^Exécuter toutes les cellules$")).click()
    prompts = notebook(page).locator(".jp-CodeCell .jp-InputPrompt")
    expect(prompts.filter(has_text=re.compile(r"^\[( |\*)?\]"))).to_have_count(0, timeout=SLOW)
    wait_until_idle(page)


def validate(page: Page):
    """Press nbgrader's Validate button; return its results dialog."""
    page.locator(".jp-NotebookPanel:visible .jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=SLOW)
    return dialog


# nbgrader's Validate button and dialog, as the course's JupyterLab extension (lab/extension/) words them.
VALIDATE_LABEL = "Valider"
VALIDATE_TITLE = "Résultats de la validation"
VALIDATE_SUCCESS = "Bravo\u00a0! Votre carnet réussit tous les tests."
VALIDATE_FAILURE = "Cette cellule n'est pas réussie\u00a0:"
# nbgrader's "Partial credit" sentence: a test cell that ran without error but did not get all its points.
VALIDATE_PARTIAL = "Des tests ne sont pas réussis\u00a0: lisez le message sous cette cellule, dans le carnet."
# nbgrader's English, which must not reach the student.
NBGRADER_ENGLISH = re.compile(r"Validation Results|Success!|The following|Partial credit|You did not provide|Validate")


def expect_validation_success(dialog) -> None:
    """nbgrader's dialog says in French that every test passes."""
    expect(dialog.locator(".validation-success")).to_have_count(1)
    expect(dialog.locator(".validation-failed")).to_have_count(0)
    expect(dialog.locator(".jp-Dialog-header")).to_have_text(VALIDATE_TITLE)
    expect(dialog.locator(".validation-success")).to_have_text(VALIDATE_SUCCESS)
    expect(dialog).not_to_contain_text(NBGRADER_ENGLISH)


def expect_validation_failure(dialog):
    """nbgrader's dialog lists the failed cells in French; returns the list."""
    failed = dialog.locator(".validation-failed")
    expect(failed).to_have_count(1)
    expect(dialog.locator(".jp-Dialog-header")).to_have_text(VALIDATE_TITLE)
    expect(failed).to_contain_text(VALIDATE_FAILURE)
    expect(dialog).not_to_contain_text(NBGRADER_ENGLISH)
    return failed


def expect_student_tools_only(page: Page) -> None:
    """Menu Nbgrader: the assignment list only; no Create Assignment panel, no Formgrader."""
    expect(page.locator(".validate-button, .jp-NotebookPanel").first).to_be_visible(timeout=SLOW)
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    items = page.locator(".lm-Menu-content .lm-Menu-item:visible .lm-Menu-itemLabel")
    expect(items).to_have_text(["Assignment List"])
    page.keyboard.press("Escape")
    expect(page.locator("#nbgrader-create_assignemnt")).to_have_count(0)
    expect(page.get_by_title(re.compile("Create Assignment", re.I))).to_have_count(0)
    toolbar = page.locator(".jp-NotebookPanel:visible .validate-button")
    expect(toolbar).to_have_text(VALIDATE_LABEL)


def expect_instructor_tools(page: Page) -> None:
    """Menu Nbgrader: the instructor's tools are all there, with the Create Assignment panel."""
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    items = page.locator(".lm-Menu-content .lm-Menu-item:visible .lm-Menu-itemLabel")
    for label in ("Assignment List", "Course List", "Formgrader"):
        expect(items.filter(has_text=re.compile(f"^{label}$"))).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#nbgrader-create_assignemnt")).to_have_count(1)


def output_of(page: Page, index: int):
    return cells_of(page).nth(index).locator(".jp-OutputArea")


def formulas(notebook: nbformat.NotebookNode) -> int:
    """Number of $...$ and $$...$$ formulas in the markdown cells (code spans and blocks left out)."""
    count = 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            text = re.sub(r"```.*?```|`[^`\n]*`", " ", cell.source, flags=re.S)
            count += len(re.findall(r"\$\$.*?\$\$|\$[^$\n]+\$", text, flags=re.S))
    return count


def open_student_copy(lab: Lab, page: Page, folder: str) -> str:
    """A fresh copy of the exercise notebook in ``folder``, opened in JupyterLab."""
    target = lab.root / folder / EXERCISE
    shutil.copytree(lab.root / "release" / EXERCISE, target)
    path = f"{folder}/{EXERCISE}/{EXERCISE}.ipynb"
    lab.open(page, path)
    return path


def fetch_and_open(lab: Lab, page: Page) -> None:
    """Nbgrader › Assignment List: fetch the exercise from the course's exchange, open its notebook."""
    lab.open(page, "course/00_sommaire.ipynb")
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    page.locator(".lm-Menu-item", has_text="Assignment List").click()
    released = page.locator("#released_assignments_list .list_item", has_text=EXERCISE)
    released.get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list").get_by_role("button", name=EXERCISE)
    expect(fetched).to_be_visible(timeout=SLOW)
    fetched.click()
    screenshot(page, "lab-liste-des-devoirs")
    page.locator("#fetched_assignments_list .nested_list_item a", has_text=EXERCISE).click()
    expect(page).to_have_url(re.compile(f"/lab/tree/mes-devoirs/{EXERCISE}/{EXERCISE}.ipynb"), timeout=SLOW)
    wait_until_idle(page)
    assert (lab.root / "mes-devoirs" / EXERCISE / f"{EXERCISE}.ipynb").is_file()


EXPLANATION = (
    "`x` est un tenseur ordinaire, pas une variable : le ruban ne le surveille pas. "
    "Avec `tape.watch(x)`, il enregistre les opérations sur `x`."
)
TEST_CELLS = ["test_gradient_affine", "test_carre_et_derivee", "test_derivee_en", "test_derivee_cube"]


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_when_lab_starts_then_nbgrader_extensions_are_loaded_with_the_course_exchange(lab: Lab):
    log = lab.log.read_text(encoding="utf-8")
    assert "extension failed loading" not in log, log
    assert lab.api("/nbgrader_version?version=" + nbgrader.__version__) == {"success": True}
    listed = lab.api("/assignments?course_id=tf-gradienttape")
    assert listed["success"], listed
    released = sorted(a["assignment_id"] for a in listed["value"] if a["status"] == "released")
    assert released == sorted(p.name for p in (REPO_ROOT / "release").iterdir() if p.is_dir())
    assert lab.api("/courses") == {"success": True, "value": ["tf-gradienttape"]}
    # The student's server has no instructor side (lab/student/jupyter_server_config.json):
    # no formgrader, no list of the courses one grades.
    for path in ("/formgrader", "/formgraders"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            lab.api(path)
        assert refused.value.code == 404, path


def test_when_a_student_opens_jupyterlab_then_only_student_tools_are_shown(lab: Lab, page: Page):
    lab.open(page, "course/00_sommaire.ipynb")
    expect_student_tools_only(page)


def test_when_a_student_fetches_and_validates_correct_answers_then_every_check_passes(lab: Lab, page: Page):
    fetch_and_open(lab, page)
    # The interface is in French (language pack chosen by lab/overrides.json).
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert {"Fichier", "Édition", "Exécution", "Noyau"} <= set(menus), menus
    assert "Nbgrader" in menus, "l'extension nbgrader de JupyterLab n'est pas chargée"

    cells = cell_index(EXERCISE)
    for grade_id, text in solutions(EXERCISE).items():
        type_into_cell(page, cells[grade_id], EXPLANATION if grade_id == "explication" else text)
    run_all(page)

    for grade_id in TEST_CELLS:
        expect(output_of(page, cells[grade_id])).to_contain_text("tous les tests sont réussis")
    screenshot(page, "lab-reponses-justes")

    dialog = validate(page)
    expect_validation_success(dialog)
    screenshot(page, "lab-validate-succes")
    dialog.get_by_role("button", name="Ok").click()


def test_when_a_student_validates_a_wrong_answer_then_the_diagnostic_is_in_french(lab: Lab, page: Page):
    open_student_copy(lab, page, "copie-fausse")
    cells = cell_index(EXERCISE)
    answers = solutions(EXERCISE)
    # The classic mistake: a constant instead of a variable, so the tape records nothing.
    answers["gradient_affine"] = answers["gradient_affine"].replace("tf.Variable(x,", "tf.constant(x,")
    assert "tf.constant" in answers["gradient_affine"]
    for grade_id, text in answers.items():
        type_into_cell(page, cells[grade_id], EXPLANATION if grade_id == "explication" else text)
    run_all(page)

    diagnostic = output_of(page, cells["test_gradient_affine"])
    expect(diagnostic).to_contain_text("✘ Question 1 (gradient_affine)\u00a0: 0 / 2")
    expect(diagnostic).to_contain_text("vaut `None` au lieu d'une valeur. Cause probable")
    expect(diagnostic).to_contain_text("tape.watch(x)")
    for grade_id in TEST_CELLS[1:]:
        expect(output_of(page, cells[grade_id])).to_contain_text("tous les tests sont réussis")
    diagnostic.scroll_into_view_if_needed()
    cells_of(page).nth(cells["gradient_affine"]).scroll_into_view_if_needed()
    small_png(screenshot(page, "lab-diagnostic"))

    dialog = validate(page)
    failed = expect_validation_failure(dialog)
    # Only the failing test cell is listed, with its French description.
    expect(failed).to_contain_text("Vérifie gradient_affine")
    expect(failed).to_contain_text(VALIDATE_PARTIAL)
    expect(failed).not_to_contain_text("Vérifie carre_et_derivee")
    screenshot(page, "lab-validate-echec")
    dialog.get_by_role("button", name="Ok").click()


def test_when_a_lesson_is_opened_then_its_mathematics_and_figures_are_rendered(lab: Lab, page: Page):
    lab.open(page, LESSON)
    stored = nbformat.read(REPO_ROOT / LESSON, as_version=4)
    figures = sum(
        "image/png" in output.get("data", {})
        for cell in stored.cells if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert figures > 0, "la leçon choisie n'a pas de figure"

    # Every formula is typeset by MathJax, without error, and no $...$ is left in the text.
    markdown = notebook(page).locator(".jp-MarkdownCell .jp-RenderedMarkdown")
    expect(markdown.locator("mjx-container")).to_have_count(formulas(stored), timeout=SLOW)
    expect(markdown.locator("mjx-merror")).to_have_count(0)
    raw = [m for text in markdown.all_inner_texts() for m in re.findall(r"\$[^$\n]{1,40}\$", text)]
    assert not raw, f"formules non rendues : {raw[:5]}"

    images = notebook(page).locator(".jp-OutputArea-output img")
    expect(images).to_have_count(figures, timeout=SLOW)
    sizes = images.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert all(w > 100 and h > 100 for w, h in sizes), sizes

    # One screen with a figure and typeset formulas below it.
    first_figure = images.first
    first_figure.scroll_into_view_if_needed()
    expect(first_figure).to_be_in_viewport()
    settle(page)
    screenshot(page, "lab-lecon")
