"""Instruments, respondents, calls and answers through the app's actions."""

import datetime as dt
import hashlib

import pytest

from triangulum.audit.models import AuditEvent
from triangulum.fieldwork import actions, runner, scheduler
from triangulum.fieldwork.models import Answer, InstrumentVersion, Interview
from triangulum.fieldwork.xlsform import AnswerRejected, InstrumentError
from triangulum.studies.models import Participant, ParticipantContact

from .conftest import FIXTURES, FORM

MONDAY_10 = dt.datetime(2024, 6, 3, 10, 0, tzinfo=scheduler.LONDON)


@pytest.mark.django_db
def test_instrument_version_keeps_bytes_hash_and_parsed_form(study):
    version = actions.import_instrument_version(
        actor="test", study=study, slug="short", title="Short", file_path=FORM
    )
    data = FORM.read_bytes()
    assert bytes(version.file_bytes) == data
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert version.version == "1"
    names = [child["name"] for child in version.form_json["children"]]
    assert "clinical_lead" in names and "lead_area" in names
    again = actions.import_instrument_version(
        actor="test",
        study=study,
        slug="short",
        title="Short",
        data=data,
        file_name="leadership_short.md",
    )
    assert again.pk == version.pk


@pytest.mark.django_db
def test_a_form_with_problems_is_refused_and_nothing_is_stored(study):
    with pytest.raises(InstrumentError) as caught:
        actions.import_instrument_version(
            actor="test",
            study=study,
            slug="broken",
            title="Broken",
            file_path=FIXTURES / "broken_form.md",
        )
    assert caught.value.problems and "sheet" in str(caught.value)
    assert InstrumentVersion.objects.count() == 0
    assert not study.instruments.exists()


@pytest.mark.django_db
def test_respondents_become_participants_contacts_and_interviews(respondents, wave):
    assert wave.interviews.count() == 3
    ada = respondents["Ada Chair"]
    assert ada.participant.role_category == "chair"
    assert ada.participant.organisation.ods_code == "01A"
    assert actions.phone_numbers(ada) == ["01134960001", "07700900001"]
    assert respondents["Cat Nurse"].participant.contact.phone == "01134960003"
    assert respondents["Ben GP"].priority == 5
    assert AuditEvent.objects.filter(action="wave.import_respondents").count() == 1


@pytest.mark.django_db
def test_a_bad_respondents_file_is_rejected_with_every_problem_by_row(respondents, wave):
    before = (
        Participant.objects.count(),
        ParticipantContact.objects.count(),
        Interview.objects.count(),
    )
    bad = (
        "organisation_code,role,full_name,phone\n"
        "ZZZ,chair,Unknown Org,0113 496 0100\n"  # row 2: unknown code
        "02B,chair,Closed Org,0113 496 0101\n"  # row 3: closed before the vintage
        "01A,chair,Dee Dup,0113 496 0102\n"
        "01A,chair,Dee Dup,0113 496 0103\n"  # row 5: duplicate within the file
        "01A,chair,Ada Chair,0113 496 0104\n"  # row 6: already in the wave
        "03C,nurse,Eve Phone,12345\n"  # row 7: malformed number
        "03C,dentist,Fay Role,0113 496 0105\n"  # row 8: unknown role
        "03C,nurse,Good Row,0113 496 0106\n"
    )
    with pytest.raises(actions.RespondentImportError) as caught:
        actions.import_respondents(actor="test", wave=wave, text=bad, source="bad.csv")
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {
        (2, "organisation_code"),
        (3, "organisation_code"),
        (5, "full_name"),
        (6, "full_name"),
        (7, "phone"),
        (8, "role"),
    }
    text = str(caught.value)
    assert "bad.csv: row 3, column organisation_code" in text and "not open" in text
    assert "row 5" in text and "also on row 4" in text
    assert (
        Participant.objects.count(),
        ParticipantContact.objects.count(),
        Interview.objects.count(),
    ) == before


def test_uk_phone_numbers_are_normalised_or_refused():
    assert actions.normalise_uk_phone("+44 (0)113 496 0000") is None
    assert actions.normalise_uk_phone("+44 113 496 0000") == "01134960000"
    assert actions.normalise_uk_phone("07700-900123") == "07700900123"
    assert actions.normalise_uk_phone("113 496 0000") is None
    assert actions.normalise_uk_phone("0113 496 00001 2") is None


