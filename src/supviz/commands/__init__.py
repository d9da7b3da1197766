"""Subcommands of the ``supviz`` CLI, one module each (see :mod:`supviz.cli`)."""
