"""Speaker turns in a transcript: lines that begin with a speaker label.

A turn starts at a line such as ``Interviewer: …``, ``I: …``, ``P3: …`` or
``[00:01:23] Dr Smith: …`` and runs until the next such line (or the end of the text).
Text before the first speaker line (a heading, a note on the recording) belongs to no
turn. Pure: no Django.

Telling a speaker label from an ordinary ``Word:`` at the start of a line is a judgement:
a label counts when it is a familiar transcript label (Interviewer, I, R, P3, Participant 2,
Facilitator …), when the importer was told about it (a speaker map or participant
pseudonyms), when it is a title and a name ("Dr Smith"), when a timestamp precedes it, or
when it opens at least two lines of the text — a one-off "Note:" or
"Summary:" in a document is then not mistaken for a speaker.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TIMESTAMP = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# A label: one to four words, each starting with a capital letter or a digit, so that
# "Dr Smith", "GP member 3" and "P3" qualify but a sentence does not.
_LABEL = r"[A-Z0-9][\w'’.\-]*(?:[ \t][\w'’.\-]+){0,3}"
SPEAKER_LINE = re.compile(
    rf"^[ \t]*(?:(?:\[(?P<bracketed>{_TIMESTAMP})\]|\((?P<parenthesised>{_TIMESTAMP})\)"
    rf"|(?P<bare>{_TIMESTAMP}))[ \t]*[-–]?[ \t]*)?"
    rf"(?P<label>{_LABEL})[ \t]*:(?=[ \t]|$)",
    re.MULTILINE,
)
_FAMILIAR = re.compile(
    r"^(?:I|R|Q|A|P\d+|R\d+|I\d+|Int|Interviewer\s*\d*|Interviewee\s*\d*|Respondent\s*\d*"
    r"|Participant\s*\d+|Facilitator\s*\d*|Moderator|Researcher\s*\d*|Observer\s*\d*"
    r"|Speaker\s*\d+"
    # A title and a name: "Dr Smith", "Cllr Patel".
    r"|(?:Dr|Prof|Professor|Mr|Mrs|Ms|Miss|Mx|Cllr|Councillor|Sister|Nurse)\.?\s+\w[\w'’\-]*)$",
    re.IGNORECASE,
)
MAX_LABEL_LENGTH = 40


@dataclass(frozen=True)
class TurnSpan:
    """One turn: ``[start, end)`` in code points, the speaker's label and any timestamp."""

    start: int
    end: int
    label: str
    timestamp: str = ""


def _normalise_label(label: str) -> str:
    return " ".join(label.split()).casefold()


def find_turns(text: str, *, known_labels: Iterable[str] = ()) -> list[TurnSpan]:
    """The speaker turns of ``text`` (already canonical: NFC, ``\\n`` line endings)."""
    known = {_normalise_label(label) for label in known_labels}
    candidates = [
        m for m in SPEAKER_LINE.finditer(text) if len(m.group("label")) <= MAX_LABEL_LENGTH
    ]
    repeats = Counter(_normalise_label(m.group("label")) for m in candidates)
    starts = []
    for match in candidates:
        label = " ".join(match.group("label").split())
        key = _normalise_label(label)
        timestamp = match.group("bracketed") or match.group("parenthesised") or match.group("bare")
        # A timestamp before the label is evidence enough of a transcript line.
        if timestamp or _FAMILIAR.match(label) or key in known or repeats[key] >= 2:
            starts.append((match.start(), label, timestamp or ""))
    turns = []
    for position, (start, label, timestamp) in enumerate(starts):
        end = starts[position + 1][0] if position + 1 < len(starts) else len(text)
        # A turn ends at its last non-blank character, so trailing blank lines are nobody's.
        while end > start and text[end - 1].isspace():
            end -= 1
        # Leading indentation belongs to the layout, not to the turn.
        while start < end and text[start] in " \t":
            start += 1
        turns.append(TurnSpan(start, end, label, timestamp))
    return turns
