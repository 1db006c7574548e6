"""The whole pseudonymisation flow on an imported source whose names appear in the forms
people write them: possessive, double-barrelled, in capitals, across line breaks, with
initials. Scan, accept, read the anonymised text, export: no planted name survives."""

import datetime
import re
import zipfile

import pytest
from django.contrib.auth import get_user_model

from triangulum.casework import actions
from triangulum.casework import actions_privacy as privacy
from triangulum.casework.models import Pseudonym, PseudonymCandidate
from triangulum.casework.refi import read_refi
from triangulum.organisations.models import Organisation, OrganisationType
from triangulum.studies import actions as study_actions

pytestmark = pytest.mark.django_db

TRANSCRIPT = """\
SIMULATED TRANSCRIPT — invented people, planted for the pseudonymisation tests.

Interviewer: Who chairs the frailty board?

R: Dr Z. Quillfeather chairs it. Quillfeather's view is that the pathway needs the hospital.
Everyone calls it the QUILLFEATHER PLAN now, after Zephyrine
Quillfeather herself.

Interviewer: And the council side?

R: Anna Threlkeld-Smith leads for the council. Threlkeld-Smith's team and Mrs Threlkeld
Smith herself sit on the board; the minutes say Smith-Threlkeld, or just Threlkeld.
The Quillfeathers' garden party was where it started, and Quillfeather-Jones, her
cousin, brought the minutes signed by J. Quillfeather and by Anna Threlkeld-
Smith. Quill-
feather's deputy kept them. Write to z.quillfeather@example.org or ring 07700 900321.

Interviewer: Anything else?

R: Smithfield market and the quill pens of the old board room, nothing more.
"""

# Every planted occurrence, as the finder should propose it (possessive suffixes stay
# outside), in text order.
PLANTED = [
    "Dr Z. Quillfeather",
    "Quillfeather",
    "QUILLFEATHER",
    "Zephyrine\nQuillfeather",
    "Anna Threlkeld-Smith",
    "Threlkeld-Smith",
    "Mrs Threlkeld\nSmith",
    "Smith-Threlkeld",
    "Threlkeld",
    "Quillfeather",
    "Quillfeather-Jones",
    "J. Quillfeather",
    "Anna Threlkeld-\nSmith",
    "Quill-\nfeather",
    "z.quillfeather@example.org",
    "07700 900321",
]
# What must not be readable anywhere in the anonymised text or its exports.
LEAKS = re.compile(
    r"quillfeather|threlkeld|zephyrine|quill-|jones|(?<!\w)smith(?!field)|07700|\bdr z\b|"
    r"\bj\. \[",
    re.IGNORECASE,
)
CODED = "Quillfeather's view is that the pathway needs the hospital"


@pytest.fixture
def planted(db):
    lead = get_user_model().objects.create_user(username="lead", password="a-long-passw0rd")
    study = study_actions.create_study(actor=lead, slug="forms-study", title="Forms study")
    ccg = Organisation.objects.create(
        org_type=OrganisationType.CCG,
        ods_code="99Q",
        name="NHS Westerby CCG",
        open_date=datetime.date(2013, 4, 1),
    )
    people = {}
    for key, full_name, role in (
        ("quillfeather", "Dr Zephyrine Quillfeather", "gp_member"),
        ("threlkeld", "Ms Anna Threlkeld-Smith", "la_officer"),
    ):
        participant = study_actions.register_participant(
            actor=lead, study=study, role_category=role, organisation=ccg
        )
        study_actions.set_participant_contact(
            actor=lead, participant=participant, full_name=full_name
        )
        people[key] = participant
    source = actions.import_source(
        study=study,
        file_name="board-interview.txt",
        data=TRANSCRIPT.encode("utf-8"),
        kind="interview",
        actor=lead,
        site=ccg,
        title="Board interview: Dr Quillfeather's and Threlkeld-Smith's accounts",
        simulated=True,
    )
    code = actions.create_code(study=study, name="Frailty board", actor=lead)
    start = source.text.index(CODED)
    coding = actions.apply_coding(
        source=source, code=code, start=start, end=start + len(CODED), coder=lead
    )
    actions.add_memo(
        study=study,
        author=lead,
        source=source,
        title="Follow up with J. Quillfeather",
        text="Ask Threlkeld-Smith's office for the Quillfeather-Jones minutes.",
    )
    return {"study": study, "lead": lead, "people": people, "source": source, "coding": coding}


def scan_and_accept(study, lead):
    privacy.scan_study(study=study, actor=lead)
    for kind in Pseudonym.Kind.values:
        privacy.accept_all_of_kind(study=study, kind=kind, actor=lead)


