"""requirements.txt (which includes requirements-grader.txt) lists every dependency; the other files point to them."""

from __future__ import annotations

import re
import tomllib

from autograder.course import REPO_ROOT

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)$")


def requirement_lines(name: str = "requirements.txt") -> list[str]:
    """The pins of a requirements file, those of the files it includes (``-r``) first."""
    found = []
    for line in (REPO_ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("-r "):
            found += requirement_lines(line[3:].strip())
        elif line and not line.startswith("#"):
            found.append(line)
    return found


def test_the_grader_package_needs_neither_the_test_tools_nor_jupyterlab():
    names = {PIN.match(line)["name"].lower() for line in requirement_lines("requirements-grader.txt")}
    assert {"nbgrader", "tensorflow-cpu", "numpy"} <= names
    assert not names & {"pytest", "playwright", "nbval", "jupyterlab", "jupyterhub", "jupyterlab-language-pack-fr-fr"}


def test_every_requirement_is_pinned_to_an_exact_version():
    bad = [line for line in requirement_lines() if not PIN.match(line)]
    assert not bad, f"versions non exactes : {bad}"


def test_no_requirement_is_listed_twice():
    names = [PIN.match(line)["name"].lower().replace("_", "-") for line in requirement_lines()]
    assert len(names) == len(set(names))


def test_the_packages_named_by_the_design_are_required():
    names = {PIN.match(line)["name"].lower() for line in requirement_lines()}
    for needed in ("tensorflow-cpu", "jupyterlab", "nbgrader", "nbval", "pytest", "jupyterlab-language-pack-fr-fr"):
        assert needed in names, needed


def test_environment_yml_is_python_311_plus_the_requirements_file_only():
    text = (REPO_ROOT / "environment.yml").read_text(encoding="utf-8")
    entries = [line.strip() for line in text.splitlines() if line.strip().startswith("- ")]
    assert entries == ["- conda-forge", "- python=3.11", "- pip", "- pip:", "- -r requirements.txt"]


def test_pyproject_reads_its_dependencies_from_requirements():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "dependencies" not in project["project"]
    assert project["project"]["dynamic"] == ["dependencies"]
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"]["file"] == ["requirements-grader.txt"]


def test_makefile_bootstraps_the_venv_from_requirements():
    text = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(STAMP): requirements.txt requirements-grader.txt" in text
    for target in ("grade", "test", "lab"):
        assert re.search(rf"^{target}: \$\(STAMP\)", text, re.M), target
