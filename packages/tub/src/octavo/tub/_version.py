"""The version of octavo-tub, single-sourced for hatch."""

__version__ = "0.1.0"
