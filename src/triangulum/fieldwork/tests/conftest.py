import datetime as dt
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FORM = FIXTURES / "leadership_short.md"


@pytest.fixture
def study(db):
    from triangulum.studies import actions as study_actions

    return study_actions.create_study(actor="test", slug="fw-test", title="Fieldwork test")


@pytest.fixture
def organisations(db):
    from triangulum.organisations.models import Organisation

    return {
        "open": Organisation.objects.create(
            org_type="ccg",
            ods_code="01A",
            name="Open CCG",
            open_date=dt.date(2013, 4, 1),
            region_name="North",
        ),
        "closed": Organisation.objects.create(
            org_type="ccg",
            ods_code="02B",
            name="Merged CCG",
            open_date=dt.date(2013, 4, 1),
            close_date=dt.date(2018, 3, 31),
            region_name="South",
        ),
        "other": Organisation.objects.create(
            org_type="ccg",
            ods_code="03C",
            name="Another CCG",
            open_date=dt.date(2013, 4, 1),
            region_name="South",
        ),
    }


@pytest.fixture
def users(db, study):
    from django.contrib.auth import get_user_model

    from triangulum.studies import actions as study_actions

    made = {}
    for name, role in [
        ("ivan", "interviewer"),
        ("iris", "interviewer"),
        ("lena", "lead"),
        ("rob", "researcher"),
        ("cora", "coder"),
    ]:
        made[name] = get_user_model().objects.create_user(name, password="pw-fieldwork-1")
        if role != "lead":
            study_actions.add_member(actor="test", study=study, username=name, role=role)
        else:
            study_actions.add_member(actor="test", study=study, username=name, role="lead")
    return made


@pytest.fixture
def wave(study, organisations):
    from triangulum.fieldwork import actions

    version = actions.import_instrument_version(
        actor="test", study=study, slug="short", title="Short", file_path=FORM
    )
    return actions.create_wave(
        actor="test",
        study=study,
        number=1,
        name="Wave 1",
        instrument_version=version,
        frame_vintage=dt.date(2019, 4, 1),
        field_start=dt.date(2024, 1, 1),
        field_end=dt.date(2024, 12, 31),
        modes=["telephone", "web", "paper"],
        max_attempts=3,
    )


RESPONDENTS = (
    "organisation_code,role,full_name,phone,phone_alt,email,priority\n"
    "01A,chair,Ada Chair,0113 496 0001,07700 900001,ada@example.org,0\n"
    "01A,gp_member,Ben GP,0113 496 0002,,ben@example.org,5\n"
    "03C,nurse,Cat Nurse,+44 113 496 0003,,cat@example.org,0\n"
)


@pytest.fixture
def respondents(wave):
    from triangulum.fieldwork import actions

    actions.import_respondents(actor="test", wave=wave, text=RESPONDENTS)
    return {
        i.participant.contact.full_name: i
        for i in wave.interviews.select_related("participant__contact")
    }
