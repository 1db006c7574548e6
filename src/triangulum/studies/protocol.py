"""A study protocol as plain data: read from TOML, checked, and rendered as Markdown.

No Django here, so the built-in protocol can be checked and rendered on plain data;
``actions.install_builtin_study`` turns a ``Protocol`` into database rows.
"""

import datetime
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
BUILTIN_SLUG = "ccg-clinical-leadership"
SCHEMA_VERSION = 1


class ProtocolError(ValueError):
    """A protocol file that cannot be used; the message names the file and the place."""


@dataclass(frozen=True)
class ResearchQuestionSpec:
    number: int
    short_name: str
    text: str

    @property
    def code(self) -> str:
        return f"RQ{self.number}"


@dataclass(frozen=True)
class PhaseSpec:
    order: int
    kind: str
    name: str
    description: str
    produces: str
    planned_start_date: datetime.date | None
    planned_end_date: datetime.date | None
    research_questions: tuple[int, ...]
    # Only when rendering a study already under way (never read from a protocol file).
    status: str = ""


@dataclass(frozen=True)
class Group:
    name: str
    description: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "description": self.description}


@dataclass(frozen=True)
class Protocol:
    slug: str
    title: str
    short_title: str
    funder: str
    funding_amount: str
    host: str
    start_date: datetime.date | None
    end_date: datetime.date | None
    aim: str
    secondary_focus: str
    research_questions: tuple[ResearchQuestionSpec, ...]
    phases: tuple[PhaseSpec, ...]
    stakeholder_groups: tuple[Group, ...] = field(default_factory=tuple)
    care_sectors: tuple[Group, ...] = field(default_factory=tuple)


def builtin_path(slug: str = BUILTIN_SLUG) -> Path:
    return BUILTIN_DIR / f"{slug}.toml"


def load_protocol(path: Path, *, phase_kinds: Iterable[str]) -> Protocol:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ProtocolError(f"{path}: no such protocol file") from None
    except tomllib.TOMLDecodeError as error:
        raise ProtocolError(f"{path}: not valid TOML ({error})") from None
    return parse_protocol(data, source=path.name, phase_kinds=phase_kinds)


def _text(value: object) -> str:
    """Multi-line TOML strings wrap like prose; store them as one paragraph each."""
    paragraphs = [" ".join(p.split()) for p in str(value).strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


class _Reader:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str):
        raise ProtocolError(f"{self.source}: {where}: {problem}")

    def string(self, table: dict, key: str, where: str, *, required: bool = True) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.fail(f"{where}{key}", "missing (a text value is required)")
            return ""
        if not isinstance(value, str):
            self.fail(f"{where}{key}", f"expected text, found {type(value).__name__}")
        text = _text(value)
        if required and not text:
            self.fail(f"{where}{key}", "is empty")
        return text

    def date(self, table: dict, key: str, where: str) -> datetime.date | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            self.fail(f"{where}{key}", f"expected a date such as 2014-04-01, found {value!r}")
        return value

    def tables(self, data: dict, key: str) -> list[dict]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            self.fail(key, f"expected a list of tables ([[{key}]])")
        return value


