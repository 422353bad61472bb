"""Octavo's test suite: one package per distribution, plus interop."""
