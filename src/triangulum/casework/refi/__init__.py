"""REFI-QDA exchange: read ``.qdpx``/``.qde``/``.qdc`` into plain dataclasses and write them back.

Pure: no Django. The database import and export build on ``read_refi`` and
``write_qdpx`` (see docs/adr/0011-refi-qda-exchange.md).
"""

from .errors import BrokenFileError, ExportError, RefiError
from .model import (
    Case,
    Code,
    Coding,
    Deviation,
    Note,
    OtherSource,
    Project,
    Set,
    TextSelection,
    TextSource,
    User,
    Variable,
    VariableValue,
)
from .reader import read_refi
from .validation import export_problems
from .writer import codebook_xml, project_xml, qdpx_bytes, write_qdpx

__all__ = [
    "BrokenFileError",
    "Case",
    "Code",
    "Coding",
    "Deviation",
    "ExportError",
    "Note",
    "OtherSource",
    "Project",
    "RefiError",
    "Set",
    "TextSelection",
    "TextSource",
    "User",
    "Variable",
    "VariableValue",
    "codebook_xml",
    "export_problems",
    "project_xml",
    "qdpx_bytes",
    "read_refi",
    "write_qdpx",
]
