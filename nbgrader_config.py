"""nbgrader configuration of the course « Dérivation automatique avec tf.GradientTape ».

The nbgrader root is the directory nbgrader runs from: the repository root for
plain ``nbgrader`` commands, or the ``--out`` directory of a grading run
(whose own nbgrader_config.py loads this file).
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

HERE = os.path.dirname(os.path.abspath(__file__))

# TensorFlow writes C++ log lines to stderr when it is imported (the oneDNN notice even
# with TF_CPP_MIN_LOG_LEVEL=3; turning oneDNN off also makes float results reproducible), and nbgrader gives
# 0 points to a test cell with any stderr output. Every kernel started by nbgrader
# inherits this environment.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # its notice ignores the log level
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

c.CourseDirectory.course_id = "tf-gradienttape"

# Student versions: French stubs.
c.ClearSolutions.code_stub = {"python": "# VOTRE CODE ICI\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "VOTRE RÉPONSE ICI"

# Execution: importing TensorFlow and tracing a first graph can exceed nbgrader's 30 s default.
c.Execute.timeout = 120
c.Execute.execute_retries = 0
# No command history kept by the kernel (nbgrader's default), and no kernel log warnings in the
# instructor's terminal (ipykernel 7 warns that it runs over local TCP).
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 40

# Belt and braces: drop TensorFlow's own log lines from stderr before scoring.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(WARNING:tensorflow|oneDNN custom operations|TF_ENABLE_ONEDNN_OPTS|cuda|absl::|"
    r"I0000 |W0000 |E0000 |Debugger warning|frozen modules)"
)

# A test cell deleted by a student is put back from the gradebook (nbgrader otherwise asks
# for manual grading forever). The notice is a comment so that a restored code cell still runs.
c.OverwriteCells.add_missing_cells = True
c.OverwriteCells.missing_cell_notification = (
    "# Cette cellule (id : {cell_id}) manquait dans le rendu ; elle a été rétablie.\n"
)

# Validate button: messages in French (the format fields must stay).
c.Validator.type_changed_warning = (
    "LE TYPE DE {num_changed} CELLULE(S) A CHANGÉ !\n"
    "Même si les tests passent maintenant, ils échoueront peut-être à la correction.\n"
)
c.Validator.changed_warning = (
    "LE CONTENU DE {num_changed} CELLULE(S) DE TEST A CHANGÉ !\n"
    "Même si les tests passent maintenant, ils échoueront peut-être à la correction.\n"
)
c.Validator.failed_warning = (
    "ÉCHEC DE LA VALIDATION SUR {num_failed} CELLULE(S) !\n"
    "Si vous rendez le carnet tel quel, vous n'aurez pas tous les points.\n"
)
c.Validator.passed_warning = "LE CARNET RÉUSSIT {num_passed} CELLULE(S) !\n"

# Feedback: French template (autograder/templates/feedback replaces nbgrader's template of the
# same name, which NbGraderAPI.generate_feedback forces), hidden tests removed, tracebacks of test cells shortened
# to the French diagnostic (a traceback would show hidden test lines).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.grading.preprocessors.FrenchFeedback",
]
# nbgrader's own template folder comes second: its `formgrade` template (JupyterLab's Formgrader
# panel) is found there, while the course's `feedback` template comes first and wins. (Located
# without importing nbgrader, which this file does not need.)
import importlib.util  # noqa: E402

NBGRADER_DIR = importlib.util.find_spec("nbgrader").submodule_search_locations[0]
c.HTMLExporter.extra_template_basedirs = [
    os.path.join(HERE, "autograder", "templates"),
    os.path.join(NBGRADER_DIR, "server_extensions", "formgrader", "templates"),
]