def parse_protocol(data: dict, *, source: str, phase_kinds: Iterable[str]) -> Protocol:
    """Check a protocol read from TOML; raise ``ProtocolError`` at the first problem."""
    reader = _Reader(source)
    kinds = set(phase_kinds)
    if data.get("schema") != SCHEMA_VERSION:
        reader.fail("schema", f"expected {SCHEMA_VERSION}, found {data.get('schema')!r}")

    start = reader.date(data, "start_date", "")
    end = reader.date(data, "end_date", "")
    if start and end and end < start:
        reader.fail("end_date", f"{end} is before start_date {start}")

    questions: list[ResearchQuestionSpec] = []
    for i, table in enumerate(reader.tables(data, "research_questions"), start=1):
        where = f"research_questions[{i}]."
        number = table.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            reader.fail(f"{where}number", f"expected a whole number from 1, found {number!r}")
        if any(q.number == number for q in questions):
            reader.fail(f"{where}number", f"RQ{number} is defined twice")
        questions.append(
            ResearchQuestionSpec(
                number=number,
                short_name=reader.string(table, "short_name", where),
                text=reader.string(table, "text", where),
            )
        )
    if not questions:
        reader.fail("research_questions", "a protocol needs at least one research question")
    numbers = {q.number for q in questions}

    phases: list[PhaseSpec] = []
    for order, table in enumerate(reader.tables(data, "phases"), start=1):
        where = f"phases[{order}]."
        kind = table.get("kind")
        if kind not in kinds:
            reader.fail(f"{where}kind", f"{kind!r} is not one of {sorted(kinds)}")
        linked = table.get("research_questions", [])
        if not isinstance(linked, list) or not linked:
            reader.fail(f"{where}research_questions", "list at least one RQ number, e.g. [1, 2]")
        unknown = [n for n in linked if n not in numbers]
        if unknown:
            reader.fail(
                f"{where}research_questions", f"{unknown} not among the RQs {sorted(numbers)}"
            )
        planned_start = reader.date(table, "planned_start_date", where)
        planned_end = reader.date(table, "planned_end_date", where)
        if planned_start and planned_end and planned_end < planned_start:
            reader.fail(
                f"{where}planned_end_date", f"{planned_end} is before planned start {planned_start}"
            )
        for key, value in (
            ("planned_start_date", planned_start),
            ("planned_end_date", planned_end),
        ):
            if value and ((start and value < start) or (end and value > end)):
                reader.fail(f"{where}{key}", f"{value} falls outside the study ({start} to {end})")
        phases.append(
            PhaseSpec(
                order=order,
                kind=kind,
                name=reader.string(table, "name", where),
                description=reader.string(table, "description", where, required=False),
                produces=reader.string(table, "produces", where, required=False),
                planned_start_date=planned_start,
                planned_end_date=planned_end,
                research_questions=tuple(sorted(set(linked))),
            )
        )

    def groups(key: str) -> tuple[Group, ...]:
        return tuple(
            Group(
                name=reader.string(t, "name", f"{key}[{i}]."),
                description=reader.string(t, "description", f"{key}[{i}].", required=False),
            )
            for i, t in enumerate(reader.tables(data, key), start=1)
        )

    return Protocol(
        slug=reader.string(data, "slug", ""),
        title=reader.string(data, "title", ""),
        short_title=reader.string(data, "short_title", "", required=False),
        funder=reader.string(data, "funder", "", required=False),
        funding_amount=reader.string(data, "funding_amount", "", required=False),
        host=reader.string(data, "host", "", required=False),
        start_date=start,
        end_date=end,
        aim=reader.string(data, "aim", "", required=False),
        secondary_focus=reader.string(data, "secondary_focus", "", required=False),
        research_questions=tuple(sorted(questions, key=lambda q: q.number)),
        phases=tuple(phases),
        stakeholder_groups=groups("stakeholder_groups"),
        care_sectors=groups("care_sectors"),
    )


def _date_range(start: datetime.date | None, end: datetime.date | None) -> str:
    if start and end:
        return f"{start:%-d %B %Y} to {end:%-d %B %Y}"
    if start:
        return f"from {start:%-d %B %Y}"
    if end:
        return f"until {end:%-d %B %Y}"
    return "not set"


def render_markdown(protocol: Protocol, *, note: str = "") -> str:
    """The protocol as a Markdown document; ``note`` goes under the heading (provenance)."""
    rq_names = {q.number: q.short_name for q in protocol.research_questions}
    lines = [f"# {protocol.title}", ""]
    if note:
        lines += [f"_{note}_", ""]
    facts = [
        ("Short title", protocol.short_title),
        ("Funder", protocol.funder),
        ("Funding", protocol.funding_amount),
        ("Host", protocol.host),
        ("Dates", _date_range(protocol.start_date, protocol.end_date)),
    ]
    lines += [f"- **{label}:** {value}" for label, value in facts if value]
    lines += ["", "## Aim", "", protocol.aim or "(not set)", ""]
    lines += ["## Research questions", ""]
    for q in protocol.research_questions:
        lines += [f"- **{q.code} — {q.short_name}.** {q.text}"]
    lines += ["", "## Secondary focus", "", protocol.secondary_focus or "(not set)", ""]
    lines += ["## Phases", ""]
    for phase in protocol.phases:
        linked = ", ".join(f"RQ{n} ({rq_names.get(n, '?')})" for n in phase.research_questions)
        lines += [f"### {phase.order}. {phase.name}", ""]
        if phase.description:
            lines += [phase.description, ""]
        lines += [
            f"- **Planned:** {_date_range(phase.planned_start_date, phase.planned_end_date)}",
            f"- **Research questions:** {linked or 'none'}",
        ]
        if phase.produces:
            lines += [f"- **Produces:** {phase.produces}"]
        if phase.status:
            lines += [f"- **Status:** {phase.status}"]
        lines += [""]
    for heading, groups in (
        ("Stakeholder groups", protocol.stakeholder_groups),
        ("Care sectors", protocol.care_sectors),
    ):
        lines += [f"## {heading}", ""]
        lines += [
            f"- **{g.name}**" + (f": {g.description}" if g.description else "") for g in groups
        ] or ["(none listed)"]
        lines += [""]
    return "\n".join(lines).rstrip() + "\n"
