"""Subtitle files from recorded interviews: WebVTT (.vtt) and SubRip (.srt).

Each cue becomes a line of the source text. The speaker comes from a WebVTT voice tag
(``<v Dr Smith>…``) or a ``Name:`` prefix on the cue text; consecutive cues of one
speaker form one turn, whose timestamp is the start of its first cue. Cues with no
speaker continue the turn before them (captioning tools name a speaker only when it
changes). Other cue markup (``<i>``, ``<c.loud>``, timestamps inside a cue) is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SourceFileError
from .turns import SPEAKER_LINE, TurnSpan

_TIME = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
_TIMING = re.compile(rf"^\s*(?P<start>{_TIME})\s*-->\s*(?P<end>{_TIME})(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?[ \t]+(?P<name>[^>]+)>")
_TAG = re.compile(r"</?[^>]*>")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": "\u00a0", "&lrm;": "", "&rlm;": ""}


@dataclass(frozen=True)
class Cue:
    start: str
    speaker: str
    text: str


def _clean(text: str) -> str:
    text = _TAG.sub("", text)
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return " ".join(text.split())


def _short_time(value: str) -> str:
    """``00:01:23.456`` → ``00:01:23``: a turn's timestamp is for finding the place."""
    value = value.replace(",", ".").split(".")[0]
    return value if value.count(":") == 2 else f"00:{value}"


def _cue(start: str, lines: list[str]) -> Cue:
    raw = " ".join(lines)
    speaker = ""
    voice = _VOICE.search(raw)
    if voice:
        speaker = " ".join(voice.group("name").split())
    text = _clean(raw)
    if not speaker:
        prefix = SPEAKER_LINE.match(text)
        if prefix and not prefix.group("bracketed") and not prefix.group("bare"):
            speaker = " ".join(prefix.group("label").split())
            text = text[prefix.end() :].strip()
    return Cue(_short_time(start), speaker, text)


def _parse_cues(file_name: str, text: str, *, webvtt: bool) -> list[Cue]:
    lines = text.split("\n")
    if webvtt:
        if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
            raise SourceFileError(file_name, 'a WebVTT file must begin with "WEBVTT"', line=1)
    cues: list[Cue] = []
    number = 1 if webvtt else 0
    while number < len(lines):
        line = lines[number]
        if not line.strip():
            number += 1
            continue
        block_start = number
        block = []
        while number < len(lines) and lines[number].strip():
            block.append(lines[number])
            number += 1
        if webvtt and block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((i for i, b in enumerate(block[:2]) if "-->" in b), None)
        if timing_at is None:
            raise SourceFileError(
                file_name,
                f'expected a cue timing such as "00:00:01.000 --> 00:00:04.000", found '
                f'"{block[0][:60]}"',
                line=block_start + 1,
            )
        timing = _TIMING.match(block[timing_at])
        if not timing:
            raise SourceFileError(
                file_name,
                f'"{block[timing_at][:60]}" is not a valid cue timing',
                line=block_start + timing_at + 1,
            )
        cue = _cue(timing.group("start"), block[timing_at + 1 :])
        if cue.text:
            cues.append(cue)
    if not cues:
        raise SourceFileError(file_name, "has no cues with text")
    return cues


def read_captions(file_name: str, text: str, *, webvtt: bool) -> tuple[str, list[TurnSpan]]:
    """The source text and its turns (possibly none, if no cue names a speaker)."""
    cues = _parse_cues(file_name, text, webvtt=webvtt)
    groups: list[tuple[str, str, list[str]]] = []  # (speaker, timestamp, texts)
    for cue in cues:
        if groups and (not cue.speaker or cue.speaker == groups[-1][0]):
            groups[-1][2].append(cue.text)
        else:
            groups.append((cue.speaker, cue.start, [cue.text]))
    parts: list[str] = []
    turns: list[TurnSpan] = []
    position = 0
    for speaker, timestamp, texts in groups:
        body = " ".join(texts)
        paragraph = f"[{timestamp}] {speaker}: {body}" if speaker else f"[{timestamp}] {body}"
        if speaker:
            turns.append(TurnSpan(position, position + len(paragraph), speaker, timestamp))
        parts.append(paragraph)
        position += len(paragraph) + 2
    return "\n\n".join(parts), turns
