"""The benchmark runs (it is not part of the suite's timings, but it must keep working: make bench)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from autograder.course import REPO_ROOT

#: It grades in the sandbox (select with -m e2e, or -m sandbox).
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]


def test_the_benchmark_grades_a_small_real_class_and_reports_its_figures():
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "bench_grading.py"), "--n", "3", "--classe", "reelle",
         "--sans-stock"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"plancher .*\s: [\d.]+ s de CPU, \d+ ms/rendu", out), out
    fresh = re.search(r"processus neuf par copie .*\s: (\d+) ms de CPU, à lui seul au plus (\d+) rendus/s", out)
    assert fresh and int(fresh.group(1)) > 0, out
    measured = re.search(r"pipeline du cours .*\s: +([\d.]+) s +([\d.]+) rendus/s +CPU (\d+) ms/rendu", out)
    assert measured and float(measured.group(1)) > 0 and int(measured.group(3)) > 0, out
    assert re.search(r"étapes\s: collecte", out) and "mémoire du processus principal" in out, out
