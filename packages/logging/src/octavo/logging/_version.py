"""The version of octavo-logging, single-sourced for hatch."""

__version__ = "0.1.0"
