"""The version of octavo-furl, single-sourced for hatch."""

__version__ = "0.1.0"
