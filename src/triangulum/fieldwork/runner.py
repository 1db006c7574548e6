"""Question-by-question running of an instrument over stored answers.

Pure: no Django import. The web views rebuild a ``FormSession`` from an interview's
stored answers on every request (so a restarted server resumes exactly where the stored
answers say), ask one question at a time, and move forward or back through the questions
that apply now.

Answers are stored per *item path*: XPath-like, rooted at the form's root element, with
each repeat instance numbered from 1 on the repeat's own step — ``/survey/q1``,
``/survey/grp/q2``, ``/survey/members[2]/role``.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from .xlsform import FormSession, load_instrument
from .xlsform.model import QUESTION, REPEAT, Instrument, Item

_STEP = re.compile(r"^([^\[\]]+)(?:\[(\d+)\])?$")

# ``Interview.resume_at`` value for "every question has been offered": go to the end.
END = "#end"

_cache: dict[str, Instrument] = {}
_cache_lock = threading.Lock()


def instrument_from_bytes(file_name: str, data: bytes) -> Instrument:
    """Read a stored form file; the same bytes are parsed once per process."""
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest}:{Path(file_name).suffix.lower()}"
    with _cache_lock:
        found = _cache.get(key)
    if found is not None:
        return found
    suffix = Path(file_name).suffix.lower() or ".xlsx"
    with tempfile.TemporaryDirectory(prefix="triangulum-form-") as folder:
        path = Path(folder) / f"{Path(file_name).stem or 'form'}{suffix}"
        path.write_bytes(data)
        instrument = load_instrument(path)
    instrument.source = file_name
    with _cache_lock:
        _cache[key] = instrument
    return instrument


_by_version: dict[tuple, Instrument] = {}


def instrument_for_version(
    key: tuple, file_name: str, read_bytes: Callable[[], bytes]
) -> Instrument:
    """The parsed form of a stored version, without re-reading its bytes once parsed.

    ``key`` names the stored version and its content (its id and SHA-256): a version's
    bytes never change, so the bytes are fetched (``read_bytes``) and hashed only the
    first time a process meets the version, not on every question page.
    """
    with _cache_lock:
        found = _by_version.get(key)
    if found is None:
        found = instrument_from_bytes(file_name, read_bytes())
        with _cache_lock:
            _by_version[key] = found
    return found


def item_path(instrument: Instrument, item: Item, indices: tuple[int, ...] = ()) -> str:
    steps = [instrument.root_name]
    depth = 0
    node_chain = [*item.ancestors(), item]
    for node in node_chain:
        step = node.name
        if node.kind == REPEAT and depth < len(indices):
            step += f"[{indices[depth] + 1}]"
            depth += 1
        steps.append(step)
    return "/" + "/".join(steps)


def parse_item_path(instrument: Instrument, path: str) -> tuple[Item, tuple[int, ...]]:
    """The item and repeat indices (0-based) a stored path names; KeyError if none."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != instrument.root_name:
        raise KeyError(f"{path!r} is not a path in form {instrument.form_id!r}")
    names, indices = [], []
    for part in parts[1:]:
        match = _STEP.match(part)
        if not match:
            raise KeyError(f"{path!r}: malformed step {part!r}")
        names.append(match.group(1))
        if match.group(2):
            indices.append(int(match.group(2)) - 1)
    item = instrument.item("/".join(names))
    return item, tuple(indices)


def build_session(
    instrument: Instrument, stored: dict[str, str], *, clock: Callable | None = None
) -> FormSession:
    """A session holding the stored answers (paths the form does not know are ignored)."""
    session = FormSession(instrument, clock=clock)
    for path, value in stored.items():
        try:
            item, indices = parse_item_path(instrument, path)
        except KeyError:
            continue
        chain = item.repeat_ancestors()
        for depth, repeat in enumerate(chain[: len(indices)]):
            parent = tuple(indices[:depth])
            if "repeat_count" not in repeat.compiled:
                key = (repeat.key, parent)
                session.counts[key] = max(session.counts.get(key, 0), indices[depth] + 1)
        if value not in (None, ""):
            session.answers[(item.key, indices)] = str(value)
            session._defaults_applied.add((item.key, indices))
    session.refresh()
    return session


def steps(session: FormSession) -> list[tuple[Item, tuple[int, ...]]]:
    """The questions that apply now, in order (worked out once per state of the answers)."""
    state = (tuple(sorted(session.answers.items())), tuple(sorted(session.counts.items())))
    cached = getattr(session, "_runner_steps", None)
    if cached is None or cached[0] != state:
        listed = list(session.questions())
        paths = [item_path(session.instrument, item, indices) for item, indices in listed]
        cached = (state, listed, paths)
        session._runner_steps = cached
    return cached[1]


def _paths(session: FormSession) -> list[str]:
    steps(session)
    return session._runner_steps[2]


def stored_paths(session: FormSession) -> dict[str, str]:
    """Every question answer the session holds, keyed by item path."""
    out = {}
    for (key, indices), value in session.answers.items():
        item = session.instrument.item(key)
        if item.kind == QUESTION and value != "":
            out[item_path(session.instrument, item, indices)] = value
    return out


def position(session: FormSession, path: str) -> int | None:
    paths = _paths(session)
    return paths.index(path) if path in paths else None


def step_after(session: FormSession, path: str) -> str | None:
    listed = _paths(session)
    if path in listed:
        index = listed.index(path)
        return listed[index + 1] if index + 1 < len(listed) else None
    return first_unanswered(session)


def step_before(session: FormSession, path: str | None) -> str | None:
    listed = _paths(session)
    if path is None:
        return listed[-1] if listed else None
    if path in listed:
        index = listed.index(path)
        return listed[index - 1] if index > 0 else None
    return None


def first_unanswered(session: FormSession) -> str | None:
    for (item, indices), path in zip(steps(session), _paths(session), strict=True):
        if session.answers.get((item.key, indices), "") == "":
            return path
    return None


def resume_point(session: FormSession, resume_at: str) -> str | None:
    """Where to carry on: the saved resume point if it still applies, else the first gap."""
    if resume_at == END:
        return None
    if resume_at and position(session, resume_at) is not None:
        return resume_at
    return first_unanswered(session)


def applicable_and_answered(session: FormSession) -> tuple[int, int]:
    listed = steps(session)
    answered = sum(1 for i, ix in listed if session.answers.get((i.key, ix), "") != "")
    return len(listed), answered
