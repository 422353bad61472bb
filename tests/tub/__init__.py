"""Tests of octavo-tub."""
