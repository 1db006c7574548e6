"""A study holding the labelled test transcripts, for the pseudonymisation tests."""

import datetime
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from triangulum.casework import actions, actions_privacy
from triangulum.organisations.models import AreaLink, Organisation, OrganisationType
from triangulum.studies import actions as study_actions
from triangulum.studies.models import Role

FIXTURES = Path(__file__).parent / "fixtures" / "privacy"
PLANTED = json.loads((FIXTURES / "planted.json").read_text(encoding="utf-8"))
PASSWORD = "a-long-test-passw0rd"


def planted_spans(text: str, file_name: str):
    spans, cursor = [], 0
    for string, kind, entity in PLANTED["sources"][file_name]:
        start = text.index(string, cursor)
        spans.append((start, start + len(string), kind, entity))
        cursor = start + len(string)
    return spans


@pytest.fixture
def labelled(db):
    User = get_user_model()
    lead = User.objects.create_user(username="lead", password=PASSWORD)
    study = study_actions.create_study(actor=lead, slug="privacy-study", title="Privacy study")
    users = {"lead": lead}
    for role in (Role.RESEARCHER, Role.CODER, Role.VIEWER, Role.INTERVIEWER):
        users[role] = User.objects.create_user(username=role, password=PASSWORD)
        study_actions.add_member(actor=lead, study=study, username=role, role=role)
    day = datetime.date(2013, 4, 1)
    ashford = Organisation.objects.create(
        org_type=OrganisationType.CCG, ods_code="09C", name="NHS Ashford CCG", open_date=day
    )
    barking = Organisation.objects.create(
        org_type=OrganisationType.PRACTICE,
        ods_code="F82018",
        name="BARKING MEDICAL GROUP PRACTICE",
        parent=ashford,
        open_date=day,
    )
    kent = Organisation.objects.create(
        org_type=OrganisationType.HWB, ods_code="E10000016", name="Kent", open_date=day
    )
    AreaLink.objects.create(commissioner=ashford, hwb=kent)
    people = {}
    for key, row in PLANTED["people"].items():
        participant = study_actions.register_participant(
            actor=lead, study=study, role_category=row["role_category"], organisation=ashford
        )
        study_actions.set_participant_contact(
            actor=lead, participant=participant, full_name=row["full_name"]
        )
        people[key] = participant
    for row in PLANTED["hand_added"].values():
        actions_privacy.add_identifier(
            study=study, original=row["name"], actor=lead, group=row["group"]
        )
    sources = {}
    for file_name in PLANTED["sources"]:
        sources[file_name] = actions.create_source_from_text(
            study=study,
            title=f"Labelled {file_name}",
            text=(FIXTURES / file_name).read_text(encoding="utf-8"),
            kind="interview",
            actor=lead,
            site=ashford,
            simulated=True,
        )
    code = actions.create_code(study=study, name="Frailty", actor=lead)
    interview = sources["labelled_interview.txt"]
    codings = []
    for phrase in PLANTED["coded_phrases"]:
        start = interview.text.index(phrase)
        codings.append(
            actions.apply_coding(
                source=interview,
                code=code,
                start=start,
                end=start + len(phrase),
                coder=users[Role.CODER],
            )
        )
    return {
        "study": study,
        "users": users,
        "people": people,
        "organisations": {"ashford": ashford, "barking": barking, "kent": kent},
        "sources": sources,
        "codings": codings,
    }
