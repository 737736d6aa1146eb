"""The grading pipeline: collect → prepare → execute → record → feedback → export → report.

``run`` (or ``grade`` with an ``Options``) grades every submission it is given and writes
everything in the grading folder, an nbgrader course root of its own. Each stage is a function
below; the data they pass on is typed (``Collection``, ``Prepared``, ``RunResult``):

- collect (submissions.collect): the submitted files checked, identified and copied to ``submitted/``;
- prepare (prepare.py): the course's sources, the gradebook, nbgrader's generate_assignment, the
  canary (the instructor's solution graded first, canary.py), the students and due dates;
- execute (execution.backends): the copies run in sandboxes, on this machine or a Dask cluster;
- record (record.py): nbgrader's autograde steps record each copy in the gradebook, one writer;
- feedback (feedback.py), export (export.py), report (report.py).
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Callable, Iterator, Sequence


from autograder.course import REPO_ROOT, find_assignments, prepare_environment
from autograder.grading.config import Grading, load_config
from autograder.grading.errors import GradingError
from autograder.grading.journal import Journal, assignment_digest, changed_assignments, grader_digest
from autograder.grading.options import Options, ProgressCallback
from autograder.grading.pages import rejected_stage
from autograder.grading.prepare import (
    ClassFiles,
    Prepared,
    collect_stage,
    create_gradebook,
    prepare_stage,
    prepare_workspace,
    read_class_files,
)
from autograder.grading.workspace import Lock, WorkspaceError, check_location, claim
from autograder.model import Outcome, RunResult, Status
from autograder.submissions.collect import Collection

#: A run stops for too many grading failures only once it has seen at least this many.
MIN_FAILURES_TO_STOP = 3


def run(
    submissions: Path | Sequence[Path],
    out: Path,
    *,
    course_root: Path = REPO_ROOT,
    roster: Path | None = None,
    assignment: str | None = None,
    db_url: str | None = None,
    max_bytes: int | None = None,
    reset: bool = False,
    force: bool = False,
    report: bool = True,
    sandboxed: bool = True,
    workers: int | None = None,
    scheduler: str | None = None,
    on_progress: ProgressCallback | None = None,
    on_start: Callable[[int], None] | None = None,
    moodle_worksheets: Sequence[Path] = (),
    moodle_comments: bool = False,
) -> RunResult:
    """Grade every submission of ``submissions`` (folders or Moodle zips); write everything under ``out``.

    Submissions graded by an earlier run in ``out`` whose files, assignment, grading code and
    configuration have not changed are not graded again (an interrupted run resumes), unless ``force``.
    A copy the grader could not judge (grading failure) gets no grade and is graded again next time.
    """
    sources = [Path(submissions)] if isinstance(submissions, (str, Path)) else [Path(s) for s in submissions]
    return grade(Options(
        submissions=sources, out=Path(out), course_root=course_root, roster=roster, assignment=assignment,
        db_url=db_url, max_bytes=max_bytes, reset=reset, force=force, report=report, sandboxed=sandboxed,
        workers=workers or 0, scheduler=scheduler, on_progress=on_progress, on_start=on_start,
        moodle_worksheets=list(moodle_worksheets), moodle_comments=moodle_comments,
    ))


def _called_from_a_reimported_script() -> bool:
    """Whether this call comes from a script that multiprocessing imports again in a helper process."""
    frame = inspect.currentframe()
    while frame is not None:
        if frame.f_globals.get("__name__") == "__mp_main__":
            return True
        frame = frame.f_back
    return False


def grade(options: Options) -> RunResult:
    """Grade a class as ``options`` say (see ``run``)."""
    started = time.perf_counter()
    if _called_from_a_reimported_script():
        # A script calling run() at its top level, imported again by a helper process (multiprocessing
        # imports the main script in each process it starts): without this, each helper would start
        # a grading of its own.
        raise GradingError(
            "La correction est lancée au chargement d'un script par un processus auxiliaire : dans un "
            "script Python, placez l'appel sous la condition if __name__ == \"__main__\" (règle du "
            "module multiprocessing), ou utilisez la commande python -m autograder grade."
        )
    try:
        check_location(options.out, options.course_root, options.submissions)
    except WorkspaceError as exc:
        raise GradingError(str(exc)) from None
    for source in options.submissions:
        if not source.exists():
            raise GradingError(f"Le dossier de rendus « {source} » n'existe pas.")
    class_files = read_class_files(options)  # before the sandboxes' warm server starts importing TensorFlow
    prepare_environment()
    backend = open_backend(options)
    try:
        claim(options.out)
        with Lock(options.out):
            return _grade_in(options, backend, started, class_files)
    except WorkspaceError as exc:
        raise GradingError(str(exc)) from None
    finally:
        if backend is not None:
            backend.close()


def open_backend(options: Options):
    """Where the copies run: a Dask cluster (``--scheduler``), this machine's sandboxes, or None (no sandbox)."""
    if options.scheduler and not options.sandboxed:
        raise GradingError("La répartition sur une grappe Dask (--scheduler) n'existe qu'avec le bac à sable.")
    if not options.sandboxed:
        return None
    if options.scheduler:
        from autograder.execution.dask_backend import Cluster, ClusterError

        try:
            return Cluster.connect(options.scheduler)
        except ClusterError as exc:
            raise GradingError(f"Correction refusée : {exc}") from None
    from autograder.execution import sandbox, uid_blocks
    from autograder.execution.backends import LocalBackend
    from autograder.execution.forkserver import warm_up

    try:
        uid_blocks.claim_uid_block()  # this run's own uids, for its whole life
        sandbox.check()
    except sandbox.SandboxUnavailable as exc:
        raise GradingError(
            f"Correction refusée : {exc} Le code des étudiant·es ne s'exécute jamais hors du bac à sable, "
            "sauf si vous le demandez explicitement (--sans-bac-a-sable)."
        ) from None
    warm_up()  # TensorFlow is imported in the background while the submissions are collected
    return LocalBackend(options.workers)


