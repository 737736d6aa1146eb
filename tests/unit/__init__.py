"""Fast tests of single modules, imported directly: no sandbox, no TensorFlow, no grading run."""
