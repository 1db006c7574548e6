"""The XPath-subset parser and evaluator, on plain values."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from triangulum.fieldwork.xlsform.expressions import (
    Binary,
    ExpressionError,
    NodeSet,
    Ref,
    evaluate,
    parse,
    references,
    to_string,
)


class Values:
    """A context with named values; '.' is ``current``."""

    def __init__(self, current="", **values):
        self.values = values
        self._current = current

    def current(self):
        return self._current

    def resolve_ref(self, ref):
        return self.values[ref.name]

    def resolve_path(self, path):
        return self.values["/".join(path.steps)]

    def position(self, path):
        return 3

    def choice_label(self, value, reference):
        return {"m": "Male", "f": "Female"}.get(value, "")

    def indexed_repeat(self, target, pairs):
        return "indexed"

    def now(self):
        return dt.datetime(2025, 3, 14, 9, 30)


def ev(text, current="", **values):
    return evaluate(parse(text), Values(current, **values))


def test_precedence_follows_xpath():
    assert ev("1 + 2 * 3") == 7
    assert ev("(1 + 2) * 3") == 9
    assert ev("7 mod 3 + 10 div 4") == 3.5
    assert ev("-2 * -3") == 6
    assert ev("1 < 2 and 3 > 4 or 5 = 5") is True
    tree = parse("${a} = 1 or ${b} = 2 and ${c} = 3")
    assert isinstance(tree, Binary) and tree.op == "or"


def test_empty_answers_compare_like_odk():
    # An unanswered number is NaN in comparisons: neither >= 18 nor < 18.
    assert ev("${age} >= 18", age="") is False
    assert ev("${age} < 18", age="") is False
    assert ev("${consent} = ''", consent="") is True
    assert ev("not(${consent} = '') and ${age} > 0", consent="yes", age=30.0) is True


def test_comparisons_convert_types():
    assert ev("${x} = 5", x="5") is True
    assert ev("${x} = '5.0'", x="5") is False  # two strings compare as strings
    assert ev(". >= 5 and . <= 100", current="42") is True  # text answer, numeric test
    assert ev("${d} < today()", d=dt.date(2024, 1, 1)) is True
    assert ev("${d} > '2023-12-31'", d=dt.date(2024, 1, 1)) is True


def test_node_sets_compare_existentially_and_aggregate():
    people = NodeSet([30.0, 12.0, 45.0])
    assert ev("${age} < 18", age=people) is True
    assert ev("count(${age})", age=people) == 3
    assert ev("sum(${age})", age=people) == 87
    assert ev("max(${age})", age=people) == 45
    assert ev("join(', ', ${age})", age=people) == "30, 12, 45"


def test_select_functions():
    assert ev("selected(${s}, 'b')", s="a b c") is True
    assert ev("selected(${s}, 'd')", s="a b c") is False
    assert ev("count-selected(${s})", s="a b c") == 3
    assert ev("selected-at(${s}, 1)", s="a b c") == "b"
    assert ev("selected-at(${s}, 9)", s="a b c") == ""
    assert ev("jr:choice-name(${g}, '${g}')", g="f") == "Female"


def test_string_functions():
    assert ev("concat('a', 1, true())") == "a1true"
    assert ev("string-length(.)", current="hello") == 5
    assert ev("normalize-space('  a   b ')") == "a b"
    assert ev("substr('abcdef', 1, 3)") == "bc"
    assert ev("substring('abcdef', 2, 3)") == "bcd"
    assert ev("contains('abc', 'b') and starts-with('abc', 'a') and ends-with('abc', 'c')")
    assert ev("translate('abc', 'ab', 'AB')") == "ABc"
    assert ev("coalesce(${a}, 'fallback')", a="") == "fallback"
    assert ev("if(${a} > 18, 'adult', 'minor')", a=20.0) == "adult"


def test_numeric_functions():
    assert ev("int(-3.7)") == -3
    assert ev("round(2.5)") == 3
    assert ev("round(3.14159, 2)") == 3.14
    assert ev("pow(2, 10)") == 1024
    assert math.isnan(ev("number('abc')"))
    assert to_string(ev("10 div 4")) == "2.5"
    assert to_string(ev("2 + 2")) == "4"
    assert to_string(ev("1 div 0")) == "Infinity"


def test_dates():
    assert ev("today()") == dt.date(2025, 3, 14)
    assert ev("format-date(date('2024-02-09'), '%d/%m/%Y')") == "09/02/2024"
    assert ev("decimal-date-time('1970-01-02')") == 1
    assert ev("date(19000)") == dt.date(2022, 1, 8)


def test_regex_reads_java_character_classes():
    email = r"regex(., '^[\w-\.]+@([\w-]+\.)+[\w-]{2,}$')"
    assert ev(email, current="first.last@example.org") is True
    assert ev(email, current="not an email") is False


def test_context_position_and_once():
    assert ev("position(..)") == 3
    assert ev("once(concat('x', 'y'))", current="kept") == "kept"
    assert ev("once(concat('x', 'y'))", current="") == "xy"


def test_references_are_listed():
    found = references(parse("${a} + /data/b - ../c * ."))
    assert [r.name for r in found if isinstance(r, Ref)] == ["a"]
    assert sorted(r.steps for r in found if not isinstance(r, Ref)) == [("..", "c"), ("data", "b")]


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("because pyxform doesn't know", "never closed", 21),
        ("${a} +", "ends where a value was expected", 6),
        ("(1 + 2", "never closed", 0),
        ("1 2", "expected an operator", 2),
        ("pulldata('f', 'c', 'k', ${x})", "pulldata() is not supported", 0),
        ("selected(${a})", "takes 2 argument(s), not 1", 0),
        ("regex(., '[a-')", "regular expression", 0),
        ("${a}[1]", "predicates", 4),
        ("${a", "not closed", 0),
        ("", "empty", 0),
    ],
)
def test_bad_expressions_are_refused_with_a_place(text, fragment, position):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert fragment in caught.value.message
    assert caught.value.position == position
