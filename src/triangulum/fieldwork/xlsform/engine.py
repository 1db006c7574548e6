"""Fill in an instrument: answers per repeat instance, with ODK's logic applied.

Rules (ODK semantics): a group's or repeat's relevance applies to everything inside
it; an answer whose item stops being relevant is cleared; ``required`` holds only
while the item is relevant; a constraint is checked only on a non-empty answer;
calculates are recomputed whenever anything changes. Values are stored as the
strings an XForm instance holds (a select_multiple as space-separated choice names,
a date as YYYY-MM-DD). Pure Python, no Django, so a console or web form can use it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from . import checks
from .expressions import (
    NodeSet,
    Path,
    Ref,
    evaluate,
    format_number,
    to_bool,
    to_number,
    to_string,
    uses_function,
)
from .model import CALCULATE, GROUP, METADATA, NOTE, QUESTION, REPEAT, Choice, Instrument, Item

MAX_REPEAT_INSTANCES = 500
_LABEL_REFERENCE = re.compile(r"\$\{([^{}\s]+)\}")
_INTEGER = re.compile(r"-?\d+$")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


class AnswerRejected(ValueError):
    """An answer the form does not accept; ``message`` is fit to show the respondent."""

    def __init__(self, item: Item, message: str):
        super().__init__(f"{item.name}: {message}")
        self.item = item
        self.message = message


@dataclass(frozen=True)
class Issue:
    """Something wrong in a session's current answers."""

    item: Item
    instance: tuple[int, ...]
    message: str


class _Context:
    """The evaluation context of one node (item + repeat instance indices)."""

    def __init__(self, session: FormSession, item: Item, indices: tuple[int, ...], choice=None):
        self.session = session
        self.item = item
        self.indices = indices
        self.choice = choice

    def current(self):
        return self.session._typed(self.item, self.indices)

    def _nodes_value(self, target: Item):
        session = self.session
        nodes = session._nodes_for(target, self.item, self.indices)
        if target.kind == REPEAT:
            chain = target.repeat_ancestors()
            if len(nodes) == 1 and len(self.indices) >= len(chain):
                return ""
            return NodeSet(["" for _ in nodes])
        if len(nodes) == 1 and not session._spans_repeat(target, self.item, self.indices):
            return session._typed(target, nodes[0])
        return NodeSet([session._typed(target, n) for n in nodes])

    def resolve_ref(self, ref: Ref):
        target = self.session._resolve_ref(self.item, ref.name)
        if target is None:
            return ""
        return self._nodes_value(target)

    def resolve_path(self, path: Path):
        if self.choice is not None and not path.absolute and len(path.steps) == 1:
            step = path.steps[0]
            if step == "name":
                return self.choice.name
            if step == "label":
                return self.choice.label()
            return self.choice.columns.get(step, "")
        target = checks.resolve_path(self.session.instrument, self.item, path)
        if target is None:
            return ""
        return self._nodes_value(target)

    def position(self, path: Path | None) -> int:
        chain = self.item.repeat_ancestors()[: len(self.indices)]
        if not chain:
            return 1
        if path is None:
            return self.indices[len(chain) - 1] + 1
        target = checks.resolve_path(self.session.instrument, self.item, path)
        for depth, repeat in enumerate(chain):
            if target is repeat:
                return self.indices[depth] + 1
        return self.indices[len(chain) - 1] + 1

    def choice_label(self, value: str, reference) -> str:
        target = self._target_of(reference)
        if target is None:
            return ""
        for choice in target.choices:
            if choice.name == value:
                return choice.label(self.session.language)
        return ""

    def _target_of(self, node) -> Item | None:
        if isinstance(node, Ref):
            return self.session._resolve_ref(self.item, node.name)
        if isinstance(node, Path):
            return checks.resolve_path(self.session.instrument, self.item, node)
        text = to_string(evaluate(node, self))
        name = text.rsplit("/", 1)[-1].strip()
        return self.session._resolve_ref(self.item, name.strip("${}"))

    def indexed_repeat(self, target_node, pairs):
        target = self._target_of(target_node)
        if target is None:
            return ""
        chain = target.repeat_ancestors()
        wanted = {}
        for repeat_node, index in pairs:
            repeat = self._target_of(repeat_node)
            if repeat is not None:
                wanted[repeat.key] = index - 1
        own = self.item.repeat_ancestors()[: len(self.indices)]
        indices = []
        for depth, repeat in enumerate(chain):
            if repeat.key in wanted:
                indices.append(wanted[repeat.key])
            elif depth < len(own) and own[depth] is repeat:
                indices.append(self.indices[depth])
            else:
                return ""
        if not self.session._exists(target, tuple(indices)):
            return ""
        return self.session._typed(target, tuple(indices))

    def now(self) -> dt.datetime:
        return self.session.clock()


