"""Finding identifiers in transcripts and replacing them with study-wide pseudonyms.

Pure: plain data in, plain data out, no Django. Three sources of candidates:

- the participant register (a person's full name, first name, surname, and title +
  surname such as "Dr Okafor");
- organisation names (a CCG's name with and without "NHS" and "CCG", practice, trust
  and council names);
- patterns: e-mail addresses, UK telephone numbers, NHS numbers that pass the
  modulus-11 check, UK postcodes.

``anonymise`` replaces accepted spans with ``[replacement]`` and returns an
``OffsetMap`` that carries coded segments onto the same words of the new text.
Offsets are ``[start, end)`` in code points, as everywhere in casework.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

PARTICIPANT = "participant"
ORGANISATION = "organisation"
EMAIL = "email"
PHONE = "phone"
NHS_NUMBER = "nhs_number"
POSTCODE = "postcode"
PATTERN_KINDS = (EMAIL, PHONE, NHS_NUMBER, POSTCODE)

# What a pattern match is replaced with: one label per kind, since the value itself
# carries nothing the analysis needs.
PATTERN_REPLACEMENTS = {
    EMAIL: "e-mail",
    PHONE: "phone",
    NHS_NUMBER: "NHS number",
    POSTCODE: "postcode",
}

# Role categories (studies.RoleCategory values) as they read in a pseudonym.
ROLE_LABELS = {
    "gp_member": "GP member",
    "chair": "Chair",
    "accountable_officer": "Accountable officer",
    "chief_finance_officer": "Finance officer",
    "nurse": "Nurse member",
    "secondary_care_doctor": "Secondary-care doctor",
    "lay_member": "Lay member",
    "manager": "Manager",
    "la_officer": "Local authority officer",
    "councillor": "Councillor",
    "hwb_member": "HWB member",
    "patient_representative": "Patient representative",
    "other_clinician": "Clinician",
}

# Organisation groups and how their pseudonyms count: letters or numbers.
ORGANISATION_GROUPS = {
    "ccg": ("CCG", "letter"),
    "icb": ("ICB", "letter"),
    "sub_icb": ("CCG", "letter"),
    "hwb": ("Council", "letter"),
    "council": ("Council", "letter"),
    "trust": ("Trust", "letter"),
    "practice": ("Practice", "number"),
    "other": ("Organisation", "letter"),
}

TITLES = (
    "Dr",
    "Doctor",
    "Mr",
    "Mrs",
    "Ms",
    "Miss",
    "Mx",
    "Prof",
    "Professor",
    "Cllr",
    "Councillor",
    "Sir",
    "Dame",
    "Rev",
    "Nurse",
    "Sister",
)
_TITLE_SET = {t.lower() for t in TITLES}

# Hyphen-minus, hyphen, non-breaking hyphen, and an en dash written without spaces
# ("Threlkeld-Smith", "Threlkeld–Smith").
_HYPHENS = "-‐‑–"


@dataclass(frozen=True)
class Person:
    """A participant: ``key`` identifies them (a participant id), ``label`` is their pseudonym."""

    key: object
    full_name: str
    label: str


@dataclass(frozen=True)
class NamedOrganisation:
    key: object
    name: str
    label: str
    group: str = "ccg"


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    text: str
    kind: str
    # ("participant", key) / ("organisation", key), or None for a pattern or a name
    # that more than one person on the register could carry.
    ref: tuple[str, object] | None
    suggestion: str


# --- pseudonym labels --------------------------------------------------------------------


def letters(n: int) -> str:
    """1 → A, 26 → Z, 27 → AA (spreadsheet column style)."""
    if n < 1:
        raise ValueError("letters() counts from 1")
    out = ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def participant_labels(people: Iterable[tuple[object, str]]) -> dict[object, str]:
    """Labels by role category and order: ``[(key, role_category), …]`` in register order."""
    counts: dict[str, int] = {}
    labels = {}
    for key, category in people:
        counts[category] = counts.get(category, 0) + 1
        labels[key] = f"{ROLE_LABELS.get(category, 'Participant')} {counts[category]}"
    return labels


def organisation_labels(organisations: Iterable[tuple[object, str]]) -> dict[object, str]:
    """Labels by group and order: ``[(key, group), …]`` → "CCG A", "Practice 4", "Trust B"."""
    counts: dict[str, int] = {}
    labels = {}
    for key, group in organisations:
        word, style = ORGANISATION_GROUPS.get(group, ORGANISATION_GROUPS["other"])
        counts[word] = counts.get(word, 0) + 1
        n = counts[word]
        labels[key] = f"{word} {letters(n) if style == 'letter' else n}"
    return labels


# --- name variants -----------------------------------------------------------------------

_PARENTHESIS = re.compile(r"\s*\([^)]*\)")
_SPACES = re.compile(r"\s+")


def _clean(name: str) -> str:
    return _SPACES.sub(" ", _PARENTHESIS.sub("", name)).strip(" ,")


def person_variants(full_name: str) -> list[str]:
    """The ways a transcript may name a person: full, first + surname, surname, first, titled."""
    tokens = [t.rstrip(".") for t in _clean(full_name).split(" ") if t.rstrip(".")]
    title = None
    if tokens and tokens[0].lower() in _TITLE_SET:
        title = tokens.pop(0)
    if not tokens:
        return []
    variants = {" ".join(tokens)}
    surname = tokens[-1]
    variants.add(surname)
    if len(tokens) > 1:
        variants.add(f"{tokens[0]} {surname}")
        variants.add(tokens[0])
    # Surnames as people shorten them: each part of a double-barrelled surname
    # ("Threlkeld-Smith" → "Threlkeld", "Smith"), and, when the register gives three or
    # more names, the last two (an unhyphenated double-barrelled "Threlkeld Smith") and
    # the middle ones, which may be part of the surname.
    surnames = {surname}
    parts = [p for p in re.split(f"[{_HYPHENS}]", surname) if len(p) > 1]
    if len(parts) > 1:
        surnames.update(p for p in parts if p.casefold() not in _SMALL_WORDS)
    if len(tokens) > 2:
        surnames.add(" ".join(tokens[-2:]))
        surnames.update(t for t in tokens[1:-1] if len(t) > 1 and t.casefold() not in _SMALL_WORDS)
    variants |= surnames
    if len(tokens) > 1:
        variants.update(f"{tokens[0]} {s}" for s in surnames)
    titles = set(TITLES) | ({title} if title else set())
    for t in titles:
        for s in surnames:
            variants.add(f"{t} {s}")
            variants.add(f"{t}. {s}")
        variants.add(f"{t} {' '.join(tokens)}")
    return sorted(variants, key=lambda v: (-len(v), v))


_ORG_SUFFIXES = (
    "clinical commissioning group",
    "ccg",
    "gp practice",
    "medical practice",
    "nhs foundation trust",
    "nhs trust",
    "council",
)


def organisation_variants(name: str, group: str = "ccg") -> list[str]:
    """A CCG's name with and without "NHS" and "CCG"; a practice or trust name as given."""
    base = _clean(name)
    if not base:
        return []
    variants = {base}
    core = base
    if core.lower().startswith("nhs "):
        core = core[4:]
    lowered = core.lower()
    for suffix in ("clinical commissioning group", "ccg"):
        if lowered.endswith(" " + suffix):
            core = core[: -len(suffix) - 1]
            break
    core = core.strip(" ,")
    if group in ("ccg", "sub_icb"):
        for prefix in ("", "NHS "):
            variants.add(prefix + core)
            variants.add(f"{prefix}{core} CCG")
            variants.add(f"{prefix}{core} Clinical Commissioning Group")
    elif group == "practice":
        # "BROAD STREET MEDICAL PRACT., GP PRACTICE" is also spoken as "Broad Street Medical".
        head = base.split(",")[0].strip()
        variants.add(head)
        for suffix in (" PRACTICE", " PRACT.", " SURGERY", " MEDICAL CENTRE"):
            if head.upper().endswith(suffix) and len(head) > len(suffix) + 3:
                variants.add(head[: -len(suffix)].strip())
    elif group == "trust":
        for suffix in (" NHS Foundation Trust", " NHS Trust", " Foundation Trust"):
            if base.lower().endswith(suffix.lower()):
                variants.add(base[: -len(suffix)].strip())
        variants.add(base.replace(" NHS ", " "))
    elif group in ("hwb", "council"):
        # A council's bare name is a place ("Kent"), common in talk about the area; the
        # council itself is named with its title.
        if "council" not in base.lower():
            variants.discard(base)
        for title in ("Council", "County Council", "City Council", "Health and Wellbeing Board"):
            variants.add(f"{core} {title}")
    # A bare core shorter than four letters ("Kent" is fine, "Hull" too; "X" is not).
    return sorted((v for v in variants if len(v) >= 4), key=lambda v: (-len(v), v))


