"""A study exported to .qdpx (valid against Project.xsd) and imported into a new study
gives the same codebook, texts, codings (on the same words), cases and notes."""

import io
import zipfile

import pytest
import xmlschema
from django.contrib.auth import get_user_model
from django.core.management import call_command

from triangulum.casework import actions
from triangulum.casework.exchange import (
    SET_MEMO_PREFIX,
    export_project,
    export_qdpx,
    import_project,
)
from triangulum.casework.models import Case, Code, Coding, Memo, ReliabilityAssignment, Source
from triangulum.casework.refi import read_refi
from triangulum.studies.actions import create_study
from triangulum.testing import shared_path

pytestmark = pytest.mark.django_db

# Accents composed and decomposed, an emoji outside the BMP, CJK, a CRLF and a tab.
INTERVIEW = (
    "Interviewer: Tell me about the café ☕ meetings.\r\n"
    "P1: Naïve hopes at first 😀 — then the cafe\u0301 closed.\n"
    "Interviewer: And the 日本語 slides?\n"
    "P1: Ça dépend.\tWe kept them 👍🏽 anyway.\n"
)
NOTES = "Observation notes (simulated): the chair 🧑‍⚕️ spoke first; Zoë took minutes."


def schema():
    return xmlschema.XMLSchema(
        str(shared_path("fixtures", "refi_qda", "openqda_refi-tools", "Project.xsd"))
    )


def assert_valid_qdpx(path):
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("project.qde")
        names = archive.namelist()
    schema().validate(io.BytesIO(xml))
    return names


def build_study(slug="roundtrip-a"):
    User = get_user_model()
    alice = User.objects.create_user("alice", password="a-long-password-1")
    bob = User.objects.create_user("bob", password="a-long-password-2")
    study = create_study(actor=alice, slug=slug, title="Round trip ✓")
    leadership = actions.create_code(
        study=study, name="Leadership", actor=alice, colour="#AA3300",
        definition="Who leads and how.", inclusion="Named leaders.",
        exclusion="Management without clinical input.", example="'The chair led it.'",
    )  # fmt: skip
    clinical = actions.create_code(
        study=study, name="Clinical leadership", actor=alice, parent=leadership,
        colour="#00aa33", definition="GPs and nurses leading change.",
    )  # fmt: skip
    actions.create_code(study=study, name="Ünïcode & <markup>", actor=alice, parent=clinical)
    barriers = actions.create_code(study=study, name="Barriers", actor=alice)
    interview = actions.create_source_from_text(
        study=study, title="Interview 1 — café", text=INTERVIEW, kind="interview", actor=alice
    )
    notes = actions.create_source_from_text(
        study=study, title="Meeting notes 🗒", text=NOTES, kind="observation_notes", actor=alice
    )

    def span(source, words):
        start = source.text.index(words)
        return start, start + len(words)

    codings = [
        (interview, leadership, "Tell me about the café ☕ meetings", alice),
        (interview, clinical, "Naïve hopes at first 😀", alice),
        (interview, clinical, "hopes at first 😀 — then the café closed", bob),
        (interview, barriers, "then the café closed", bob),
        (interview, barriers, "We kept them 👍🏽 anyway", alice),
        (notes, leadership, "the chair 🧑‍⚕️ spoke first", bob),
        (notes, barriers, "Zoë took minutes", alice),
    ]
    made = []
    for source, code, words, coder in codings:
        start, end = span(source, words)
        made.append(
            actions.apply_coding(source=source, code=code, start=start, end=end, coder=coder)
        )
    site = actions.ensure_case(
        study=study, kind="site", name="CCG Alpha", actor=alice,
        attributes={"region": "North", "practices": 31, "share": 0.25, "pilot": True},
    )  # fmt: skip
    person = actions.ensure_case(
        study=study, kind="participant", name="P1", actor=alice,
        attributes={"role": "GP member", "years": 4},
    )  # fmt: skip
    actions.attach_sources_to_case(case=site, sources=[interview, notes], actor=alice)
    actions.attach_sources_to_case(case=person, sources=[interview], actor=alice)
    actions.add_memo(study=study, text="Study-wide thought 💭", author=alice, title="General")
    actions.add_memo(study=study, text="Source memo", author=bob, title="On the interview",
                     source=interview)  # fmt: skip
    actions.add_memo(study=study, text="Code memo: keep narrow", author=alice, code=barriers)
    actions.add_memo(study=study, text="Coding memo — ambiguous", author=bob, coding=made[2])
    actions.add_memo(study=study, text="Case memo on Alpha", author=alice, case=site)
    return study, {"alice": alice, "bob": bob}


def code_records(study):
    codes = {c.id: c for c in Code.objects.filter(study=study)}

    def path(code):
        names = []
        while code is not None:
            names.append(code.name)
            code = codes.get(code.parent_id)
        return "/".join(reversed(names))

    return sorted(
        (path(c), c.colour.lower(), c.definition, c.inclusion, c.exclusion, c.example)
        for c in codes.values()
    )


