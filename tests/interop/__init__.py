"""Tests against real Foolscap 24.9 (needs foolscap installed)."""