# --- patterns ------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])"
)
# +44 or 0, then digits with optional single spaces or dashes; (0) after +44 allowed.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44[ -]?(?:\(0\)[ -]?)?|\(0|0)"
    r"(?:\d\)?[ -]?){8,9}\d(?![\d])"
)
_NHS_NUMBER = re.compile(r"(?<![\d\w])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\d\w])")
# Royal Mail's outward code shapes (A9, A99, AA9, AA99, A9A, AA9A) and the inward code
# 9AA (inward letters never C, I, K, M, O or V), plus the Girobank code GIR 0AA.
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR {0,2}0AA|"
    r"(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" {0,2}[0-9][ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])"
)


def nhs_number_is_valid(digits: str) -> bool:
    """The modulus-11 check: weights 10…2 on the first nine digits; 10 is never valid."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _phone_digits_ok(match_text: str) -> bool:
    if match_text.startswith("+44"):
        national = re.sub(r"\D", "", match_text.replace("(0)", "", 1))[2:]
    else:
        national = re.sub(r"\D", "", match_text)[1:]
    # 9 or 10 digits after the trunk 0; 01/02/03 geographic and non-geographic, 07
    # mobile, 08 free and local rate. 04 and 06 are not allocated.
    return len(national) in (9, 10) and national[0] in "1235789"


def find_patterns(text: str) -> list[Candidate]:
    found: list[Candidate] = []
    for m in _EMAIL.finditer(text):
        found.append(Candidate(m.start(), m.end(), m.group(), EMAIL, None, "e-mail"))
    for m in _PHONE.finditer(text):
        if _phone_digits_ok(m.group()):
            found.append(Candidate(m.start(), m.end(), m.group(), PHONE, None, "phone"))
    for m in _NHS_NUMBER.finditer(text):
        if nhs_number_is_valid(m.group(1) + m.group(3) + m.group(4)):
            found.append(Candidate(m.start(), m.end(), m.group(), NHS_NUMBER, None, "NHS number"))
    for m in _POSTCODE.finditer(text):
        found.append(Candidate(m.start(), m.end(), m.group(), POSTCODE, None, "postcode"))
    return found


# --- names -------------------------------------------------------------------------------


# Names are matched word by word (a dictionary of word sequences, not one huge regular
# expression), so a register of thousands of practices scans as fast as a handful.
# A word keeps its inner apostrophes ("O'Brien", "Okafor's") but not its hyphens: the
# parts of "Threlkeld-Smith" are words of their own, so a double-barrelled name matches
# with or without its hyphen, and each part can match by itself.
_WORD = re.compile(r"\w+(?:['’]\w+)*")
# Between the words of a name: spaces, or a full stop or comma and spaces ("Dr. Okafor",
# "Airedale, Wharfedale and Craven"), and at most one line break ("Grace\nOkafor").
_NAME_GAP = re.compile(r"[.,]?[ \t]*(?:\r?\n[ \t]*)?")
# Within a compound: a hyphen, perhaps at the end of a line ("Threlkeld-\nSmith").
_HYPHEN_GAP = re.compile(rf"[{_HYPHENS}](?:[ \t]*\r?\n[ \t]*)?")
# Where a word was broken to fit a line ("Quill-\nfeather") or carries a soft hyphen.
_BROKEN_WORD_GAP = re.compile(rf"[{_HYPHENS}][ \t]*\r?\n[ \t]*|\u00ad(?:\r?\n)?")
# Words a name may carry in lower case ("Wharfedale and Craven").
_SMALL_WORDS = {"and", "of", "the", "on", "upon", "in", "with", "for", "at", "by", "de", "la"}
MAX_NAME_WORDS = 10
# Initials between a title and a surname ("Dr J. R. Quillfeather") are passed over; "A"
# and "I" count as initials only with a full stop, being words on their own.
_MAX_INITIALS = 4

# How two neighbouring tokens are joined.
_NAME, _HYPHEN, _BROKEN = "name", "hyphen", "broken"


@dataclass(frozen=True)
class Term:
    """A phrase to find as it stands: a name already in the key, or one the lead added."""

    text: str
    kind: str
    ref: tuple[str, object] | None
    label: str


def _fold(word: str) -> str:
    return word.casefold().replace("’", "'")


def _words(phrase: str) -> tuple[str, ...]:
    return tuple(_fold(w) for w in _WORD.findall(phrase))


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper()


class _Token(NamedTuple):
    start: int
    end: int
    word: str  # as written
    # How this token may join the one before it: any of _NAME, _HYPHEN, _BROKEN.
    join: frozenset[str]
    initial: bool


_NO_JOIN: frozenset[str] = frozenset()
# The gaps nearly every pair of words has, decided once.
_JOINS = {
    " ": frozenset({_NAME}),
    ", ": frozenset({_NAME}),
    ". ": frozenset({_NAME}),
    "\n": frozenset({_NAME}),
    "-": frozenset({_HYPHEN}),
    ": ": _NO_JOIN,
    "; ": _NO_JOIN,
    "\n\n": _NO_JOIN,
}


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    previous_end = None
    for m in _WORD.finditer(text):
        join = _NO_JOIN
        if previous_end is not None:
            gap = text[previous_end : m.start()]
            join = _JOINS.get(gap)
            if join is None:
                join = frozenset(
                    kind
                    for kind, pattern in (
                        (_NAME, _NAME_GAP),
                        (_HYPHEN, _HYPHEN_GAP),
                        (_BROKEN, _BROKEN_WORD_GAP),
                    )
                    if pattern.fullmatch(gap)
                )
        word = m.group()
        initial = (
            len(word) == 1
            and word.isupper()
            and (word not in "AI" or text[m.end() : m.end() + 1] == ".")
        )
        tokens.append(_Token(m.start(), m.end(), word, join, initial))
        previous_end = m.end()
    return tokens


def _possessive(text: str, word: str, end: int) -> tuple[str, int] | None:
    """The name inside a possessive ("Okafor's", "Okafor’s", "the Quillfeathers'"): its
    folded form and where it ends, so the suffix stays outside the replacement."""
    folded = _fold(word)
    if len(folded) > 3 and folded.endswith("'s"):
        return folded[:-2], end - 2
    after = text[end : end + 2]
    if (
        len(folded) > 2
        and folded.endswith("s")
        and after[:1] in ("'", "’")
        and not after[1:2].isalnum()
    ):
        return folded[:-1], end - 1
    return None


class NameFinder:
    """A compiled register of people, organisations and other terms, to scan many texts with."""

    def __init__(
        self,
        people: Sequence[Person] = (),
        organisations: Sequence[NamedOrganisation] = (),
        terms: Sequence[Term] = (),
    ):
        # word sequence → {(kind, ref, label)}
        self._table: dict[tuple[str, ...], set[tuple[str, tuple | None, str]]] = {}
        for person in people:
            for variant in person_variants(person.full_name):
                self._add(variant, PARTICIPANT, (PARTICIPANT, person.key), person.label)
        for org in organisations:
            for variant in organisation_variants(org.name, org.group):
                self._add(variant, ORGANISATION, (ORGANISATION, org.key), org.label)
        for term in terms:
            self._add(term.text, term.kind, term.ref, term.label)
        # Every proper prefix of a name, so a scan stops as soon as no name can follow.
        self._prefixes = {k[:n] for k in self._table for n in range(1, len(k))}

    def _add(self, phrase: str, kind: str, ref, label: str) -> None:
        words = _words(phrase)
        if words and len(words) <= MAX_NAME_WORDS:
            self._table.setdefault(words, set()).add((kind, ref, label))

    def find(self, text: str) -> list[Candidate]:
        if not self._table:
            return []
        tokens = _tokens(text)
        found = []
        for i, first in enumerate(tokens):
            if not _is_capitalised(first.word):
                continue  # a name starts with a capital letter ("Hope", not "hope")
            match = self._longest_from(text, tokens, i)
            if match is None:
                continue
            end, last, entries = match
            start = first.start
            if all(
                kind == PARTICIPANT or (ref or ("",))[0] == PARTICIPANT for kind, ref, _ in entries
            ):
                start, end = self._whole_compound(text, tokens, i, last, end, entries)
            found.append(self._candidate(start, end, text[start:end], entries))
        return found

    def _longest_from(self, text: str, tokens: list[_Token], i: int):
        """The longest name starting at token ``i``: (end, last token index, entries)."""
        best = None  # (end, words, last, entries)
        # (next token index, words so far, initials passed over)
        stack: list[tuple[int, tuple[str, ...], int]] = [(i, (), 0)]
        while stack:
            j, words, skipped = stack.pop()
            if j >= len(tokens):
                continue
            token = tokens[j]
            if j > i and not token.join:
                continue
            if j > i and not words and _NAME not in token.join:
                continue  # after leading initials, a space or full stop
            after_hyphen = j > i and bool(words) and _HYPHEN in token.join
            if j > i and not (token.join & {_NAME, _HYPHEN}):
                units = []
            else:
                units = [(token.word, token.end, j)]
            # A word broken across a line: "Quill-" + "feather" reads as one word.
            if j + 1 < len(tokens) and _BROKEN in tokens[j + 1].join:
                nxt = tokens[j + 1]
                units.append((token.word + nxt.word, nxt.end, j + 1))
            for word, end, last in units:
                folded = _fold(word)
                if not (_is_capitalised(word) or folded in _SMALL_WORDS or after_hyphen):
                    continue
                whole = (*words, folded)
                if whole in self._table and (best is None or end > best[0]):
                    best = (end, last, self._table[whole])
                if whole in self._prefixes and len(whole) < MAX_NAME_WORDS:
                    stack.append((last + 1, whole, skipped))
                possessive = _possessive(text, word, end)
                if possessive is not None:
                    base, base_end = possessive
                    owned = (*words, base)
                    if owned in self._table and (best is None or base_end > best[0]):
                        best = (base_end, last, self._table[owned])
            if token.initial and skipped < _MAX_INITIALS and (j == i or _NAME in token.join):
                stack.append((j + 1, words, skipped + 1))
        return best

    def _single_entity(self, folded: str, entries) -> bool:
        """Whether the word alone names someone other than the match does."""
        own = {ref for _, ref, _ in entries}
        other = self._table.get((folded,), set())
        return any(ref not in own for _, ref, _ in other)

    def _whole_compound(self, text, tokens, i, last, end, entries) -> tuple[int, int]:
        """Widen a person's name to the whole of a double-barrelled name it is part of
        ("Smith-Quillfeather", "Quillfeather-Jones"), unless the other part is someone
        else's name ("Okafor-Raman" stays two names) or not a name ("Quillfeather-led")."""
        start = tokens[i].start
        k = i
        while (
            k > 0
            and _HYPHEN in tokens[k].join
            and _is_capitalised(tokens[k - 1].word)
            and not self._single_entity(_fold(tokens[k - 1].word), entries)
        ):
            k -= 1
            start = tokens[k].start
        k = last
        while (
            end == tokens[k].end
            and k + 1 < len(tokens)
            and _HYPHEN in tokens[k + 1].join
            and _is_capitalised(tokens[k + 1].word)
        ):
            nxt = tokens[k + 1]
            part, part_end = _possessive(text, nxt.word, nxt.end) or (_fold(nxt.word), nxt.end)
            if self._single_entity(part, entries):
                break
            k += 1
            end = part_end
        return start, end

    @staticmethod
    def _candidate(start, end, matched, entries) -> Candidate:
        refs = {(kind, ref, label) for kind, ref, label in entries}
        if len({ref for _, ref, _ in refs}) == 1 or len({label for *_, label in refs}) == 1:
            kind, ref, label = sorted(refs, key=lambda e: (e[0] != PARTICIPANT, str(e)))[0]
            return Candidate(start, end, matched, kind, ref, label)
        # Two people named "Patel": the reviewer decides; meanwhile a neutral pseudonym.
        kind = PARTICIPANT if any(k == PARTICIPANT for k, _, _ in refs) else ORGANISATION
        return Candidate(start, end, matched, kind, None, kind)


