"""A parser and evaluator for the XPath subset that XLSForm/ODK expressions use.

pyxform checks the shape of a form but never evaluates its expressions, so the
engine needs its own: tokenizer → recursive-descent parser → AST → evaluator.
Nothing here calls ``eval``; an expression can only do what the node classes and
the function table below allow. Value semantics follow XPath 1.0 as ODK applies
them (see docs/adr/0010-xlsform-expression-evaluation.md): a reference to one
field yields that field's value, unpacked to a number or date when the field is
numeric or a date; a reference that spans repeat instances yields a ``NodeSet``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid as uuid_module
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol

EPOCH = dt.date(1970, 1, 1)


class ExpressionError(ValueError):
    """An expression that cannot be parsed or uses something the engine does not know."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at character {self.position + 1})"


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, ref, name, op, lparen, rparen, comma, slash, dslash, lbracket, end
    text: str
    position: int


_NAME_START = re.compile(r"[A-Za-z_\u00C0-\uFFFF]")
_NAME_CHARS = re.compile(r"[A-Za-z0-9_.\-:\u00B7\u00C0-\uFFFF]*")
_NUMBER = re.compile(r"\d+(\.\d*)?|\.\d+")
_REF = re.compile(r"\$\{([^{}\s]+)\}")
_OPERATOR_WORDS = {"and", "or", "div", "mod"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "$":
            match = _REF.match(text, i)
            if not match:
                raise ExpressionError("a '${' reference is not closed or has no name", i)
            tokens.append(Token("ref", match.group(1), i))
            i = match.end()
            continue
        if ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise ExpressionError(f"the string starting with {ch} is never closed", i)
            tokens.append(Token("string", text[i + 1 : end], i))
            i = end + 1
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            match = _NUMBER.match(text, i)
            tokens.append(Token("number", match.group(0), i))
            i = match.end()
            continue
        if text.startswith("..", i):
            tokens.append(Token("name", "..", i))
            i += 2
            continue
        if ch == ".":
            tokens.append(Token("name", ".", i))
            i += 1
            continue
        if text.startswith("//", i):
            tokens.append(Token("dslash", "//", i))
            i += 2
            continue
        two = text[i : i + 2]
        if two in ("!=", "<=", ">="):
            tokens.append(Token("op", two, i))
            i += 2
            continue
        if ch in "=<>+-*|":
            tokens.append(Token("op", ch, i))
            i += 1
            continue
        simple = {"(": "lparen", ")": "rparen", ",": "comma", "/": "slash", "[": "lbracket"}
        if ch in simple:
            tokens.append(Token(simple[ch], ch, i))
            i += 1
            continue
        if ch == "]":
            tokens.append(Token("rbracket", ch, i))
            i += 1
            continue
        if _NAME_START.match(ch):
            match = _NAME_CHARS.match(text, i + 1)
            word = text[i : match.end()]
            # XPath names may contain '.', but a trailing '.' is never part of one.
            word = word.rstrip(".")
            tokens.append(Token("name", word, i))
            i += len(word)
            continue
        raise ExpressionError(f"unexpected character {ch!r}", i)
    tokens.append(Token("end", "", n))
    return tokens


# --------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class String:
    value: str


@dataclass(frozen=True)
class Ref:
    """``${name}``: a field named in the form."""

    name: str
    position: int = 0


@dataclass(frozen=True)
class Path:
    """``.``, ``..``, ``../name``, ``/root/a/b`` or a bare ``name`` (a child step)."""

    absolute: bool
    steps: tuple[str, ...]
    position: int = 0


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple
    position: int = 0


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Negate:
    operand: object


@dataclass(frozen=True)
class FunctionSpec:
    min_args: int
    max_args: int | None  # None: any number


# Functions the evaluator implements, with their arities. Anything else is refused
# when the form is loaded, so a form never fails half-way through an interview.
FUNCTIONS: dict[str, FunctionSpec] = {
    "true": FunctionSpec(0, 0),
    "false": FunctionSpec(0, 0),
    "not": FunctionSpec(1, 1),
    "boolean": FunctionSpec(1, 1),
    "boolean-from-string": FunctionSpec(1, 1),
    "number": FunctionSpec(1, 1),
    "string": FunctionSpec(0, 1),
    "int": FunctionSpec(1, 1),
    "round": FunctionSpec(1, 2),
    "floor": FunctionSpec(1, 1),
    "ceiling": FunctionSpec(1, 1),
    "abs": FunctionSpec(1, 1),
    "pow": FunctionSpec(2, 2),
    "concat": FunctionSpec(0, None),
    "string-length": FunctionSpec(0, 1),
    "normalize-space": FunctionSpec(0, 1),
    "contains": FunctionSpec(2, 2),
    "starts-with": FunctionSpec(2, 2),
    "ends-with": FunctionSpec(2, 2),
    "substr": FunctionSpec(2, 3),
    "substring": FunctionSpec(2, 3),
    "substring-before": FunctionSpec(2, 2),
    "substring-after": FunctionSpec(2, 2),
    "translate": FunctionSpec(3, 3),
    "join": FunctionSpec(2, None),
    "regex": FunctionSpec(2, 2),
    "uuid": FunctionSpec(0, 1),
    "selected": FunctionSpec(2, 2),
    "count-selected": FunctionSpec(1, 1),
    "selected-at": FunctionSpec(2, 2),
    "jr:choice-name": FunctionSpec(2, 2),
    "if": FunctionSpec(3, 3),
    "coalesce": FunctionSpec(2, 2),
    "today": FunctionSpec(0, 0),
    "now": FunctionSpec(0, 0),
    "date": FunctionSpec(1, 1),
    "date-time": FunctionSpec(1, 1),
    "decimal-date-time": FunctionSpec(1, 1),
    "decimal-date": FunctionSpec(1, 1),
    "format-date": FunctionSpec(2, 2),
    "format-date-time": FunctionSpec(2, 2),
    "count": FunctionSpec(1, 1),
    "sum": FunctionSpec(1, 1),
    "max": FunctionSpec(1, None),
    "min": FunctionSpec(1, None),
    "position": FunctionSpec(0, 1),
    "indexed-repeat": FunctionSpec(3, 7),
    "once": FunctionSpec(1, 1),
    "random": FunctionSpec(0, 0),
}


class Parser:
    """Recursive descent over XPath 1.0 precedence: or < and < = != < < <= > >= < + - < * div mod."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_operator_word(self, *words: str) -> bool:
        token = self.token
        return token.kind == "name" and token.text in words

    def parse(self):
        if self.token.kind == "end":
            raise ExpressionError("the expression is empty", 0)
        node = self.parse_or()
        if self.token.kind != "end":
            raise ExpressionError(
                f"expected an operator or the end of the expression, found {self.token.text!r}",
                self.token.position,
            )
        return node

    def parse_or(self):
        node = self.parse_and()
        while self.at_operator_word("or"):
            self.advance()
            node = Binary("or", node, self.parse_and())
        return node

    def parse_and(self):
        node = self.parse_equality()
        while self.at_operator_word("and"):
            self.advance()
            node = Binary("and", node, self.parse_equality())
        return node

    def parse_equality(self):
        node = self.parse_relational()
        while self.token.kind == "op" and self.token.text in ("=", "!="):
            op = self.advance().text
            node = Binary(op, node, self.parse_relational())
        return node

    def parse_relational(self):
        node = self.parse_additive()
        while self.token.kind == "op" and self.token.text in ("<", "<=", ">", ">="):
            op = self.advance().text
            node = Binary(op, node, self.parse_additive())
        return node

    def parse_additive(self):
        node = self.parse_multiplicative()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            op = self.advance().text
            node = Binary(op, node, self.parse_multiplicative())
        return node

    def parse_multiplicative(self):
        node = self.parse_unary()
        while (self.token.kind == "op" and self.token.text == "*") or self.at_operator_word(
            "div", "mod"
        ):
            op = self.advance().text
            node = Binary(op, node, self.parse_unary())
        return node

    def parse_unary(self):
        if self.token.kind == "op" and self.token.text == "-":
            self.advance()
            return Negate(self.parse_unary())
        node = self.parse_primary()
        if self.token.kind == "op" and self.token.text == "|":
            raise ExpressionError("node-set unions ('|') are not supported", self.token.position)
        return node

    def parse_primary(self):
        token = self.token
        if token.kind == "number":
            self.advance()
            return Number(float(token.text))
        if token.kind == "string":
            self.advance()
            return String(token.text)
        if token.kind == "ref":
            self.advance()
            return self.no_predicate(Ref(token.text, token.position))
        if token.kind == "lparen":
            self.advance()
            node = self.parse_or()
            if self.token.kind != "rparen":
                raise ExpressionError("a '(' is never closed", token.position)
            self.advance()
            return node
        if token.kind in ("slash", "dslash"):
            if token.kind == "dslash":
                raise ExpressionError("'//' paths are not supported", token.position)
            self.advance()
            return self.parse_steps(absolute=True, first=None, position=token.position)
        if token.kind == "name":
            if token.text in _OPERATOR_WORDS and token.text not in (".", ".."):
                raise ExpressionError(
                    f"expected a value, found the operator {token.text!r}", token.position
                )
            next_token = self.tokens[self.index + 1]
            if next_token.kind == "lparen" and token.text not in (".", ".."):
                return self.parse_call()
            self.advance()
            return self.parse_steps(absolute=False, first=token.text, position=token.position)
        if token.kind == "end":
            raise ExpressionError("the expression ends where a value was expected", token.position)
        raise ExpressionError(f"expected a value, found {token.text!r}", token.position)

    def parse_steps(self, *, absolute: bool, first: str | None, position: int):
        steps = [first] if first is not None else []
        if absolute or self.token.kind == "slash":
            if not absolute:
                self.advance()
            while True:
                if self.token.kind != "name" or self.token.text in _OPERATOR_WORDS:
                    raise ExpressionError("a path step is missing after '/'", self.token.position)
                steps.append(self.advance().text)
                if self.token.kind != "slash":
                    break
                self.advance()
        return self.no_predicate(Path(absolute, tuple(steps), position))

    def no_predicate(self, node):
        if self.token.kind == "lbracket":
            raise ExpressionError(
                "predicates ('[...]') are not supported; use indexed-repeat() instead",
                self.token.position,
            )
        return node

    def parse_call(self):
        name_token = self.advance()
        name = name_token.text
        self.advance()  # the '('
        args = []
        if self.token.kind != "rparen":
            while True:
                args.append(self.parse_or())
                if self.token.kind == "comma":
                    self.advance()
                    continue
                break
        if self.token.kind != "rparen":
            raise ExpressionError(
                f"expected ',' or ')' in the call to {name}(), found {self.token.text!r}",
                self.token.position,
            )
        self.advance()
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise ExpressionError(
                f"the function {name}() is not supported by Triangulum's form engine",
                name_token.position,
            )
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            expected = (
                str(spec.min_args)
                if spec.min_args == spec.max_args
                else f"{spec.min_args} or more"
                if spec.max_args is None
                else f"{spec.min_args} to {spec.max_args}"
            )
            raise ExpressionError(
                f"{name}() takes {expected} argument(s), not {len(args)}", name_token.position
            )
        if name == "regex" and isinstance(args[1], String):
            try:
                compile_regex(args[1].value)
            except re.error as err:
                raise ExpressionError(
                    f"the regular expression {args[1].value!r} is invalid: {err}",
                    name_token.position,
                ) from err
        return self.no_predicate(Call(name, tuple(args), name_token.position))


def parse(text: str):
    """The AST of ``text``; raises ``ExpressionError`` naming what is wrong and where."""
    return Parser(text).parse()


def walk(node):
    """Every node of an AST, depth first."""
    yield node
    if isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Negate):
        yield from walk(node.operand)


def references(node) -> list[Ref | Path]:
    """The field references in an AST (``${x}`` and paths other than ``.``)."""
    found = []
    for sub in walk(node):
        if isinstance(sub, Ref):
            found.append(sub)
        elif isinstance(sub, Path) and sub.steps != (".",):
            found.append(sub)
    return found


def uses_function(node, name: str) -> bool:
    return any(isinstance(sub, Call) and sub.name == name for sub in walk(node))


# --------------------------------------------------------------------------- values


@dataclass
class NodeSet:
    """Several nodes' values, from a reference that spans repeat instances."""

    values: list = field(default_factory=list)


class EvalContext(Protocol):
    def current(self): ...
    def resolve_ref(self, ref: Ref): ...
    def resolve_path(self, path: Path): ...
    def position(self, path: Path | None) -> int: ...
    def choice_label(self, value: str, reference) -> str: ...
    def indexed_repeat(self, target, pairs: list[tuple[object, int]]): ...
    def now(self) -> dt.datetime: ...


def to_string(value) -> str:
    if isinstance(value, NodeSet):
        return to_string(value.values[0]) if value.values else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return format_number(float(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def format_number(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    text = repr(number)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text


_XPATH_NUMBER = re.compile(r"\s*-?(\d+(\.\d*)?|\.\d+)\s*$")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")


def to_number(value, *, dates_from_strings: bool = False) -> float:
    if isinstance(value, NodeSet):
        return to_number(to_string(value), dates_from_strings=dates_from_strings)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float | int):
        return float(value)
    if isinstance(value, dt.datetime):
        return date_to_days(value)
    if isinstance(value, dt.date):
        return float((value - EPOCH).days)
    if _XPATH_NUMBER.match(value):
        return float(value)
    if dates_from_strings:
        parsed = parse_date_value(value)
        if parsed is not None:
            return to_number(parsed)
    return math.nan


def date_to_days(value: dt.datetime) -> float:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    delta = value - dt.datetime(1970, 1, 1)
    return delta.total_seconds() / 86400.0


def to_bool(value) -> bool:
    if isinstance(value, NodeSet):
        return bool(value.values)
    if isinstance(value, bool):
        return value
    if isinstance(value, float | int):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, dt.date):
        return True
    return len(value) > 0


def parse_date_value(value):
    """A date or datetime from an ODK value string, or None."""
    if isinstance(value, dt.date):
        return value
    text = to_string(value).strip()
    if _ISO_DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def to_date(value):
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float | int) and not isinstance(value, bool):
        if math.isnan(value):
            return None
        return EPOCH + dt.timedelta(days=math.floor(value))
    parsed = parse_date_value(value)
    return parsed


def compile_regex(pattern: str) -> re.Pattern:
    """Compile an ODK (Java) regular expression with Python's ``re``.

    Java reads a '-' next to a class escape such as ``\\w`` inside ``[...]`` as a
    literal hyphen, where Python refuses it as a bad range; escaping that hyphen
    keeps the Java meaning.
    """
    translated = re.sub(r"(?<=\\[wdsWDS])-(?!\])", r"\\-", pattern)
    return re.compile(translated)


def _values(value) -> list:
    if isinstance(value, NodeSet):
        return list(value.values)
    return [value]


def _compare(op: str, left, right) -> bool:
    if isinstance(left, NodeSet) or isinstance(right, NodeSet):
        return any(_compare(op, a, b) for a in _values(left) for b in _values(right))
    if op in ("=", "!="):
        if isinstance(left, bool) or isinstance(right, bool):
            equal = to_bool(left) == to_bool(right)
        elif isinstance(left, float | int) or isinstance(right, float | int):
            equal = to_number(left, dates_from_strings=True) == to_number(
                right, dates_from_strings=True
            )
        else:
            equal = to_string(left) == to_string(right)
        return equal if op == "=" else not equal
    a = to_number(left, dates_from_strings=True)
    b = to_number(right, dates_from_strings=True)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _arithmetic(op: str, left, right) -> float:
    a = to_number(left)
    b = to_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "div":
        if b == 0:
            if a == 0 or math.isnan(a):
                return math.nan
            return math.inf if a > 0 else -math.inf
        return a / b
    if b == 0 or math.isnan(a) or math.isnan(b) or math.isinf(a):
        return math.nan
    return math.fmod(a, b)


def evaluate(node, ctx: EvalContext):
    """The value of an AST in a context (see ``EvalContext``)."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, String):
        return node.value
    if isinstance(node, Ref):
        return ctx.resolve_ref(node)
    if isinstance(node, Path):
        if node.steps == (".",) and not node.absolute:
            return ctx.current()
        return ctx.resolve_path(node)
    if isinstance(node, Negate):
        return -to_number(evaluate(node.operand, ctx))
    if isinstance(node, Binary):
        if node.op == "and":
            return to_bool(evaluate(node.left, ctx)) and to_bool(evaluate(node.right, ctx))
        if node.op == "or":
            return to_bool(evaluate(node.left, ctx)) or to_bool(evaluate(node.right, ctx))
        left = evaluate(node.left, ctx)
        right = evaluate(node.right, ctx)
        if node.op in ("=", "!=", "<", "<=", ">", ">="):
            return _compare(node.op, left, right)
        return _arithmetic(node.op, left, right)
    if isinstance(node, Call):
        return _call(node, ctx)
    raise ExpressionError(f"cannot evaluate {node!r}")


def _selected_list(value) -> list[str]:
    return to_string(value).split()


def _round(number: float, digits: int = 0) -> float:
    if math.isnan(number) or math.isinf(number):
        return number
    quantum = Decimal(1).scaleb(-digits)
    try:
        return float(Decimal(repr(number)).quantize(quantum, rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return number


_FORMAT_CODES = {
    "%Y": lambda d: f"{d.year:04d}",
    "%y": lambda d: f"{d.year % 100:02d}",
    "%m": lambda d: f"{d.month:02d}",
    "%n": lambda d: str(d.month),
    "%b": lambda d: d.strftime("%b"),
    "%d": lambda d: f"{d.day:02d}",
    "%e": lambda d: str(d.day),
    "%a": lambda d: d.strftime("%a"),
    "%H": lambda d: f"{getattr(d, 'hour', 0):02d}",
    "%h": lambda d: str(getattr(d, "hour", 0)),
    "%M": lambda d: f"{getattr(d, 'minute', 0):02d}",
    "%S": lambda d: f"{getattr(d, 'second', 0):02d}",
    "%3": lambda d: f"{getattr(d, 'microsecond', 0) // 1000:03d}",
}


def _format_date(value, pattern: str) -> str:
    date = to_date(value)
    if date is None:
        return ""
    out = []
    i = 0
    while i < len(pattern):
        code = pattern[i : i + 2]
        if code in _FORMAT_CODES:
            out.append(_FORMAT_CODES[code](date))
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _call(node: Call, ctx: EvalContext):  # noqa: C901, PLR0911, PLR0912 - one branch per function
    name = node.name
    if name == "if":
        condition = to_bool(evaluate(node.args[0], ctx))
        return evaluate(node.args[1] if condition else node.args[2], ctx)
    if name == "once":
        existing = ctx.current()
        if to_string(existing) != "":
            return existing
        return evaluate(node.args[0], ctx)
    if name == "position":
        return float(ctx.position(node.args[0] if node.args else None))
    if name == "indexed-repeat":
        target = node.args[0]
        pairs = []
        rest = node.args[1:]
        if len(rest) % 2:
            raise ExpressionError("indexed-repeat() needs a repeat and an index in pairs")
        for k in range(0, len(rest), 2):
            pairs.append((rest[k], int(to_number(evaluate(rest[k + 1], ctx)))))
        return ctx.indexed_repeat(target, pairs)
    if name == "jr:choice-name":
        value = to_string(evaluate(node.args[0], ctx))
        return ctx.choice_label(value, node.args[1])

    args = [evaluate(arg, ctx) for arg in node.args]
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "not":
        return not to_bool(args[0])
    if name == "boolean":
        return to_bool(args[0])
    if name == "boolean-from-string":
        return to_string(args[0]).strip().lower() in ("true", "1")
    if name == "number":
        return to_number(args[0])
    if name == "string":
        return to_string(args[0] if args else ctx.current())
    if name == "int":
        number = to_number(args[0])
        return number if math.isnan(number) or math.isinf(number) else float(math.trunc(number))
    if name == "round":
        digits = int(to_number(args[1])) if len(args) > 1 else 0
        return _round(to_number(args[0]), digits)
    if name in ("floor", "ceiling", "abs"):
        number = to_number(args[0])
        if math.isnan(number) or math.isinf(number):
            return number
        return float({"floor": math.floor, "ceiling": math.ceil, "abs": abs}[name](number))
    if name == "pow":
        try:
            return math.pow(to_number(args[0]), to_number(args[1]))
        except (OverflowError, ValueError):
            return math.nan
    if name == "concat":
        return "".join(to_string(v) for arg in args for v in _values(arg))
    if name == "string-length":
        return float(len(to_string(args[0] if args else ctx.current())))
    if name == "normalize-space":
        return " ".join(to_string(args[0] if args else ctx.current()).split())
    if name == "contains":
        return to_string(args[1]) in to_string(args[0])
    if name == "starts-with":
        return to_string(args[0]).startswith(to_string(args[1]))
    if name == "ends-with":
        return to_string(args[0]).endswith(to_string(args[1]))
    if name == "substr":
        text = to_string(args[0])
        start = int(to_number(args[1]))
        end = int(to_number(args[2])) if len(args) > 2 else len(text)
        return text[max(start, 0) : max(end, 0)]
    if name == "substring":
        text = to_string(args[0])
        start = _round(to_number(args[1]))
        length = _round(to_number(args[2])) if len(args) > 2 else math.inf
        if math.isnan(start) or math.isnan(length):
            return ""
        return "".join(ch for k, ch in enumerate(text, start=1) if start <= k < start + length)
    if name == "substring-before":
        text, sep = to_string(args[0]), to_string(args[1])
        return text.split(sep, 1)[0] if sep and sep in text else ""
    if name == "substring-after":
        text, sep = to_string(args[0]), to_string(args[1])
        return text.split(sep, 1)[1] if sep in text else ""
    if name == "translate":
        text, source, target = (to_string(a) for a in args)
        table = {}
        for k, ch in enumerate(source):
            table.setdefault(ord(ch), target[k] if k < len(target) else None)
        return text.translate(table)
    if name == "join":
        separator = to_string(args[0])
        return separator.join(to_string(v) for arg in args[1:] for v in _values(arg))
    if name == "regex":
        return compile_regex(to_string(args[1])).search(to_string(args[0])) is not None
    if name == "uuid":
        return str(uuid_module.uuid4())
    if name == "selected":
        return to_string(args[1]).strip() in _selected_list(args[0])
    if name == "count-selected":
        return float(len(_selected_list(args[0])))
    if name == "selected-at":
        chosen = _selected_list(args[0])
        index = to_number(args[1])
        if math.isnan(index) or not 0 <= int(index) < len(chosen):
            return ""
        return chosen[int(index)]
    if name == "coalesce":
        first = to_string(args[0])
        return args[0] if first != "" else args[1]
    if name == "today":
        return ctx.now().date()
    if name == "now":
        return ctx.now()
    if name in ("date", "date-time"):
        return to_date(args[0]) or ""
    if name in ("decimal-date-time", "decimal-date"):
        date = to_date(args[0])
        return math.nan if date is None else to_number(date)
    if name in ("format-date", "format-date-time"):
        return _format_date(args[0], to_string(args[1]))
    if name == "count":
        return float(len(_values(args[0])) if isinstance(args[0], NodeSet) else 1)
    if name == "sum":
        return float(sum(to_number(v) for v in _values(args[0])))
    if name in ("max", "min"):
        numbers = [to_number(v) for arg in args for v in _values(arg)]
        if not numbers or any(math.isnan(n) for n in numbers):
            return math.nan
        return max(numbers) if name == "max" else min(numbers)
    if name == "random":
        import random

        return random.random()  # noqa: S311 - ODK's random() is not for secrets
    raise ExpressionError(f"the function {name}() is not supported")
