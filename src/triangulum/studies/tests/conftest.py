import pytest
from django.contrib.auth import get_user_model

from triangulum.studies import actions
from triangulum.studies.models import Role

PASSWORD = "a-long-test-passw0rd"


@pytest.fixture
def make_user(db):
    def make(username: str):
        return get_user_model().objects.create_user(username=username, password=PASSWORD)

    return make


@pytest.fixture
def study(db, make_user):
    """A study with one member per role, each user named after their role."""
    lead = make_user("lead")
    study = actions.create_study(actor=lead, slug="test-study", title="A test study")
    for role in Role.values:
        if role != Role.LEAD:
            make_user(role)
            actions.add_member(actor=lead, study=study, username=role, role=role)
    return study


@pytest.fixture
def users(study):
    User = get_user_model()
    return {role: User.objects.get(username=role) for role in Role.values}
