"""Tests of octavo-logging."""
