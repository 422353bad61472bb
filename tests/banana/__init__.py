"""Tests of octavo-banana."""
