"""The single error family of supviz.

Every problem with user input raises :class:`SupvizError` (a ``ValueError``) with a one-line
message of the form "`name` must be <what>; got <value>." The CLI prints it on one line to stderr
and exits with status 2.
"""

from __future__ import annotations


class SupvizError(ValueError):
    """Invalid input or state that the user can fix. Messages are one line."""
