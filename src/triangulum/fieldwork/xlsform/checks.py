"""Checks pyxform does not make: every expression parses, names resolve, calculates
do not depend on themselves, range parameters make sense, no text is silently lost.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

from .expressions import ExpressionError, Path, Ref, parse, references
from .model import CALCULATE, GROUP, REPEAT, Instrument, Item, Problem

# A default is a fixed value unless it refers to a field or calls a function.
_DYNAMIC_DEFAULT = re.compile(r"\$\{|^\s*[\w:-]+\(")


def is_dynamic_default(text: str) -> bool:
    return bool(_DYNAMIC_DEFAULT.search(text))


def resolve_ref(instrument: Instrument, context: Item, name: str) -> Item | None:
    """The item a ``${name}`` means: the one nearest the context if names repeat."""
    candidates = [item for item in instrument.walk() if item.name == name]
    if not candidates:
        return None

    def shared(item: Item) -> int:
        count = 0
        for a, b in zip(item.path, context.path, strict=False):
            if a != b:
                break
            count += 1
        return count

    return max(candidates, key=shared)


def resolve_path(instrument: Instrument, context: Item, path: Path) -> Item | None:
    """The item a path (``../x``, ``/root/group/x``) names, or None."""
    if path.absolute:
        steps = list(path.steps)
        if not steps:
            return None
        steps = steps[1:]  # the instance root
        node = None
        children = instrument.items
    else:
        steps = list(path.steps)
        node = context
        children = context.children
    for step in steps:
        if step == ".":
            continue
        if step == "..":
            if node is None:
                return None
            node = node.parent
            children = node.children if node is not None else instrument.items
            continue
        match = next((child for child in children if child.name == step), None)
        if match is None:
            return None
        node = match
        children = match.children
    return node


def expressions_of(item: Item) -> dict[str, str]:
    found = {}
    for attribute in (
        "relevant",
        "required",
        "readonly",
        "constraint",
        "calculation",
        "choice_filter",
        "repeat_count",
    ):
        value = getattr(item, attribute)
        if value is not None and str(value).strip():
            found[attribute] = str(value)
    if item.default is not None and is_dynamic_default(item.default):
        found["default"] = item.default
    return found


def check_instrument(instrument: Instrument) -> list[Problem]:
    problems: list[Problem] = []
    items = list(instrument.walk())
    for item in items:
        problems.extend(_compile(instrument, item))
        problems.extend(_check_item_shape(item))
    problems.extend(_check_calculation_cycles(instrument, items))
    return problems


def _compile(instrument: Instrument, item: Item) -> list[Problem]:
    problems = []
    for attribute, text in expressions_of(item).items():
        column = item.column_for(attribute)
        try:
            ast = parse(text)
        except ExpressionError as err:
            problems.append(Problem(f"{err} in {text!r}", item.place, column))
            continue
        for reference in references(ast):
            if attribute == "choice_filter" and isinstance(reference, Path):
                if not reference.absolute and len(reference.steps) == 1:
                    continue  # a column of the choices sheet
            target = (
                resolve_ref(instrument, item, reference.name)
                if isinstance(reference, Ref)
                else resolve_path(instrument, item, reference)
            )
            if target is None:
                shown = (
                    f"${{{reference.name}}}"
                    if isinstance(reference, Ref)
                    else ("/" if reference.absolute else "") + "/".join(reference.steps)
                )
                problems.append(
                    Problem(f"{shown} names no item of the form, in {text!r}", item.place, column)
                )
        item.compiled[attribute] = ast
    return problems


def _check_item_shape(item: Item) -> list[Problem]:
    problems = []
    if item.kind in (GROUP, REPEAT) and item.hints:
        # XForms groups carry no hint: pyxform drops it, so respondents would
        # never see text that the instrument's author wrote for them.
        problems.append(
            Problem(
                f"the {item.type} {item.name!r} has a hint, which a {item.type} cannot show; "
                "the text would be lost (put it in a note inside the group)",
                item.place,
                item.column_for("hint"),
            )
        )
    if item.type == "range":
        problems.extend(_check_range(item))
    if item.type in ("select_one", "select_multiple", "rank") and not item.choices:
        if not (item.name.startswith("reserved_name_for_field_list_labels_")):
            problems.append(
                Problem(
                    f"the select {item.name!r} has no choices (list {item.list_name!r})",
                    item.place,
                    "type",
                )
            )
    return problems


def range_bounds(item: Item) -> tuple[float, float, float]:
    values = []
    for key, fallback in (("start", "1"), ("end", "10"), ("step", "1")):
        text = item.parameters.get(key, fallback)
        try:
            values.append(float(text))
        except ValueError:
            values.append(math.nan)
    return values[0], values[1], values[2]


def _check_range(item: Item) -> list[Problem]:
    start, end, step = range_bounds(item)
    column = item.column_for("parameters")
    where = item.place
    if any(math.isnan(v) for v in (start, end, step)):
        return [Problem("range start, end and step must be numbers", where, column)]
    if step == 0:
        return [Problem("a range step of 0 never moves", where, column)]
    if start == end:
        return [Problem("a range whose start equals its end offers one value only", where, column)]
    steps = (end - start) / step
    if steps < 0:
        return [Problem("the range step points away from its end", where, column)]
    if abs(steps - round(steps)) > 1e-9:
        return [
            Problem("the range from start to end is not a whole number of steps", where, column)
        ]
    return []


def calculation_dependencies(instrument: Instrument, items: list[Item]) -> dict[str, set[str]]:
    """For each calculate, the calculates its calculation reads (by item key)."""
    calculates = {item.key: item for item in items if item.kind == CALCULATE}
    graph: dict[str, set[str]] = defaultdict(set)
    for key, item in calculates.items():
        ast = item.compiled.get("calculation")
        if ast is None:
            continue
        for reference in references(ast):
            target = (
                resolve_ref(instrument, item, reference.name)
                if isinstance(reference, Ref)
                else resolve_path(instrument, item, reference)
            )
            if target is not None and target.key in calculates:
                graph[key].add(target.key)
        graph.setdefault(key, set())
    return graph


def calculation_order(graph: dict[str, set[str]]) -> tuple[list[str], list[list[str]]]:
    """Calculates in an order where inputs come first, and any cycles found."""
    order: list[str] = []
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(key: str, trail: list[str]):
        mark = state.get(key)
        if mark == 2:
            return
        if mark == 1:
            cycles.append(trail[trail.index(key) :] + [key])
            return
        state[key] = 1
        for dependency in sorted(graph.get(key, ())):
            visit(dependency, [*trail, key])
        state[key] = 2
        order.append(key)

    for key in sorted(graph):
        visit(key, [])
    return order, cycles


def _check_calculation_cycles(instrument: Instrument, items: list[Item]) -> list[Problem]:
    graph = calculation_dependencies(instrument, items)
    _, cycles = calculation_order(graph)
    by_key = {item.key: item for item in items}
    problems = []
    for cycle in cycles:
        first = by_key[cycle[0]]
        names = " → ".join(by_key[key].name for key in cycle)
        problems.append(
            Problem(
                f"calculations depend on each other in a cycle: {names}",
                first.place,
                first.column_for("calculation"),
            )
        )
    return problems
