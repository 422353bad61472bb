"""The version of octavo-banana, single-sourced for hatch."""

__version__ = "0.1.0"
