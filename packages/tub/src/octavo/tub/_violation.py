"""The codec's two peer-caused errors, shared with octavo.banana (same classes)."""

from __future__ import annotations

from octavo.banana import BananaError, Violation

__all__ = ["BananaError", "Violation"]
