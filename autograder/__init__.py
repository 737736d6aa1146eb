"""Autograder of the course."""
