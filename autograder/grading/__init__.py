"""The grading pipeline: collect, prepare, execute, record, feedback, export, report."""