@pytest.mark.django_db
def test_wrong_number_tries_the_other_number_then_ends_the_case(respondents, users, wave):
    case = scheduler.claim_next(wave, users["ivan"], now=MONDAY_10)
    assert case.participant.contact.full_name == "Ben GP"  # one number only
    actions.record_call_outcome(
        actor=users["ivan"],
        interview=case,
        outcome="wrong_number",
        number_dialled="01134960002",
        now=MONDAY_10,
    )
    case.refresh_from_db()
    assert case.status == Interview.Status.FINALISED and case.disposition == "3.90"
    ada = Interview.objects.get(pk=respondents["Ada Chair"].pk)
    Interview.objects.filter(pk=ada.pk).update(claimed_by=users["ivan"], claimed_at=MONDAY_10)
    actions.record_call_outcome(
        actor=users["ivan"],
        interview=ada,
        outcome="wrong_number",
        number_dialled="01134960001",
        now=MONDAY_10,
    )
    ada.refresh_from_db()
    assert ada.status == Interview.Status.NOT_STARTED and ada.wrong_numbers == ["01134960001"]


@pytest.mark.django_db
def test_answers_are_saved_one_by_one_and_skip_logic_clears_them(respondents, users):
    case = respondents["Ada Chair"]
    root = "/data"
    following = actions.save_answer(
        actor=users["ivan"],
        interview=case,
        path=f"{root}/clinical_lead",
        value="yes",
        mode="telephone",
    )
    assert following == f"{root}/lead_area"
    actions.save_answer(
        actor=users["ivan"],
        interview=case,
        path=f"{root}/lead_area",
        value="Diabetes",
        mode="telephone",
    )
    assert set(case.answers.values_list("item_path", flat=True)) == {
        f"{root}/clinical_lead",
        f"{root}/lead_area",
    }
    stored = case.answers.get(item_path=f"{root}/lead_area")
    assert stored.instrument_version == case.wave.instrument_version
    assert stored.answered_by == users["ivan"]
    # Answering "no" hides lead_area: its answer is cleared, and the next step skips it.
    following = actions.save_answer(
        actor=users["ivan"],
        interview=case,
        path=f"{root}/clinical_lead",
        value="no",
        mode="telephone",
    )
    assert following == f"{root}/years_on_board"
    assert not case.answers.filter(item_path=f"{root}/lead_area").exists()
    with pytest.raises(AnswerRejected, match="0 to 40"):
        actions.save_answer(
            actor=users["ivan"],
            interview=case,
            path=f"{root}/years_on_board",
            value="99",
            mode="telephone",
        )
    with pytest.raises(AnswerRejected, match="required"):
        actions.save_answer(
            actor=users["ivan"],
            interview=case,
            path=f"{root}/years_on_board",
            value="",
            mode="telephone",
        )
    assert not case.answers.filter(item_path=f"{root}/years_on_board").exists()
    case.refresh_from_db()
    assert case.resume_at == f"{root}/years_on_board"
    session = actions.session_for(case)
    assert runner.resume_point(session, case.resume_at) == f"{root}/years_on_board"
    assert runner.step_before(session, f"{root}/years_on_board") == f"{root}/clinical_lead"


@pytest.mark.django_db
def test_complete_needs_every_required_answer_then_codes_1_1(respondents, users):
    case = respondents["Ada Chair"]
    with pytest.raises(actions.FieldworkError, match="still need answers"):
        actions.complete_interview(actor=users["ivan"], interview=case, mode="telephone")
    for path, value in [("clinical_lead", "no"), ("years_on_board", "4"), ("influence", "4")]:
        actions.save_answer(
            actor=users["ivan"], interview=case, path=f"/data/{path}", value=value, mode="telephone"
        )
    done = actions.complete_interview(actor=users["ivan"], interview=case, mode="telephone")
    assert done.status == Interview.Status.COMPLETE and done.disposition == "1.1"
    assert done.calls.get().aapor_code == "1.1"
    with pytest.raises(actions.FieldworkError, match="closed"):
        actions.save_answer(
            actor=users["ivan"],
            interview=case,
            path="/data/comments",
            value="late",
            mode="telephone",
        )


@pytest.mark.django_db
def test_closing_a_wave_gives_every_open_case_a_final_code(respondents, users, wave):
    ada, ben, cat = (respondents[n] for n in ("Ada Chair", "Ben GP", "Cat Nurse"))
    Interview.objects.filter(pk=ben.pk).update(claimed_by=users["ivan"], claimed_at=MONDAY_10)
    actions.record_call_outcome(
        actor=users["ivan"], interview=ben, outcome="no_answer", now=MONDAY_10
    )
    for path, value in [("clinical_lead", "no"), ("years_on_board", "4"), ("influence", "2")]:
        actions.save_answer(
            actor=users["ivan"], interview=cat, path=f"/data/{path}", value=value, mode="paper"
        )
    counts = actions.close_wave(actor="test", wave=wave)
    codes = dict(Interview.objects.values_list("pk", "disposition"))
    assert codes[ada.pk] == "3.11"  # never dialled
    assert codes[ben.pk] == "2.20"  # eligible non-contact
    assert codes[cat.pk] == "1.2"  # 3 of the 5 applicable questions answered
    assert sum(counts.values()) == 3
    assert not Interview.objects.exclude(status=Interview.Status.FINALISED).exists()
    assert Answer.objects.filter(interview=cat).count() == 3