def _grade_in(options: Options, backend, started: float, class_files: ClassFiles) -> RunResult:
    # nbgrader takes seconds to import: only now, once the sandboxes' warm server is starting.
    workspace = options.out
    if options.reset:
        from autograder.grading.workspace import reset as reset_workspace

        reset_workspace(workspace)
    db_url = options.db_url or f"sqlite:///{workspace / 'gradebook.db'}"
    changed = changed_assignments(workspace, options.course_root, db_url)
    if changed:
        raise GradingError(
            "Le devoir " + ", ".join(f"« {name} »" for name in changed) + " a changé depuis la correction "
            f"enregistrée dans « {workspace} ». Pour tout recorriger avec la nouvelle version (les notes "
            "manuelles de ce dossier seront perdues), relancez avec --reset, ou choisissez un autre dossier --out."
        )
    prepare_workspace(workspace, options.course_root, options.db_url)
    create_gradebook(db_url)
    assignments = find_assignments(workspace / "source")
    if not assignments:
        raise GradingError(f"Aucun devoir trouvé dans « {workspace / 'source'} ».")
    if options.assignment and options.assignment not in assignments:
        raise GradingError(
            f"Devoir inconnu « {options.assignment} » (devoirs du cours : {', '.join(sorted(assignments))})."
        )
    config = load_config(workspace, options.course_root, options.db_url, options.sandboxed)
    grading = Grading(config=config)
    from nbgrader.coursedir import CourseDirectory  # nbgrader takes a second to import: not before this point

    db_url = CourseDirectory(config=config).db_url  # the gradebook nbgrader itself uses
    collection = collect_stage(options, assignments, grading, class_files)
    stages = {"collect": time.perf_counter() - started}
    mark = time.perf_counter()

    used = sorted({a for _, a in collection.ready}
                  | {p.assignment for p in collection.problems if p.assignment in assignments})
    journal = Journal(workspace, grader=grader_digest(config, options.course_root, options.sandboxed),
                      sources={name: assignment_digest(workspace / "source" / name) for name in used},
                      submissions=collection.digests, fresh=options.force)
    prepared = Prepared(config, grading, assignments, db_url, used, journal,
                        [(s, a) for s, a in collection.ready if not journal.up_to_date(s, a)],
                        class_files.worksheets)
    result = RunResult(workspace=workspace, grades_csv=workspace / "grades.csv", stages=stages)
    # The class report's plotting library is imported while the sandboxes warm up, not after the last copy.
    preload = None
    if options.report:
        from autograder.grading.report import preload_plotting as preload
    result.canary_seconds = prepare_stage(prepared, collection, backend, workspace, while_waiting=preload)
    stages["prepare"] = time.perf_counter() - mark

    if options.on_start:
        options.on_start(len(collection.ready))
    grade_stage(options, prepared, collection, backend, result)
    rejected_stage(prepared, collection, result)
    from autograder.grading.export import export_stage

    export_stage(prepared, collection, options, result)
    mark = time.perf_counter()
    if options.report:
        from autograder.grading.report import write_report

        result.report = write_report(result, db_url, workspace / "rapport.html")
    stages["report"] = time.perf_counter() - mark
    result.seconds = time.perf_counter() - started
    return result


