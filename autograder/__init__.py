"""Autograder of the course."""

import sys

# nbformat imports jsonschema, whose format checker compiles a grammar for the "iri" format at import
# time when the optional package rfc3987_syntax is installed (JupyterLab's jupyter_events brings it):
# about one second of CPU in every grading process (the command, the warm server, each spawned helper).
# Nothing here checks string formats (nbformat validates without a format checker), so the package is
# marked absent for this process, as Python documents (a None entry in sys.modules: the import fails
# and jsonschema goes without that one format). Kept if something imported it before us.
sys.modules.setdefault("rfc3987_syntax", None)
