"""The forms a registered name takes in talk and in documents (pure): possessives,
double-barrelled names and their parts, case, line breaks, initials."""

import pytest

from triangulum.casework import pseudonymise as pz

QUILLFEATHER, THRELKELD, RAMAN, OBRIEN, BELL = 1, 2, 3, 4, 5


@pytest.fixture(scope="module")
def finder():
    return pz.NameFinder(
        [
            pz.Person(QUILLFEATHER, "Dr Zephyrine Quillfeather", "GP member 1"),
            pz.Person(THRELKELD, "Ms Anna Threlkeld-Smith", "Chair 1"),
            pz.Person(RAMAN, "Ms Priya Raman", "Manager 1"),
            pz.Person(OBRIEN, "Mr Seán O'Brien", "Manager 2"),
            pz.Person(BELL, "Hope Bell", "Nurse member 1"),
        ],
        [pz.NamedOrganisation("ashford", "NHS Ashford CCG", "CCG A")],
    )


def found(text, finder):
    return [(c.text, c.ref[1] if c.ref else None) for c in pz.detect(text, finder=finder)]


@pytest.mark.parametrize(
    "text, expected",
    [
        # Possessives: the name is replaced, the suffix stays ("[GP member 1]'s view").
        ("Quillfeather's view", [("Quillfeather", QUILLFEATHER)]),
        ("Quillfeather’s view", [("Quillfeather", QUILLFEATHER)]),
        ("the Quillfeathers' house", [("Quillfeather", QUILLFEATHER)]),
        ("Dr Quillfeather's clinic", [("Dr Quillfeather", QUILLFEATHER)]),
        ("Zephyrine Quillfeather’s", [("Zephyrine Quillfeather", QUILLFEATHER)]),
        ("O'Brien's view", [("O'Brien", OBRIEN)]),
        ("Ashford CCG's board", [("Ashford CCG", "ashford")]),
        # Case.
        ("QUILLFEATHER'S PLAN", [("QUILLFEATHER", QUILLFEATHER)]),
        ("QuillFeather said", [("QuillFeather", QUILLFEATHER)]),
        ("O’BRIEN said", [("O’BRIEN", OBRIEN)]),
        # Double-barrelled: whole, without its hyphen, with an en dash, lower-case part,
        # possessive, titled, and each part alone.
        ("Threlkeld-Smith said", [("Threlkeld-Smith", THRELKELD)]),
        ("Threlkeld Smith said", [("Threlkeld Smith", THRELKELD)]),
        ("Threlkeld–Smith said", [("Threlkeld–Smith", THRELKELD)]),
        ("Threlkeld-smith said", [("Threlkeld-smith", THRELKELD)]),
        ("Threlkeld-Smith's team", [("Threlkeld-Smith", THRELKELD)]),
        ("Mrs Threlkeld-Smith came", [("Mrs Threlkeld-Smith", THRELKELD)]),
        ("Anna Threlkeld-Smith came", [("Anna Threlkeld-Smith", THRELKELD)]),
        ("Threlkeld said", [("Threlkeld", THRELKELD)]),
        ("Smith said", [("Smith", THRELKELD)]),
        ("Dr Smith said", [("Dr Smith", THRELKELD)]),
        ("Smith-Threlkeld said", [("Smith-Threlkeld", THRELKELD)]),
        # A registered surname inside someone's double-barrelled name: the whole name goes.
        ("Quillfeather-Jones came", [("Quillfeather-Jones", QUILLFEATHER)]),
        ("Jones-Quillfeather came", [("Jones-Quillfeather", QUILLFEATHER)]),
        ("Quillfeather-Jones's car", [("Quillfeather-Jones", QUILLFEATHER)]),
        # ...but two registered people stay two, and a hyphenated word is not a name.
        ("Quillfeather-Raman", [("Quillfeather", QUILLFEATHER), ("Raman", RAMAN)]),
        ("a Quillfeather-led review", [("Quillfeather", QUILLFEATHER)]),
        ("the Ashford-based team", [("Ashford", "ashford")]),
        # Line breaks: between names, after a title or initial, in a hyphenated name,
        # and a word broken to fit the line.
        ("Zephyrine\nQuillfeather came", [("Zephyrine\nQuillfeather", QUILLFEATHER)]),
        ("Dr.\nQuillfeather came", [("Dr.\nQuillfeather", QUILLFEATHER)]),
        ("Dr Z. \nQuillfeather came", [("Dr Z. \nQuillfeather", QUILLFEATHER)]),
        ("Anna Threlkeld-\nSmith came", [("Anna Threlkeld-\nSmith", THRELKELD)]),
        ("Quill-\nfeather came", [("Quill-\nfeather", QUILLFEATHER)]),
        ("Quill-\nfeather's deputy", [("Quill-\nfeather", QUILLFEATHER)]),
        ("Quill\u00adfeather came", [("Quill\u00adfeather", QUILLFEATHER)]),
        # Initials, with or without a title and full stops.
        ("Dr J. Quillfeather", [("Dr J. Quillfeather", QUILLFEATHER)]),
        ("Dr J Quillfeather", [("Dr J Quillfeather", QUILLFEATHER)]),
        ("J.R. Quillfeather wrote", [("J.R. Quillfeather", QUILLFEATHER)]),
        ("Prof. Z. K. Quillfeather's paper", [("Prof. Z. K. Quillfeather", QUILLFEATHER)]),
        ("Zephyrine J. Quillfeather", [("Zephyrine J. Quillfeather", QUILLFEATHER)]),
        ("A. Threlkeld-Smith", [("A. Threlkeld-Smith", THRELKELD)]),
        # "A" and "I" without a full stop are words, not initials.
        ("A Quillfeather idea", [("Quillfeather", QUILLFEATHER)]),
        ("then I Quillfeather", [("Quillfeather", QUILLFEATHER)]),
        # Patterns still win over the name inside them.
        ("Quillfeather@example.org", [("Quillfeather@example.org", None)]),
        ("z.quillfeather@example.org", [("z.quillfeather@example.org", None)]),
    ],
)
def test_forms_of_a_registered_name(finder, text, expected):
    assert found(text, finder) == expected


