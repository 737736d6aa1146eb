"""A class on the course's JupyterHub, on one machine: `make hub` (run as root).

Creates the Unix accounts of a demonstration class (an instructor and students, each with a
private home folder), nbgrader's exchange shared by the class, and the instructor's course (a
copy of the course in the instructor's home, private), releases the assignments through the
exchange as the instructor, then starts JupyterHub with hub/jupyterhub_config.py.

    python -m coursetools.hub                 # the demonstration class, then the hub
    python -m coursetools.hub --supprimer     # removes the demonstration accounts and homes

And, for the instructor, from their course: the feedback pages of a grading run, put where
`nbgrader release_feedback` takes them.

    python -m autograder retours build/correction   (or: python -m coursetools.hub --retours …)
"""

from __future__ import annotations

import argparse
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.course import REPO_ROOT, TF_QUIET_ENV
from autograder.grading.feedback_release import stage_feedback_command

#: Accounts of the demonstration class all start with this prefix (the course's initials).
PREFIX = "tfgt-"
#: nbgrader's default exchange folder.
EXCHANGE = Path("/srv/nbgrader/exchange")
#: The instructor's course, in the instructor's home folder.
COURSE_FOLDER = "tf-gradienttape"
#: What the instructor's course holds: the course's configuration, the instructor notebooks
#: (hidden tests), the student versions, and the grading package.
COURSE_CONTENT = ("nbgrader_config.py", "autograder", "source", "release")


@dataclass(frozen=True)
class Classroom:
    """The accounts of a class: one instructor and students."""

    instructor: str
    students: tuple[str, ...]

    @classmethod
    def demo(cls, prefix: str = PREFIX, students: int = 3) -> Classroom:
        return cls(f"{prefix}prof", tuple(f"{prefix}etu{i}" for i in range(1, students + 1)))

    @property
    def accounts(self) -> tuple[str, ...]:
        return (self.instructor, *self.students)


def home_of(user: str) -> Path:
    return Path(pwd.getpwnam(user).pw_dir)


def create_account(user: str, password: str | None = None) -> Path:
    """A Unix account with a home folder that only its owner can read; returns the home."""
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash", user], check=True)
    home = home_of(user)
    home.chmod(0o700)
    if password is not None:
        subprocess.run(["chpasswd"], input=f"{user}:{password}\n", text=True, check=True)
    return home


def remove_account(user: str) -> None:
    """Removes the account and its home folder (an absent account is not an error)."""
    try:
        pwd.getpwnam(user)
    except KeyError:
        return
    subprocess.run(["userdel", "--remove", user], check=True, capture_output=True)


def prepare_exchange(root: Path) -> None:
    """nbgrader's exchange: a folder every account can write into (sticky, like /tmp)."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o777 | stat.S_ISVTX)


def install_course(instructor: str, course: Path) -> None:
    """A private copy of the course for the instructor (kept as it is if it already exists)."""
    if not course.exists():
        course.mkdir(mode=0o700)
        for name in COURSE_CONTENT:
            source = REPO_ROOT / name
            if source.is_dir():
                shutil.copytree(source, course / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, course / name)
    course.chmod(0o700)
    subprocess.run(["chown", "-R", f"{instructor}:{instructor}", str(course)], check=True)


def course_environment(exchange: Path, course: Path | None = None, python: str = sys.executable) -> dict[str, str]:
    """Environment of the instructor's nbgrader commands and of the hub."""
    env = {
        key: value for key, value in os.environ.items()
        if key in ("PATH", "LANG", "LC_ALL", "TERM")
    }
    env.update(TF_QUIET_ENV)
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env["TF_COURSE_EXCHANGE"] = str(exchange)
    env["JUPYTER_CONFIG_PATH"] = str(REPO_ROOT / "hub" / "instructor")
    if course is not None:
        env["TF_COURSE_ROOT"] = str(course)
    return env