def coding_records(study, *, coder_names=None):
    rename = coder_names or (lambda name: name)
    return sorted(
        (
            c.source.title,
            c.code.name,
            c.source.text[c.start : c.end],
            rename(c.coder.username),
        )
        for c in Coding.objects.filter(source__study=study).select_related(
            "source", "code", "coder"
        )
    )


def case_records(study):
    return sorted(
        (c.kind, c.name, sorted(c.attributes.items()), sorted(s.title for s in c.sources.all()))
        for c in Case.objects.filter(study=study)
    )


def note_records(study):
    def target(memo):
        if memo.coding_id:
            return ("coding", memo.coding.source.text[memo.coding.start : memo.coding.end])
        if memo.code_id:
            return ("code", memo.code.name)
        if memo.source_id:
            return ("source", memo.source.title)
        return ("study", "")

    return sorted(
        (m.title, m.text, target(m))
        for m in Memo.objects.filter(study=study).exclude(title__startswith=SET_MEMO_PREFIX)
    )


def test_study_round_trips_through_a_schema_valid_qdpx(tmp_path):
    study, users = build_study()
    out = export_qdpx(study, tmp_path / "study.qdpx", actor="test")
    names = assert_valid_qdpx(out)
    assert len([n for n in names if n.startswith("sources/")]) == 2
    target = create_study(actor="test", slug="roundtrip-b", title="Round trip copy")
    report = import_project(study=target, path=out, actor="test", coder_map=users)
    assert report.placeholders_created == []
    assert code_records(target) == code_records(study)
    assert sorted(Source.objects.filter(study=target).values_list("title", "text")) == sorted(
        Source.objects.filter(study=study).values_list("title", "text")
    )
    assert coding_records(target) == coding_records(study)
    assert len(coding_records(target)) == 7
    assert case_records(target) == case_records(study)
    # The case memo loses its case (REFI-QDA cases carry no notes) and comes back
    # as a study memo; everything else keeps its place.
    expected_notes = [
        (t, x, ("study", "") if x == "Case memo on Alpha" else where)
        for t, x, where in note_records(study)
    ]
    assert note_records(target) == expected_notes


def test_round_trip_without_a_coder_map_keeps_coders_apart_as_placeholders(tmp_path):
    study, _ = build_study()
    out = export_qdpx(study, tmp_path / "study.qdpx", actor="test")
    target = create_study(actor="test", slug="roundtrip-c", title="Copy")
    report = import_project(study=target, path=out, actor="test")
    assert sorted(report.placeholders_created) == ["refi-alice", "refi-bob"]
    assert coding_records(target) == coding_records(study, coder_names=lambda name: f"refi-{name}")
    # A placeholder goes back out under its original name, so a second trip reuses it.
    again = export_project(target)
    assert sorted(u.name for u in again.users) == ["alice", "bob"]


def test_export_is_deterministic_and_reads_back_equal(tmp_path):
    study, _ = build_study()
    first = export_qdpx(study, tmp_path / "one.qdpx", actor="test").read_bytes()
    second = export_qdpx(study, tmp_path / "two.qdpx", actor="test").read_bytes()
    assert first == second
    assert read_refi(tmp_path / "one.qdpx") == export_project(study)


def test_blind_reliability_check_limits_what_a_coder_exports(tmp_path):
    study, users = build_study()
    interview = Source.objects.get(study=study, title__startswith="Interview")
    check = ReliabilityAssignment.objects.create(study=study, source=interview, blind=True)
    check.coders.set([users["alice"], users["bob"]])
    as_alice = export_project(study, user=users["alice"])
    alice_guid = next(u.guid for u in as_alice.users if u.name == "alice")
    exported = {s.name: s for s in as_alice.sources}
    interview_codings = [c for sel in exported[interview.title].selections for c in sel.codings]
    assert interview_codings and all(c.creating_user == alice_guid for c in interview_codings)
    # The lead (no user given) sees both coders' codings.
    everything = export_project(study)
    assert sum(len(sel.codings) for s in everything.sources for sel in s.selections) == 7


def test_sets_round_trip_through_the_set_memo(tmp_path):
    hand = shared_path("fixtures", "refi_qda", "ornio_qdpx-toolkit", "hand_authored", "project.qde")
    first = create_study(actor="test", slug="sets-a", title="Sets")
    import_project(study=first, path=hand, actor="test")
    original = read_refi(hand)
    out = export_qdpx(first, tmp_path / "sets.qdpx", actor="test")
    assert_valid_qdpx(out)
    exported = read_refi(out)
    assert [(s.name, s.member_codes, s.member_sources) for s in exported.sets] == [
        (s.name, s.member_codes, s.member_sources) for s in original.sets
    ]


def test_command_exports_a_valid_qdpx(tmp_path):
    study, _ = build_study()
    out = tmp_path / "cli.qdpx"
    buffer = io.StringIO()
    call_command("qdpx", "export", "--study", study.slug, str(out), stdout=buffer)
    assert "Wrote" in buffer.getvalue()
    assert_valid_qdpx(out)
    assert read_refi(out).counts()["codings"] == 7
