"""XLSForm instruments: read with pyxform, checked and filled in by our own engine.

``load_instrument(path)`` returns an ``Instrument`` or raises ``InstrumentError``
naming each problem's sheet, row and column; ``FormSession(instrument)`` fills it in.
"""

from .engine import AnswerRejected, FormSession, Issue
from .expressions import ExpressionError, parse
from .loader import load_instrument
from .model import Choice, Instrument, InstrumentError, Item, Problem

__all__ = [
    "AnswerRejected",
    "Choice",
    "ExpressionError",
    "FormSession",
    "Instrument",
    "InstrumentError",
    "Issue",
    "Item",
    "Problem",
    "load_instrument",
    "parse",
]