class FormSession:
    """One filling-in of an instrument."""

    def __init__(
        self,
        instrument: Instrument,
        *,
        clock=None,
        properties: dict[str, str] | None = None,
        language: str | None = None,
    ):
        self.instrument = instrument
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))
        self.language = language or instrument.default_language
        self.properties = dict(properties or {})
        self.answers: dict[tuple[str, tuple[int, ...]], str] = {}
        self.counts: dict[tuple[str, tuple[int, ...]], int] = {}
        self._defaults_applied: set[tuple[str, tuple[int, ...]]] = set()
        self._ref_cache: dict[tuple[str, str], Item | None] = {}
        self._items = list(instrument.walk())
        self._fill_metadata()
        self.refresh()

    # ------------------------------------------------------------------ structure

    def nodes(self) -> Iterator[tuple[Item, tuple[int, ...]]]:
        """Every node (item, repeat instance indices) in document order."""

        def visit(items, indices):
            for item in items:
                if item.kind == REPEAT:
                    for i in range(self.counts.get((item.key, indices), 0)):
                        instance = (*indices, i)
                        yield item, instance
                        yield from visit(item.children, instance)
                else:
                    yield item, indices
                    yield from visit(item.children, indices)

        yield from visit(self.instrument.items, ())

    def instances(self, key: str, parent: tuple[int, ...] = ()) -> int:
        return self.counts.get((self.instrument.item(key).key, tuple(parent)), 0)

    def _exists(self, item: Item, indices: tuple[int, ...]) -> bool:
        chain = item.repeat_ancestors()
        if len(indices) != len(chain):
            return False
        for depth, repeat in enumerate(chain):
            if not 0 <= indices[depth] < self.counts.get((repeat.key, indices[:depth]), 0):
                return False
        return True

    def _resolve_ref(self, context: Item, name: str) -> Item | None:
        key = (context.key, name)
        if key not in self._ref_cache:
            self._ref_cache[key] = checks.resolve_ref(self.instrument, context, name)
        return self._ref_cache[key]

    def _shared_depth(self, target: Item, context: Item, indices) -> int:
        own = context.repeat_ancestors()[: len(indices)]
        shared = 0
        for a, b in zip(target.repeat_ancestors(), own, strict=False):
            if a is not b:
                break
            shared += 1
        return shared

    def _spans_repeat(self, target: Item, context: Item, indices) -> bool:
        return self._shared_depth(target, context, indices) < len(target.repeat_ancestors())

    def _nodes_for(self, target: Item, context: Item, indices) -> list[tuple[int, ...]]:
        chain = target.repeat_ancestors()
        shared = self._shared_depth(target, context, indices)
        found = [tuple(indices[:shared])]
        for depth in range(shared, len(chain)):
            grown = []
            for prefix in found:
                count = self.counts.get((chain[depth].key, prefix), 0)
                grown.extend((*prefix, i) for i in range(count))
            found = grown
        return found

    def _typed(self, item: Item, indices: tuple[int, ...]):
        if item.kind in (GROUP, REPEAT):
            return ""
        text = self.answers.get((item.key, indices), "")
        if text == "":
            return ""
        if item.type in ("integer", "decimal", "range"):
            number = to_number(text)
            return text if math.isnan(number) else number
        if item.type in ("date", "today"):
            try:
                return dt.date.fromisoformat(text[:10])
            except ValueError:
                return text
        if item.type in ("datetime", "start", "end"):
            try:
                return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return text
        return text

    # ------------------------------------------------------------------ evaluation

    def _context(self, item, indices, choice=None) -> _Context:
        return _Context(self, item, tuple(indices), choice)

    def _holds(self, item: Item, attribute: str, indices) -> bool:
        ast = item.compiled.get(attribute)
        if ast is None:
            return False
        return to_bool(evaluate(ast, self._context(item, indices)))

    def _parent_node(self, item: Item, indices):
        parent = item.parent
        if parent is None:
            return None
        depth = len(parent.repeat_ancestors())
        return parent, tuple(indices[:depth])

    def is_relevant(self, key: str, instance=()) -> bool:
        item = self.instrument.item(key)
        return self._relevant(item, tuple(instance), {})

    def _relevant(self, item: Item, indices, cache) -> bool:
        node = (item.key, indices)
        if node in cache:
            return cache[node]
        parent = self._parent_node(item, indices)
        result = True
        if parent is not None and not self._relevant(parent[0], parent[1], cache):
            result = False
        elif "relevant" in item.compiled:
            result = self._holds(item, "relevant", indices)
        cache[node] = result
        return result

    def is_required(self, key: str, instance=()) -> bool:
        item = self.instrument.item(key)
        indices = tuple(instance)
        return self._relevant(item, indices, {}) and self._holds(item, "required", indices)

    def is_readonly(self, key: str, instance=()) -> bool:
        item = self.instrument.item(key)
        if item.kind != QUESTION:
            return True
        return self._holds(item, "readonly", tuple(instance))

    def value(self, key: str, instance=()) -> str:
        item = self.instrument.item(key)
        return self.answers.get((item.key, tuple(instance)), "")

    def choices_for(self, key: str, instance=()) -> list[Choice]:
        item = self.instrument.item(key)
        return self._choices(item, tuple(instance))

    def _choices(self, item: Item, indices) -> list[Choice]:
        ast = item.compiled.get("choice_filter")
        if ast is None:
            return list(item.choices)
        return [
            choice
            for choice in item.choices
            if to_bool(evaluate(ast, self._context(item, indices, choice)))
        ]

    def label(self, key: str, instance=(), language: str | None = None) -> str:
        """The item's label in a language, with ``${name}`` replaced by current values."""
        item = self.instrument.item(key)
        text = item.label(language or self.language)
        context = self._context(item, tuple(instance))

        def substitute(match):
            return to_string(context.resolve_ref(Ref(match.group(1))))

        return _LABEL_REFERENCE.sub(substitute, text)

    def constraint_message(self, item: Item) -> str:
        from .model import pick_text

        text = pick_text(item.constraint_message, self.language)
        return text or f"the answer does not satisfy the constraint {item.constraint!r}"

    # ------------------------------------------------------------------ changes

    def _fill_metadata(self) -> None:
        now = self.clock()
        for item in self._items:
            if item.kind != METADATA or item.repeat_ancestors():
                continue
            node = (item.key, ())
            if item.preload in ("start", "timestamp"):
                self.answers[node] = now.isoformat(timespec="milliseconds")
            elif item.preload == "today":
                self.answers[node] = now.date().isoformat()
            elif item.preload == "uid":
                self.answers[node] = f"uuid:{uuid.uuid4()}"
            elif item.preload and item.preload != "end":
                self.answers[node] = self.properties.get(item.preload, "")

    def finish(self) -> None:
        """Stamp ``end`` metadata (ODK sets it when the form is finalised)."""
        now = self.clock().isoformat(timespec="milliseconds")
        for item in self._items:
            if item.kind == METADATA and item.preload == "end" and not item.repeat_ancestors():
                self.answers[(item.key, ())] = now

    def refresh(self) -> None:
        """Apply repeat counts, relevance, defaults and calculates until nothing changes."""
        for _ in range(len(self._items) * 2 + 10):
            if not self._refresh_pass():
                return
        raise RuntimeError("the form's logic does not settle (calculations keep changing)")

    def _refresh_pass(self) -> bool:
        changed = False
        cache: dict = {}
        for item, indices in list(self.nodes()):
            if not self._exists(item, indices):
                continue  # dropped earlier in this pass by a shrinking repeat count
            node = (item.key, indices)
            relevant = self._relevant(item, indices, cache)
            for child in item.children:
                if child.kind == REPEAT and "repeat_count" in child.compiled:
                    changed |= self._apply_repeat_count(child, indices, relevant)
            if item.kind in (GROUP, REPEAT):
                continue
            if not relevant:
                if node in self.answers and item.kind != METADATA:
                    del self.answers[node]
                    changed = True
                self._defaults_applied.discard(node)
                continue
            if item.kind in (CALCULATE, METADATA) and "calculation" in item.compiled:
                if node in self.answers and _is_volatile(item.compiled["calculation"]):
                    continue  # uuid()/random()/now() keep their first value, as in ODK
                value = evaluate(item.compiled["calculation"], self._context(item, indices))
                text = to_string(value)
                if self.answers.get(node, "") != text:
                    if text == "":
                        self.answers.pop(node, None)
                    else:
                        self.answers[node] = text
                    changed = True
            elif node not in self._defaults_applied and item.default is not None:
                self._defaults_applied.add(node)
                if self.answers.get(node, "") == "":
                    default = self._default_value(item, indices)
                    if default:
                        self.answers[node] = default
                        changed = True
        changed |= self._top_level_repeat_counts()
        return changed

    def _top_level_repeat_counts(self) -> bool:
        changed = False
        for item in self.instrument.items:
            if item.kind == REPEAT and "repeat_count" in item.compiled:
                changed |= self._apply_repeat_count(item, (), True)
        return changed

    def _apply_repeat_count(self, repeat: Item, parent_indices, parent_relevant: bool) -> bool:
        wanted = 0
        if parent_relevant:
            number = to_number(
                evaluate(repeat.compiled["repeat_count"], self._context(repeat, parent_indices))
            )
            if not math.isnan(number) and number > 0:
                wanted = min(int(number), MAX_REPEAT_INSTANCES)
        return self._resize(repeat, tuple(parent_indices), wanted)

    def _resize(self, repeat: Item, parent_indices, wanted: int) -> bool:
        key = (repeat.key, parent_indices)
        current = self.counts.get(key, 0)
        if current == wanted:
            return False
        if wanted < current:
            for index in range(wanted, current):
                self._drop_instance(repeat, (*parent_indices, index))
        self.counts[key] = wanted
        return True

    def _drop_instance(self, repeat: Item, instance: tuple[int, ...]) -> None:
        depth = len(instance)
        inside = {item.key for item in self._items if repeat in item.ancestors() or item is repeat}
        for store in (self.answers, self.counts):
            for node in [n for n in store if n[0] in inside and n[1][:depth] == instance]:
                del store[node]
        self._defaults_applied = {
            n for n in self._defaults_applied if not (n[0] in inside and n[1][:depth] == instance)
        }

    def _default_value(self, item: Item, indices) -> str:
        if "default" in item.compiled:
            return to_string(evaluate(item.compiled["default"], self._context(item, indices)))
        return item.default or ""

    def add_repeat(self, key: str, parent: tuple[int, ...] = ()) -> tuple[int, ...]:
        """Add an instance to a repeat that the interviewer drives (no repeat_count)."""
        repeat = self.instrument.item(key)
        if repeat.kind != REPEAT:
            raise ValueError(f"{repeat.name!r} is not a repeat")
        if "repeat_count" in repeat.compiled:
            raise ValueError(
                f"the repeat {repeat.name!r} has a fixed count ({repeat.repeat_count})"
            )
        parent = tuple(parent)
        count = self.counts.get((repeat.key, parent), 0)
        self.counts[(repeat.key, parent)] = count + 1
        self.refresh()
        return (*parent, count)

    def remove_repeat(self, key: str, instance: tuple[int, ...]) -> None:
        """Remove the last instance (removing from the middle would renumber answers)."""
        repeat = self.instrument.item(key)
        parent = tuple(instance[:-1])
        count = self.counts.get((repeat.key, parent), 0)
        if count == 0 or instance[-1] != count - 1:
            raise ValueError("only the last instance of a repeat can be removed")
        self._resize(repeat, parent, count - 1)
        self.refresh()

    def set_answer(self, key: str, value, instance=()) -> None:
        """Record an answer, or raise ``AnswerRejected`` leaving the session unchanged."""
        item = self.instrument.item(key)
        indices = tuple(instance)
        if not self._exists(item, indices):
            raise AnswerRejected(item, f"there is no instance {indices} of this item")
        if item.kind != QUESTION:
            raise AnswerRejected(item, f"a {item.type} is not answered by the respondent")
        if not self._relevant(item, indices, {}):
            raise AnswerRejected(item, "this question is not relevant now")
        if self._holds(item, "readonly", indices):
            raise AnswerRejected(item, "this question is read-only")
        text = normalise_answer(value)
        node = (item.key, indices)
        if text:
            problem = self.type_problem(item, indices, text)
            if problem:
                raise AnswerRejected(item, problem)
        saved = (dict(self.answers), dict(self.counts), set(self._defaults_applied))
        if text:
            self.answers[node] = text
        else:
            self.answers.pop(node, None)
        self._defaults_applied.add(node)
        try:
            self.refresh()
            if (
                text
                and "constraint" in item.compiled
                and not self._holds(item, "constraint", indices)
            ):
                raise AnswerRejected(item, self.constraint_message(item))
        except AnswerRejected:
            self.answers, self.counts, self._defaults_applied = saved
            raise

    def clear_answer(self, key: str, instance=()) -> None:
        self.set_answer(key, "", instance)

    # ------------------------------------------------------------------ checks

    def type_problem(self, item: Item, indices, text: str) -> str | None:  # noqa: PLR0911
        kind = item.type
        if kind == "integer":
            return None if _INTEGER.match(text) else "enter a whole number"
        if kind == "decimal":
            number = to_number(text)
            return None if math.isfinite(number) else "enter a number"
        if kind == "range":
            return _range_problem(item, text)
        if kind == "date":
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                return "enter a date as YYYY-MM-DD"
            return None
        if kind == "time":
            return None if _TIME.match(text) else "enter a time as HH:MM"
        if kind == "datetime":
            try:
                dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return "enter a date and time as YYYY-MM-DDTHH:MM"
            return None
        if kind in ("select_one", "select_multiple", "rank"):
            allowed = {c.name for c in self._choices(item, indices)}
            chosen = text.split()
            if kind == "select_one" and len(chosen) != 1:
                return "choose exactly one option"
            if len(set(chosen)) != len(chosen):
                return "an option is chosen twice"
            unknown = [c for c in chosen if c not in allowed]
            if unknown:
                return f"{', '.join(unknown)} is not one of the options offered here"
            if kind == "rank" and set(chosen) != allowed:
                return "rank every option"
            return None
        if kind == "geopoint":
            return _geopoint_problem(text)
        if kind == "acknowledge":
            return None if text == "OK" else "acknowledge with OK"
        return None

    def issues(self) -> list[Issue]:
        """Everything that stops the current answers from being complete and valid."""
        found = []
        cache: dict = {}
        for item, indices in self.nodes():
            if item.kind in (GROUP, REPEAT):
                continue
            node = (item.key, indices)
            text = self.answers.get(node, "")
            relevant = self._relevant(item, indices, cache)
            if not relevant:
                if text and item.kind != METADATA:
                    found.append(Issue(item, indices, "answered although not relevant"))
                continue
            if item.kind != QUESTION:
                continue
            if not text:
                if self._holds(item, "required", indices):
                    found.append(Issue(item, indices, "required but not answered"))
                continue
            problem = self.type_problem(item, indices, text)
            if problem:
                found.append(Issue(item, indices, problem))
            if "constraint" in item.compiled and not self._holds(item, "constraint", indices):
                found.append(Issue(item, indices, self.constraint_message(item)))
        return found

    def questions(self) -> Iterator[tuple[Item, tuple[int, ...]]]:
        """The questions that can be answered now: relevant, not read-only, in order."""
        for item, indices in list(self.nodes()):
            if item.kind != QUESTION or not self._exists(item, indices):
                continue
            if self._relevant(item, indices, {}) and not self._holds(item, "readonly", indices):
                yield item, indices

    def to_dict(self) -> dict[str, str]:
        """Answers keyed ``path`` or ``path[i][j]`` for repeat instances (1-based)."""
        out = {}
        for item, indices in self.nodes():
            text = self.answers.get((item.key, indices), "")
            if text and item.kind not in (GROUP, REPEAT, NOTE):
                suffix = "".join(f"[{i + 1}]" for i in indices)
                out[f"{item.key}{suffix}"] = text
        return out


def _is_volatile(ast) -> bool:
    return any(uses_function(ast, name) for name in ("uuid", "random", "now", "today"))


def normalise_answer(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(float(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _range_problem(item: Item, text: str) -> str | None:
    start, end, step = checks.range_bounds(item)
    number = to_number(text)
    if not math.isfinite(number):
        return "enter a number"
    low, high = min(start, end), max(start, end)
    if not low <= number <= high:
        return f"enter a value from {format_number(low)} to {format_number(high)}"
    steps = (number - start) / step
    if abs(steps - round(steps)) > 1e-9:
        return f"enter a value in steps of {format_number(abs(step))}"
    return None


def _geopoint_problem(text: str) -> str | None:
    parts = text.split()
    if not 2 <= len(parts) <= 4:
        return "enter latitude and longitude (and optionally altitude and accuracy)"
    numbers = [to_number(p) for p in parts]
    if any(math.isnan(n) for n in numbers):
        return "a location is made of numbers"
    if not -90 <= numbers[0] <= 90 or not -180 <= numbers[1] <= 180:
        return "latitude must lie in -90..90 and longitude in -180..180"
    return None
