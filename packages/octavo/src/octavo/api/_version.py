"""The version of octavo, single-sourced for hatch."""

__version__ = "0.1.0"
