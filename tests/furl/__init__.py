"""Tests of octavo-furl."""
