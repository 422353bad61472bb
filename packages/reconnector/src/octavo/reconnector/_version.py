"""The version of octavo-reconnector, single-sourced for hatch."""

__version__ = "0.1.0"