def test_scan_proposes_every_planted_form_and_nothing_else(planted):
    study, lead, source = planted["study"], planted["lead"], planted["source"]
    assert source.text == TRANSCRIPT  # the import kept the text as written
    privacy.scan_study(study=study, actor=lead)
    found = [c.text for c in source.pseudonym_candidates.order_by("start")]
    assert found == PLANTED


def test_every_form_is_pseudonymised_as_its_person(planted):
    study, lead, source = planted["study"], planted["lead"], planted["source"]
    scan_and_accept(study, lead)
    people = planted["people"]
    persons = {
        c.text: c.pseudonym.participant_id
        for c in source.pseudonym_candidates.select_related("pseudonym")
        if c.kind == "participant"
    }
    assert all(c.status == "accepted" for c in source.pseudonym_candidates.all())
    for text, participant_id in persons.items():
        expected = people["threlkeld" if "Threlkeld" in text or "Smith" in text else "quillfeather"]
        assert participant_id == expected.id, text
    quillfeather = Pseudonym.objects.filter(participant=people["quillfeather"])
    assert {p.replacement for p in quillfeather} == {"GP member 1"}
    threlkeld = Pseudonym.objects.filter(participant=people["threlkeld"])
    assert {p.replacement for p in threlkeld} == {"Local authority officer 1"}


def test_anonymised_text_holds_no_planted_name_and_keeps_the_coding(planted):
    study, lead, source = planted["study"], planted["lead"], planted["source"]
    scan_and_accept(study, lead)
    text, offsets = privacy.anonymised_text(source)
    assert LEAKS.findall(text) == []
    assert "[GP member 1]'s view" in text and "[GP member 1]s' garden" in text
    assert "signed by [GP member 1] and by [Local authority officer 1]." in text
    assert "[Local authority officer 1]'s team" in text
    # Look-alikes stay as they were.
    assert "Smithfield market and the quill pens" in text
    coding = planted["coding"]
    start, end = offsets.segment(coding.start, coding.end)
    assert text[start:end] == "[GP member 1]'s view is that the pathway needs the hospital"


def test_export_and_its_refi_project_hold_no_planted_name(planted, tmp_path):
    study, lead = planted["study"], planted["lead"]
    scan_and_accept(study, lead)
    summary = privacy.export_anonymised(study=study, out=tmp_path / "anon.zip", actor=lead)
    assert (summary.sources, summary.codings, summary.replacements) == (1, 1, len(PLANTED))
    with zipfile.ZipFile(summary.path) as archive:
        blobs = {name: archive.read(name) for name in archive.namelist()}
    (tmp_path / "project.qdpx").write_bytes(blobs.pop("project.qdpx"))
    with zipfile.ZipFile(tmp_path / "project.qdpx") as inner:
        blobs |= {f"project.qdpx/{n}": inner.read(n) for n in inner.namelist()}
    for name, blob in blobs.items():
        content = blob.decode("utf-8", "replace")
        assert LEAKS.findall(content) == [], name
    # The anonymised project still carries the source, its coding, and the memo.
    project = read_refi(tmp_path / "project.qdpx")
    [qdpx_source] = project.sources
    [selection] = qdpx_source.selections
    assert qdpx_source.text[selection.start : selection.end].startswith("[GP member 1]'s view")
    assert "[GP member 1]'s" in qdpx_source.name
    [note] = [n for n in project.notes if "minutes" in (n.text or "")]
    assert "[Local authority officer 1]'s office" in note.text
    assert "[GP member 1]" in note.name and "J." not in note.name


def test_a_longer_name_found_later_is_proposed_around_an_accepted_part(planted):
    study, lead, source = planted["study"], planted["lead"], planted["source"]
    # An earlier decision on "Quillfeather" alone, where the text says "Quillfeather-Jones".
    start = source.text.index("Quillfeather-Jones")
    part = PseudonymCandidate.objects.create(
        source=source,
        start=start,
        end=start + len("Quillfeather"),
        text="Quillfeather",
        kind="participant",
    )
    privacy.accept_candidate(candidate=part, actor=lead)
    privacy.scan_study(study=study, actor=lead)
    whole = source.pseudonym_candidates.get(start=start, end=start + len("Quillfeather-Jones"))
    assert whole.status == PseudonymCandidate.Status.PENDING
    privacy.accept_candidate(candidate=whole, actor=lead)
    text, _ = privacy.anonymised_text(source)
    assert "Jones" not in text
