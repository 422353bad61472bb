"""Tests of the build and release pipeline (run by tox env `build`, after build_all.py)."""
