"""Finding identifiers and the offset map of anonymised texts (pure)."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triangulum.casework import pseudonymise as pz

FIXTURES = Path(__file__).parent / "fixtures" / "privacy"
PLANTED = json.loads((FIXTURES / "planted.json").read_text(encoding="utf-8"))


def planted_spans(file_name: str) -> list[tuple[int, int, str, str | None]]:
    text = (FIXTURES / file_name).read_text(encoding="utf-8")
    spans, cursor = [], 0
    for string, kind, entity in PLANTED["sources"][file_name]:
        start = text.index(string, cursor)
        spans.append((start, start + len(string), kind, entity))
        cursor = start + len(string)
    return spans


def fixture_finder() -> pz.NameFinder:
    people_rows = list(PLANTED["people"].items())
    labels = pz.participant_labels((key, row["role_category"]) for key, row in people_rows)
    people = [pz.Person(key, row["full_name"], labels[key]) for key, row in people_rows]
    orgs = list(PLANTED["organisations"].items())
    org_labels = pz.organisation_labels((key, row["group"]) for key, row in orgs)
    organisations = [
        pz.NamedOrganisation(key, row["name"], org_labels[key], row["group"]) for key, row in orgs
    ]
    terms = [
        pz.Term(row["name"], pz.ORGANISATION, (pz.ORGANISATION, key), "Trust A")
        for key, row in PLANTED["hand_added"].items()
    ]
    return pz.NameFinder(people, organisations, terms)


@pytest.mark.parametrize("file_name", sorted(PLANTED["sources"]))
def test_every_planted_identifier_is_found_with_its_entity(file_name):
    text = (FIXTURES / file_name).read_text(encoding="utf-8")
    found = {(c.start, c.end): c for c in pz.detect(text, finder=fixture_finder())}
    for start, end, kind, entity in planted_spans(file_name):
        assert (start, end) in found, f"{text[start:end]!r} at {start} was not found"
        candidate = found[(start, end)]
        assert candidate.kind == kind
        if entity is not None:
            assert candidate.ref[1] == entity


@pytest.mark.parametrize("file_name", sorted(PLANTED["sources"]))
def test_nothing_unplanted_of_the_pattern_kinds_is_flagged(file_name):
    text = (FIXTURES / file_name).read_text(encoding="utf-8")
    planted = {(s, e) for s, e, _, _ in planted_spans(file_name)}
    flagged = [c for c in pz.detect(text, finder=fixture_finder())]
    pattern_false = [
        c.text for c in flagged if c.kind in pz.PATTERN_KINDS and (c.start, c.end) not in planted
    ]
    assert pattern_false == []
    for look_alike in PLANTED["not_identifiers"]:
        assert all(look_alike not in c.text for c in flagged), look_alike
    # Names: the register may over-match (a first name at a sentence start); here it must not.
    assert [c.text for c in flagged if (c.start, c.end) not in planted] == []


def test_same_person_same_pseudonym_across_spellings_and_sources():
    finder = fixture_finder()
    labels: dict[str, set[str]] = {}
    for file_name in PLANTED["sources"]:
        text = (FIXTURES / file_name).read_text(encoding="utf-8")
        for c in pz.detect(text, finder=finder):
            if c.ref:
                labels.setdefault(c.ref[1], set()).add(c.suggestion)
    assert labels["okafor"] == {"GP member 1"}
    assert labels["raman"] == {"Chair 1"}
    assert labels["wielgosz"] == {"Manager 1"}
    assert labels["ashford"] == {"CCG A"}
    assert labels["barking"] == {"Practice 1"}
    assert labels["kent"] == {"Council A"}


@pytest.mark.parametrize(
    "number, valid",
    [
        ("9434765919", True),
        ("4673671309", True),
        ("9434765918", False),
        ("1234567890", False),
        ("0000000000", True),
        ("123456789", False),
        ("12345678AB", False),
    ],
)
def test_nhs_number_check_digit(number, valid):
    assert pz.nhs_number_is_valid(number) is valid


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call 020 7946 0958 now", "020 7946 0958"),
        ("call 0113 496 0000.", "0113 496 0000"),
        ("on +447700900123 ok", "+447700900123"),
        ("on (01632) 960001 ok", "(01632) 960001"),
        ("ref 0400 123 456 here", None),  # 04 is not allocated
        ("in 2014 and 2015", None),
        ("1,234,567,890", None),
    ],
)
def test_uk_phone_numbers(text, expected):
    found = [c.text for c in pz.find_patterns(text) if c.kind == pz.PHONE]
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("M1 1AE", True),
        ("B33 8TH", True),
        ("CR2 6XH", True),
        ("DN55 1PT", True),
        ("W1A 0AX", True),
        ("EC1A 1BB", True),
        ("GIR 0AA", True),
        ("SW1A1AA", True),
        ("LS1  4AP", True),
        ("QA1 1AA", False),
        ("M1 1CA", False),
        ("RQ1", False),
        ("m1 1ae", False),
    ],
)
def test_uk_postcodes(text, expected):
    found = [c.text for c in pz.find_patterns(f"at {text}.") if c.kind == pz.POSTCODE]
    assert found == ([text] if expected else [])


def test_person_and_organisation_variants():
    assert {"Dr Okafor", "Grace Okafor", "Okafor", "Grace", "Dr. Okafor", "Mrs Okafor"} <= set(
        pz.person_variants("Dr Grace Okafor (simulated)")
    )
    ccg = set(pz.organisation_variants("NHS Airedale, Wharfedale and Craven CCG"))
    assert {
        "Airedale, Wharfedale and Craven",
        "NHS Airedale, Wharfedale and Craven CCG",
        "Airedale, Wharfedale and Craven Clinical Commissioning Group",
    } <= ccg
    assert "Kent" not in pz.organisation_variants("Kent", "hwb")


def test_lower_case_words_are_not_names():
    finder = pz.NameFinder([pz.Person(1, "Ms Hope Bell", "Chair 1")])
    found = [
        c.text
        for c in pz.detect("We hope Bell comes; there is hope. Hope Bell did.", finder=finder)
    ]
    assert found == ["Bell", "Hope Bell"]


def test_two_people_with_one_surname_get_a_neutral_suggestion():
    finder = pz.NameFinder(
        [pz.Person(1, "Dr Anil Patel", "GP member 1"), pz.Person(2, "Ms Rina Patel", "Chair 1")]
    )
    [surname] = pz.detect("Patel said so.", finder=finder)
    assert surname.ref is None and surname.suggestion == "participant"
    [full] = pz.detect("Rina Patel said so.", finder=finder)
    assert full.ref == ("participant", 2)


def test_labels():
    assert pz.participant_labels([(1, "gp_member"), (2, "chair"), (3, "gp_member")]) == {
        1: "GP member 1",
        2: "Chair 1",
        3: "GP member 2",
    }
    assert pz.organisation_labels([(1, "ccg"), (2, "practice"), (3, "ccg"), (4, "trust")]) == {
        1: "CCG A",
        2: "Practice 1",
        3: "CCG B",
        4: "Trust A",
    }
    assert [pz.letters(n) for n in (1, 26, 27, 52, 53)] == ["A", "Z", "AA", "AZ", "BA"]


def test_a_coding_keeps_its_words_and_one_touching_a_name_covers_the_pseudonym():
    text = "Dr Okafor said the frailty pathway worked for Kent."
    name = (0, 9)
    place = (46, 50)
    new, offsets = pz.anonymise(
        text, [pz.Replacement(*name, "GP member 1"), pz.Replacement(*place, "Council A")]
    )
    assert new == "[GP member 1] said the frailty pathway worked for [Council A]."
    s, e = offsets.segment(text.index("the frailty"), text.index(" for"))
    assert new[s:e] == "the frailty pathway worked"
    s, e = offsets.segment(3, 14)  # "Okafor said"
    assert new[s:e] == "[GP member 1] said"
    s, e = offsets.segment(42, 48)  # "for Ke"
    assert new[s:e] == "for [Council A]"


def test_overlapping_replacements_are_refused():
    with pytest.raises(ValueError, match="overlaps"):
        pz.anonymise("abcdef", [pz.Replacement(0, 3, "x"), pz.Replacement(2, 4, "y")])


# --- properties of the offset map ----------------------------------------------------------

alphabet = st.characters(codec="utf-8", exclude_categories=("Cs",))


@st.composite
def texts_with_replacements(draw):
    text = draw(st.text(alphabet, min_size=1, max_size=80))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=8)))
    replacements = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        if a < b:
            replacements.append(pz.Replacement(a, b, draw(st.text(alphabet, max_size=12))))
    return text, replacements


@settings(max_examples=300, deadline=None)
@given(texts_with_replacements(), st.data())
def test_text_outside_replacements_is_preserved(case, data):
    text, replacements = case
    new, offsets = pz.anonymise(text, replacements)
    edges = [0] + [x for r in replacements for x in (r.start, r.end)] + [len(text)]
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if a < b:
            s, e = offsets.segment(a, b)
            assert new[s:e] == text[a:b]
    for r, (_, _, new_s, new_e) in zip(replacements, offsets.spans, strict=True):
        assert new[new_s:new_e] == f"[{r.replacement}]"


@settings(max_examples=300, deadline=None)
@given(texts_with_replacements(), st.data())
def test_a_coded_span_maps_to_the_same_words(case, data):
    text, replacements = case
    new, offsets = pz.anonymise(text, replacements)
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    s, e = offsets.segment(start, end)
    assert 0 <= s < e <= len(new)
    # The mapped span is the anonymised form of the coded span widened to whole replacements.
    wide_start = min([start] + [r.start for r in replacements if r.start < start < r.end])
    wide_end = max([end] + [r.end for r in replacements if r.start < end < r.end])
    inner = [
        pz.Replacement(r.start - wide_start, r.end - wide_start, r.replacement)
        for r in replacements
        if wide_start <= r.start and r.end <= wide_end
    ]
    expected, _ = pz.anonymise(text[wide_start:wide_end], inner)
    assert new[s:e] == expected