def test_patterns_are_still_found_beside_names(finder):
    text = "Ring Quillfeather's office on 07700 900456 or +44 (0)1632 960123; TN24 0LZ."
    kinds = [(c.text, c.kind) for c in pz.detect(text, finder=finder)]
    assert kinds == [
        ("Quillfeather", pz.PARTICIPANT),
        ("07700 900456", pz.PHONE),
        ("+44 (0)1632 960123", pz.PHONE),
        ("TN24 0LZ", pz.POSTCODE),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "We hope the smith and the quillfeather pens arrive.",  # lower case: common words
        "Smithfield market and the Threlkelds Road depot",  # other words, not the name
        "The pathway—Quill—was a pen name.",  # a fragment is not the name
        "Nurse-led clinics and self-referral",  # hyphenated words with no name in them
        "Paragraph ends with Quill-\n\nfeather dusters",  # a paragraph break joins nothing
        "Interviewer: Anna\n\nThrelkeld",  # nor does a blank line between names
    ],
)
def test_no_false_positives_on_ordinary_words(finder, text):
    flagged = [c.text for c in pz.detect(text, finder=finder)]
    assert all("Quill" not in t and "Smith" not in t for t in flagged), flagged
    assert all("\n\n" not in t for t in flagged), flagged


def test_a_blank_line_separates_names(finder):
    assert found("Interviewer: Anna\n\nThrelkeld", finder) == [
        ("Anna", THRELKELD),
        ("Threlkeld", THRELKELD),
    ]


def test_surname_parts_of_another_person_give_a_neutral_suggestion():
    # "Smith" is part of one person's surname and all of another's: the reviewer decides.
    finder = pz.NameFinder(
        [pz.Person(1, "Anna Threlkeld-Smith", "Chair 1"), pz.Person(2, "Bob Smith", "Chair 2")]
    )
    [smith] = pz.detect("Smith said so.", finder=finder)
    assert smith.ref is None and smith.suggestion == "participant"
    [whole] = pz.detect("Threlkeld-Smith said so.", finder=finder)
    assert whole.ref == ("participant", 1)


def test_anonymised_possessive_keeps_its_suffix(finder):
    text = "Quillfeather's plan and the Quillfeathers' garden, said Dr J.\nQuillfeather."
    candidates = pz.detect(text, finder=finder)
    anonymised, _ = pz.anonymise(
        text, [pz.Replacement(c.start, c.end, c.suggestion) for c in candidates]
    )
    assert anonymised == (
        "[GP member 1]'s plan and the [GP member 1]s' garden, said [GP member 1]."
    )


def test_variants_of_double_barrelled_and_three_part_names():
    hyphenated = set(pz.person_variants("Ms Anna Threlkeld-Smith"))
    assert {"Threlkeld-Smith", "Threlkeld", "Smith", "Anna Smith", "Ms Threlkeld"} <= hyphenated
    three = set(pz.person_variants("Anna Threlkeld Smith"))
    assert {"Threlkeld Smith", "Threlkeld", "Smith", "Dr Threlkeld Smith"} <= three
    # Single letters and small words are never a name on their own.
    assert not {"de", "la", "J"} & set(pz.person_variants("Maria J de la Cruz-Le"))
