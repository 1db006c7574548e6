"""Sources, codings, memos and cases: checked first, stored in one transaction, audited."""

import hashlib

import pytest

from triangulum.audit.models import AuditEvent
from triangulum.casework import actions
from triangulum.casework.actions import CaseworkError, SourceFile
from triangulum.casework.models import Case, Coding, Source, Turn
from triangulum.casework.tests import core_fixtures
from triangulum.casework.tests.test_importers import docx_bytes
from triangulum.studies.actions import register_participant
from triangulum.studies.models import RoleCategory

pytestmark = pytest.mark.django_db

team = core_fixtures.team


def events(study, action):
    return list(AuditEvent.objects.filter(study_id=study.id, action=action).order_by("id"))


TRANSCRIPT = (
    "Interview notes\n\nI: What is your role?\nGP member 3: I chair the locality.\nI: Thanks."
)


def test_import_keeps_the_original_and_links_turns_by_pseudonym(team):
    study, users = team
    gp = register_participant(
        actor=users["lead"],
        study=study,
        role_category=RoleCategory.GP_MEMBER,
        pseudonym="GP member 3",
    )
    data = docx_bytes(TRANSCRIPT.split("\n"))
    source = actions.import_source(
        study=study, file_name="int-03.docx", data=data, kind="interview", actor=users["lead"]
    )
    source.refresh_from_db()
    assert bytes(source.original_bytes) == data
    assert source.original_sha256 == hashlib.sha256(data).hexdigest()
    assert source.original_name == "int-03.docx"
    assert source.title == "int-03"
    assert source.text == TRANSCRIPT
    turns = list(source.turns.order_by("index"))
    assert [(t.speaker_label, t.participant) for t in turns] == [
        ("I", None),
        ("GP member 3", gp),
        ("I", None),
    ]
    [event] = events(study, "source.import")
    assert event.after["turns"] == 3 and event.after["original_sha256"] == source.original_sha256


def test_speaker_map_links_labels_to_participants(team):
    study, users = team
    p = register_participant(actor=users["lead"], study=study, role_category=RoleCategory.NURSE)
    source = actions.create_source_from_text(
        study=study,
        title="Nurse interview",
        text="I: Hello.\r\nR: Hello to you.",
        kind="interview",
        actor=users["lead"],
        speaker_map={"R": p.pseudonym},
    )
    assert source.text == "I: Hello.\nR: Hello to you."
    assert [t.participant for t in source.turns.order_by("index")] == [None, p]
    with pytest.raises(CaseworkError, match='mapped to "P999", which is not a participant'):
        actions.create_source_from_text(
            study=study, title="x", text="R: y", kind="interview", actor=users["lead"],
            speaker_map={"R": "P999"},
        )  # fmt: skip


def test_a_bad_file_in_a_batch_stores_nothing(team):
    study, users = team
    files = [
        SourceFile("good.txt", b"I: fine\nR: fine"),
        SourceFile("bad.txt", b"I: \xff\xfe broken"),
    ]
    with pytest.raises(CaseworkError, match=r"^bad\.txt, line 1: byte 3 is not valid UTF-8"):
        actions.import_sources(study=study, files=files, kind="interview", actor=users["lead"])
    assert not Source.objects.exists() and not Turn.objects.exists()
    assert not events(study, "source.import")


def test_bulk_import_stores_every_file_with_its_turns(team):
    study, users = team
    files = [SourceFile(f"s{n}.txt", f"I: q{n}\nR: a{n}".encode()) for n in range(5)]
    phase = study.phases.create(order=1, kind="pilot_case_studies", name="Pilot")
    sources = actions.import_sources(
        study=study, files=files, kind="group_interview", actor=users["lead"], phase=phase
    )
    assert [s.title for s in sources] == [f"s{n}" for n in range(5)]
    assert Turn.objects.filter(source__in=sources).count() == 10
    assert {s.phase for s in Source.objects.all()} == {phase}
    assert len(events(study, "source.import")) == 5


def test_unknown_kind_and_foreign_phase_are_refused(team):
    study, users = team
    with pytest.raises(CaseworkError, match='"podcast" is not a kind of source'):
        actions.create_source_from_text(
            study=study, title="t", text="x", kind="podcast", actor=users["lead"]
        )