def executed_copies(prepared: Prepared, backend, workspace: Path) -> Iterator[tuple[str, str, dict | None, str | None]]:
    """(student, assignment, outputs, failure) for each copy to grade, as soon as it has run.

    With the sandbox, the copies run on the backend, a few ahead of the recording; without it,
    nbgrader's own Execute runs them while they are recorded (outputs None).
    """
    if backend is None:
        for student, name in prepared.to_grade:
            yield student, name, None, None
        return
    from autograder.execution.backends import Job, run_copies
    from autograder.execution.preprocessor import prepare_job, run_parameters

    jobs = [
        Job(student, name, workspace / "source" / name / notebook, workspace / "submitted" / student / name / notebook)
        for student, name in prepared.to_grade
        for notebook in prepared.assignments[name].notebooks
    ]
    parameters, timeout = run_parameters(prepared.config)
    for copy in run_copies(jobs, prepare_job, backend, parameters, timeout):
        yield copy.student, copy.assignment, copy.outputs, copy.failure


def grade_stage(options: Options, prepared: Prepared, collection: Collection, backend, result: RunResult) -> None:
    """Execute, record and write the feedback of every copy to grade; the outcomes of all gradable copies."""
    from autograder.grading.feedback import FEEDBACK_WRITERS, Pages
    from autograder.grading.outcomes import read_outcome
    from autograder.grading.record import Recorder

    workspace, journal, stages = options.out, prepared.journal, result.stages
    mark = time.perf_counter()
    graded: dict[tuple[str, str], Outcome] = {}
    failures = 0
    warm = None
    if options.sandboxed and options.scheduler is None:
        from autograder.execution.forkserver import context

        warm = context()  # the feedback writers start from the warm server: nbgrader and nbconvert are there
    pages = Pages(prepared.config, workspace, FEEDBACK_WRITERS, context=warm)

    def recorded(outcomes: list[Outcome]) -> None:
        """Copies whose grades are committed: journal, progress, and the stop on too many failures."""
        nonlocal failures
        for outcome in outcomes:
            student, name = outcome.student_id, outcome.assignment
            graded[(student, name)] = outcome
            if outcome.status is Status.FAILED:
                failures += 1
                journal.forget(student, name)
            else:
                journal.graded(student, name)
                pages.add(name, student)  # its grades are committed: its page can be written now
            if options.on_progress:
                options.on_progress(student, name)
        if outcomes:
            journal.save()
        share = prepared.grading.max_failure_share
        if outcomes and failures >= MIN_FAILURES_TO_STOP and failures > share * len(graded):
            raise GradingError(
                f"Correction arrêtée : {failures} des {len(graded)} copies traitées n'ont pas pu être corrigées "
                f"(échec de la correction, ce n'est pas une note), au-delà du seuil de "
                f"{share:.0%} (c.Grading.max_failure_share). Dernière cause : "
                f"{next((o.message for o in reversed(outcomes) if o.status is Status.FAILED), '')} Les notes déjà obtenues "
                "sont conservées ; réglez le problème puis relancez la même commande : seules les copies restantes "
                "seront corrigées."
            )

    order = executed_copies(prepared, backend, workspace)
    try:
        with Recorder(prepared.config, workspace) as recorder:
            try:
                for student, name, outputs, failure in order:
                    if failure is None:
                        recorded(recorder.record(student, name, outputs))
                    else:
                        recorded(recorder.fail(student, name, failure))
            finally:
                order.close()
                # The copies recorded so far are kept, even when the run stops (Ctrl+C, too many failures).
                recorded(recorder.flush())
            for student, name in collection.ready:
                outcome = graded.get((student, name))
                if outcome is None:
                    outcome = read_outcome(recorder.gradebook, workspace, student, name, seconds=0.0)
                    outcome.reused = True
                    if outcome.status is Status.GRADED:
                        pages.add(name, student)
                    if options.on_progress:
                        options.on_progress(student, name)
                for note in collection.notes.get((student, name), []):
                    outcome.message = "\u00a0; ".join(filter(None, [outcome.message, note]))
                result.outcomes.append(outcome)
    except BaseException:
        pages.abandon()
        raise
    stages["record"] = recorder.seconds
    stages["execute"] = time.perf_counter() - mark - recorder.seconds

    mark = time.perf_counter()
    unwritten = pages.finish()
    for outcome in result.outcomes:
        if outcome.status is not Status.GRADED:
            continue
        page = workspace / "feedback" / outcome.student_id / outcome.assignment
        outcome.feedback = page if page.is_dir() else None
        if outcome.feedback is None:
            failure = unwritten.get((outcome.student_id, outcome.assignment)) or "page absente"
            outcome.message = "\u00a0; ".join(filter(None, [outcome.message, f"retour non généré : {failure}"]))
    stages["feedback"] = time.perf_counter() - mark
