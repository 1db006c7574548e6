"""Triangulum: a mixed-methods research workbench."""

__version__ = "0.1.0"