def resolve_overlaps(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep the longest of overlapping candidates (then the earliest; then register over pattern)."""
    priority = {PARTICIPANT: 0, ORGANISATION: 1}
    ordered = sorted(
        candidates, key=lambda c: (-(c.end - c.start), c.start, priority.get(c.kind, 2))
    )
    kept: list[Candidate] = []
    starts: list[int] = []
    for c in ordered:
        i = bisect.bisect_right(starts, c.start)
        if i > 0 and kept[i - 1].end > c.start:
            continue
        if i < len(kept) and kept[i].start < c.end:
            continue
        kept.insert(i, c)
        starts.insert(i, c.start)
    return kept


def detect(
    text: str,
    *,
    people: Sequence[Person] = (),
    organisations: Sequence[NamedOrganisation] = (),
    terms: Sequence[Term] = (),
    finder: NameFinder | None = None,
) -> list[Candidate]:
    """Every candidate identifier in ``text``, without overlaps, in text order."""
    finder = finder or NameFinder(people, organisations, terms)
    return resolve_overlaps([*finder.find(text), *find_patterns(text)])


# --- the anonymised text and its offset map -------------------------------------------------


@dataclass(frozen=True)
class Replacement:
    start: int
    end: int
    replacement: str


class OffsetMap:
    """Carries offsets of the original text onto the anonymised one.

    Outside replaced spans an offset shifts by what earlier replacements added or
    removed. A segment boundary that falls inside a replaced span moves outward to the
    edge of its replacement, so a coding that touches a name covers its pseudonym.
    """

    def __init__(self, spans: Sequence[tuple[int, int, int, int]]):
        # (old_start, old_end, new_start, new_end), in order, not overlapping
        self._spans = list(spans)
        self._old_starts = [s[0] for s in spans]

    @property
    def spans(self) -> list[tuple[int, int, int, int]]:
        return list(self._spans)

    def _shift(self, offset: int, i: int) -> int:
        if i == 0:
            return offset
        old_start, old_end, new_start, new_end = self._spans[i - 1]
        return offset - old_end + new_end

    def start(self, offset: int) -> int:
        i = bisect.bisect_right(self._old_starts, offset)
        if i and offset < self._spans[i - 1][1]:
            return self._spans[i - 1][2]
        return self._shift(offset, i)

    def end(self, offset: int) -> int:
        i = bisect.bisect_left(self._old_starts, offset)
        if i and offset <= self._spans[i - 1][1]:
            return self._spans[i - 1][3]
        return self._shift(offset, i)

    def segment(self, start: int, end: int) -> tuple[int, int]:
        return self.start(start), self.end(end)


def anonymise(text: str, replacements: Iterable[Replacement]) -> tuple[str, OffsetMap]:
    """Replace each span by ``[replacement]``; spans must not overlap."""
    ordered = sorted(replacements, key=lambda r: (r.start, r.end))
    parts: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    cursor = 0
    length = 0
    for r in ordered:
        if not 0 <= r.start < r.end <= len(text):
            raise ValueError(f"replacement [{r.start}, {r.end}) is outside the text")
        if r.start < cursor:
            raise ValueError(f"replacement [{r.start}, {r.end}) overlaps the one before it")
        kept = text[cursor : r.start]
        parts.append(kept)
        length += len(kept)
        marked = f"[{r.replacement}]"
        spans.append((r.start, r.end, length, length + len(marked)))
        parts.append(marked)
        length += len(marked)
        cursor = r.end
    parts.append(text[cursor:])
    return "".join(parts), OffsetMap(spans)
