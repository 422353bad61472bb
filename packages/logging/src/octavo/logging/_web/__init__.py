"""The live web viewer of octavo-logging (``octavo-log web-viewer``).

Sans-IO parts: ``_model`` (events checked and bounded), ``_filter``, ``_store`` (bounded
in-memory store), ``_json`` (endpoint bodies), ``_access`` (loopback or token), ``_tail``
(a growing flogfile). Twisted parts: ``_resources`` (the site), ``_follow`` (polling a
file), ``_app`` (start and stop). The page itself is ``static/`` (plain HTML, CSS, JS).
"""

from ._app import RunningViewer, ViewerError, ViewerOptions, start_viewer

__all__ = ["RunningViewer", "ViewerError", "ViewerOptions", "start_viewer"]
