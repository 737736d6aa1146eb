"""Tools of the course itself (demonstration submissions, lessons, demonstration hub); not part of the grader."""