def run_as(user: str, command: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    """Runs ``command`` as the Unix account ``user``, in its own home environment."""
    entry = pwd.getpwnam(user)
    env = {**env, "HOME": entry.pw_dir, "USER": user, "LOGNAME": user}
    prefix = ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items())]
    return subprocess.run(prefix + command, cwd=cwd, capture_output=True, text=True, check=check)


def release_assignments(instructor: str, course: Path, env: dict[str, str], python: str = sys.executable) -> None:
    """`nbgrader release_assignment` of every assignment, as the instructor (they own the exchange's course)."""
    for assignment in sorted(p.name for p in (course / "release").iterdir() if p.is_dir()):
        run_as(instructor, [python, "-m", "nbgrader", "release_assignment", assignment, "--force"], course, env)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m coursetools.hub",
        description="Classe de démonstration sur le JupyterHub du cours (comptes Unix, échange de nbgrader, cours de "
                    "l'enseignant·e), puis lancement du JupyterHub. À lancer en root.",
    )
    parser.add_argument("--prefixe", default=PREFIX, help=f"début du nom des comptes (défaut : {PREFIX})")
    parser.add_argument("--etudiants", type=int, default=3, help="nombre de comptes d'étudiant·es (défaut : 3)")
    parser.add_argument("--echange", type=Path, default=EXCHANGE, help=f"dossier d'échange de nbgrader (défaut : {EXCHANGE})")
    parser.add_argument("--supprimer", action="store_true",
                        help="supprime les comptes de démonstration et leurs dossiers personnels, puis s'arrête")
    parser.add_argument("--retours", type=Path, metavar="DOSSIER_DE_CORRECTION",
                        help="depuis le cours de l'enseignant·e : copie les pages de retour d'une correction dans "
                             "feedback/, prêtes pour « nbgrader release_feedback », puis s'arrête")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.retours is not None:
        return stage_feedback_command(Path.cwd(), args.retours)
    if os.geteuid() != 0:
        print("Il faut être root pour créer les comptes et lancer le JupyterHub (sudo make hub).", file=sys.stderr)
        return 2
    classroom = Classroom.demo(args.prefixe, args.etudiants)
    if args.supprimer:
        for user in classroom.accounts:
            remove_account(user)
        print("Comptes supprimés : " + ", ".join(classroom.accounts))
        return 0

    passwords = {user: secrets.token_urlsafe(9) for user in classroom.accounts}
    for user, password in passwords.items():
        create_account(user, password)
    prepare_exchange(args.echange)
    course = home_of(classroom.instructor) / COURSE_FOLDER
    install_course(classroom.instructor, course)
    env = course_environment(args.echange, course)
    probe = run_as(classroom.instructor, [sys.executable, "-c", "import nbgrader, jupyterhub"], course, env, check=False)
    if probe.returncode != 0:
        print(f"Le compte {classroom.instructor} ne peut pas lancer le Python du cours ({sys.executable}) : "
              "chaque compte doit pouvoir le lire. Créez .venv à partir du Python du système "
              "(make PYTHON=/usr/bin/python3.11), dans un dossier lisible par tous.", file=sys.stderr)
        return 2
    release_assignments(classroom.instructor, course, env)

    print("\nJupyterHub du cours : http://127.0.0.1:8000 (Ctrl+C pour l'arrêter)\n")
    print(f"  {'compte':<16} mot de passe")
    for user in classroom.accounts:
        role = " (enseignant·e)" if user == classroom.instructor else ""
        print(f"  {user:<16} {passwords[user]}{role}")
    print(f"\nCours de l'enseignant·e : {course}\n")
    state = REPO_ROOT / "build" / "hub"
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    hub_env = {
        **os.environ,
        **env,
        "TF_COURSE_INSTRUCTORS": classroom.instructor,
        "TF_COURSE_STUDENTS": " ".join(classroom.students),
        "TF_COURSE_HUB_DIR": str(state),
    }
    hub = [sys.executable, "-m", "jupyterhub", "-f", str(REPO_ROOT / "hub" / "jupyterhub_config.py")]
    os.chdir(state)
    os.execvpe(hub[0], hub, hub_env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
