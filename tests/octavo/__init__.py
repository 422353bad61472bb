"""Tests of octavo."""
