"""The command ends without tearing its interpreter down (cli.QuickExit), with the status it would have had."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.course import REPO_ROOT


def command(*args: str, script: str | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-c", script] if script else [sys.executable, "-m", "autograder", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


def test_when_help_is_asked_then_the_whole_text_is_printed_and_the_status_is_zero():
    done = command("grade", "--help")
    assert done.returncode == 0, done.stderr
    assert "--submissions" in done.stdout and done.stdout.rstrip().endswith(done.stdout.rstrip().splitlines()[-1])
    assert len(done.stdout) > 1000


@pytest.mark.parametrize("args", [("grade",), ("inconnue",)])
def test_when_the_command_line_is_wrong_then_argparse_status_two_is_kept(args):
    done = command(*args)
    assert done.returncode == 2 and "usage" in done.stderr


def test_when_grading_is_refused_then_the_french_message_and_status_two_are_kept(tmp_path):
    done = command("grade", "--submissions", str(tmp_path / "absent"), "--out", str(tmp_path / "notes"),
                   "--sans-bac-a-sable")
    assert done.returncode == 2, done.stderr
    assert "Erreur" in done.stderr and "n'existe pas" in done.stderr and "Traceback" not in done.stderr


def test_the_exit_handlers_still_run_and_an_error_still_gives_status_one():
    script = (
        "import atexit, sys\n"
        "from autograder import cli\n"
        "quick = cli.QuickExit()\n"
        "atexit.register(lambda: print('handler ran', flush=True))\n"
        "print('buffered', end='')\n"
        "raise RuntimeError('boom')\n"
    )
    done = command(script=script)
    assert done.returncode == 1 and "RuntimeError: boom" in done.stderr
    assert done.stdout == "bufferedhandler ran\n"
