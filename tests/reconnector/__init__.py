"""Tests of octavo-reconnector."""
