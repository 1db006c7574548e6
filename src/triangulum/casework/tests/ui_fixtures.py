"""Fixtures for the case-study page tests: a team with every role, a transcript whose text
has an emoji (two UTF-16 code units), a combining mark and speaker turns, and codes.

Imported by the view and framework test modules (not a conftest, so the other casework
test modules keep their own fixtures).
"""

import pytest
from django.contrib.auth import get_user_model

from triangulum.casework import actions
from triangulum.studies import actions as study_actions
from triangulum.studies.models import Role, RoleCategory

# "q̇" is q + U+0307: NFC has no precomposed form, so it stays two code points.
TRANSCRIPT = (
    "Simulated interview, CCG A.\n"
    "Interviewer: How did the redesign start? 🏥\n"
    "P001: The frail elderly q\u0307 pathway 👩🏽\u200d⚕️ was led by GPs, and the "
    "integrated care team met weekly.\n"
    "Interviewer: Who else was involved?\n"
    "P001: Social care and the community trust joined the pathway board later.\n"
)


def utf16(text: str, codepoint_offset: int) -> int:
    """What the browser counts: UTF-16 code units up to a code-point offset."""
    return len(text[:codepoint_offset].encode("utf-16-le")) // 2


def span16(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return utf16(text, start), utf16(text, start + len(phrase))


@pytest.fixture
def team(db):
    User = get_user_model()
    lead = User.objects.create_user(username="lead", password="pw")
    study = study_actions.create_study(actor=lead, slug="ui-study", title="UI study")
    users = {"lead": lead}
    for name, role in (
        ("researcher", Role.RESEARCHER),
        ("coder", Role.CODER),
        ("coder2", Role.CODER),
        ("viewer", Role.VIEWER),
        ("interviewer", Role.INTERVIEWER),
    ):
        users[name] = User.objects.create_user(username=name, password="pw")
        study_actions.add_member(actor=lead, study=study, username=name, role=role)
    users["outsider"] = User.objects.create_user(username="outsider", password="pw")
    for number in (1, 2):
        study.research_questions.create(
            number=number, short_name=f"Question {number}", text=f"Research question {number}?"
        )
    return study, users


@pytest.fixture
def transcript(team):
    study, users = team
    study_actions.register_participant(
        actor=users["lead"],
        study=study,
        role_category=RoleCategory.GP_MEMBER,
        pseudonym="P001",
    )
    return actions.create_source_from_text(
        study=study,
        title="Interview at CCG A (simulated)",
        text=TRANSCRIPT,
        kind="interview",
        actor=users["lead"],
        simulated=True,
    )


@pytest.fixture
def codes(team):
    study, users = team
    rq1, rq2 = study.research_questions.order_by("number")
    leadership = actions.create_code(
        study=study,
        name="Clinical leadership",
        actor=users["lead"],
        colour="#1f77b4",
        definition="GPs leading change.",
        research_questions=[rq1],
    )
    integration = actions.create_code(
        study=study, name="Integration", actor=users["lead"], research_questions=[rq2]
    )
    partners = actions.create_code(
        study=study,
        name="Partners",
        actor=users["lead"],
        parent=integration,
        research_questions=[rq2],
    )
    return {"leadership": leadership, "integration": integration, "partners": partners}
