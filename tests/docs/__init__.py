"""Tests of the user guide: every Python code block of docs/ runs."""