@pytest.fixture
def coded(team):
    study, users = team
    source = actions.create_source_from_text(
        study=study, title="S", text="I: one two three\nR: four five six", kind="interview",
        actor=users["lead"],
    )  # fmt: skip
    code = actions.create_code(study=study, name="Trust", actor=users["lead"], colour="#AABBCC")
    return study, users, source, code


def test_apply_coding_records_the_current_codebook_version(coded):
    study, users, source, code = coded
    coding = actions.apply_coding(source=source, code=code, start=3, end=16, coder=users["coder"])
    assert coding.codebook_version == actions.current_codebook_version(study)
    assert code.colour == "#aabbcc"
    later = actions.create_code(study=study, name="Time", actor=users["lead"])
    second = actions.apply_coding(source=source, code=later, start=0, end=2, coder=users["coder"])
    assert second.codebook_version.number == coding.codebook_version.number + 1
    [event] = events(study, "coding.apply")[:1]
    assert event.actor == users["coder"] and event.after["start"] == 3


@pytest.mark.parametrize("start,end", [(-1, 3), (5, 5), (6, 2), (0, 10_000)])
def test_apply_coding_refuses_spans_outside_the_text(coded, start, end):
    _, users, source, code = coded
    with pytest.raises(CaseworkError, match="is not a non-empty span within"):
        actions.apply_coding(source=source, code=code, start=start, end=end, coder=users["coder"])
    assert not Coding.objects.exists()


def test_apply_coding_refuses_a_code_of_another_study(coded, make_other_study):
    study, users, source, _ = coded
    other_code = actions.create_code(study=make_other_study, name="Other", actor=users["lead"])
    with pytest.raises(CaseworkError, match="belongs to another study"):
        actions.apply_coding(source=source, code=other_code, start=0, end=2, coder=users["coder"])


@pytest.fixture
def make_other_study(team):
    from triangulum.studies.actions import create_study

    _, users = team
    return create_study(actor=users["lead"], slug="other", title="Other")


def test_adjust_and_delete_coding_are_audited(coded):
    study, users, source, code = coded
    coding = actions.apply_coding(source=source, code=code, start=3, end=7, coder=users["coder"])
    actions.adjust_coding(coding=coding, start=3, end=16, actor=users["coder"])
    coding.refresh_from_db()
    assert (coding.start, coding.end) == (3, 16)
    [adjusted] = events(study, "coding.adjust")
    assert adjusted.before == {"start": 3, "end": 7} and adjusted.after == {"start": 3, "end": 16}
    with pytest.raises(CaseworkError):
        actions.adjust_coding(coding=coding, start=10, end=3, actor=users["coder"])
    actions.delete_coding(coding=coding, actor=users["coder"])
    assert not Coding.objects.exists()
    [deleted] = events(study, "coding.delete")
    assert deleted.before["start"] == 3


def test_memos_attach_to_one_thing_of_the_same_study(coded, make_other_study):
    study, users, source, code = coded
    memo = actions.add_memo(
        study=study, text=" Compare with site B. ", author=users["researcher"], code=code
    )
    assert memo.text == "Compare with site B." and memo.code == code
    with pytest.raises(CaseworkError, match="the source belongs to another study"):
        actions.add_memo(study=make_other_study, text="x", author=users["lead"], source=source)
    with pytest.raises(CaseworkError, match="needs some text"):
        actions.add_memo(study=study, text="  ", author=users["lead"])


def test_ensure_case_is_idempotent_and_merges_attributes(coded):
    study, users, source, _ = coded
    case = actions.ensure_case(
        study=study, kind="site", name="Site A", actor=users["lead"], attributes={"size": "large"}
    )
    again = actions.ensure_case(study=study, kind="site", name="Site  A", actor=users["lead"])
    assert again.pk == case.pk
    actions.ensure_case(
        study=study, kind="site", name="Site A", actor=users["lead"], attributes={"urban": "yes"}
    )
    case.refresh_from_db()
    assert case.attributes == {"size": "large", "urban": "yes"}
    assert Case.objects.count() == 1
    assert [
        e.action for e in AuditEvent.objects.filter(object_type="casework.case").order_by("id")
    ] == [
        "case.create",
        "case.update",
    ]
    actions.attach_sources_to_case(case=case, sources=[source], actor=users["lead"])
    assert list(case.sources.all()) == [source]
    with pytest.raises(CaseworkError, match="is not a kind of case"):
        actions.ensure_case(study=study, kind="region", name="X", actor=users["lead"])
