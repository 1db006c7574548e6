"""Fixtures for the casework core tests: a study with a team, and helpers to make codes.

Imported by the test modules that use them (not a conftest, so that the other casework
test modules keep their own fixtures).
"""

import pytest
from django.contrib.auth import get_user_model

from triangulum.studies import actions as study_actions
from triangulum.studies.models import Role

PASSWORD = "a-long-test-passw0rd"


@pytest.fixture
def team(db):
    """A study whose members are named after their roles, plus a second coder."""
    User = get_user_model()
    lead = User.objects.create_user(username="lead", password=PASSWORD)
    study = study_actions.create_study(actor=lead, slug="case-study", title="A case study")
    users = {"lead": lead}
    for role in (Role.RESEARCHER, Role.CODER, Role.VIEWER):
        users[role] = User.objects.create_user(username=role, password=PASSWORD)
        study_actions.add_member(actor=lead, study=study, username=role, role=role)
    users["coder2"] = User.objects.create_user(username="coder2", password=PASSWORD)
    study_actions.add_member(actor=lead, study=study, username="coder2", role=Role.CODER)
    for number in (1, 2, 3, 4):
        study.research_questions.create(number=number, short_name=f"Q{number}", text=f"Q{number}?")
    return study, users
