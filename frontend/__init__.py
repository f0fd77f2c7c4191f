"""Dockerfile frontend: text → syntax tree → checked, compiled build plan.

May import: frontend.*, solver value modules (source, digest, ops, definition).
Pure: no I/O beyond the bytes it is handed.
"""

from frontend.errors import Diagnostic, FrontendError

__all__ = ["Diagnostic", "FrontendError"]
