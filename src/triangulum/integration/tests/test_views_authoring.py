"""Authoring propositions and joint displays in the browser: the forms write through the
actions, an action's refusal shows beside its field with nothing stored, a locked
proposition stays as it was, and only the lead and researchers may open the pages."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from triangulum.audit.models import AuditEvent
from triangulum.integration.models import (
    Evidence,
    JointDisplay,
    JointDisplayCell,
    JointDisplayRow,
    Proposition,
)
from triangulum.studies.models import Role

from . import web_fixtures

pytestmark = pytest.mark.django_db
world = web_fixtures.world


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def proposition_data(world, **changes) -> dict:
    data = {
        "finding": world.findings[0].pk,
        "research_question": world.rqs[0].pk,
        "wave": world.wave.pk,
        "statement": "Most CCGs' GP members say the GPs lead redesign.",
        "test": "proportion",
        "direction": "greater",
        "item": "infl_gps",
        "categories": ["quite_a_lot", "very_extensive"],
        "denominator": "substantive",
        "threshold": "0.6",
        "margin": "",
        "group_item": "",
        "extra_items": "",
        "support_rule": "The whole 95% interval lies above 60%.",
        "intent": "save",
    }
    data.update(changes)
    return data


def field_errors(page: str, field: str) -> str:
    """The text of the field group holding ``field``'s input (its label, errors, help)."""
    match = re.search(
        rf'<div class="field field--error">((?:(?!<div class="field).)*?id="id_{field}"'
        r"(?:(?!<div class=\"field).)*)",
        page,
        re.S,
    )
    assert match, f"no error beside {field}"
    return html.unescape(match.group(1))


# --- propositions ------------------------------------------------------------------------


def test_a_researcher_writes_a_proposition_through_the_form(world):
    url = reverse("integration:new_proposition", args=[world.study.slug])
    client = client_for(world.users[Role.RESEARCHER])
    page = client.get(url).content.decode()
    # The item list is the testing wave's questionnaire.
    assert '<option value="infl_gps">' in page
    response = client.post(url, proposition_data(world))
    proposition = Proposition.objects.get(statement__startswith="Most CCGs' GP members")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "integration:proposition", args=[world.study.slug, proposition.pk]
    )
    assert proposition.status == Proposition.Status.DRAFT
    assert proposition.finding == world.findings[0] and proposition.wave == world.wave
    assert proposition.parameters == {
        "item": "infl_gps",
        "categories": ["quite_a_lot", "very_extensive"],
        "denominator": "substantive",
        "threshold": 0.6,
    }
    assert proposition.items == ["infl_gps"]
    assert proposition.created_by == world.users[Role.RESEARCHER]
    event = AuditEvent.objects.get(action="proposition.create", object_id=str(proposition.pk))
    assert event.after["parameters"]["item"] == "infl_gps"


def test_a_difference_test_takes_its_groups_and_further_items(world):
    url = reverse("integration:new_proposition", args=[world.study.slug])
    data = proposition_data(
        world,
        statement="GP members see more GP influence than lay members do.",
        test="difference",
        threshold="",
        group_item="role",
        group_a=["gp_member"],
        group_b=["lay_member"],
        extra_items="infl_ccg",
    )
    response = client_for(world.users[Role.LEAD]).post(url, data)
    assert response.status_code == 302
    proposition = Proposition.objects.get(statement__startswith="GP members see more")
    assert proposition.parameters["group_item"] == "role"
    assert proposition.parameters["group_a"] == ["gp_member"]
    assert proposition.parameters["group_b"] == ["lay_member"]
    assert "threshold" not in proposition.parameters  # 0 by default, as the test says
    assert proposition.items == ["infl_gps", "role", "infl_ccg"]


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"threshold": "1.5"}, "threshold", "strictly between 0 and 1, not 1.5"),
        ({"item": "no_such_item"}, "item", "is not an item of the wave"),
        ({"categories": ["agree"]}, "categories", '"agree" is not an answer to "infl_gps"'),
        ({"item": "comments"}, "item", "A share needs a single-choice item"),
        ({"extra_items": "nonsense"}, "extra_items", "nonsense is not in"),
    ],
)
def test_a_bad_parameter_is_shown_beside_its_field_and_nothing_is_stored(
    world, changes, field, message
):
    url = reverse("integration:new_proposition", args=[world.study.slug])
    before = (Proposition.objects.count(), AuditEvent.objects.count())
    response = client_for(world.users[Role.RESEARCHER]).post(
        url, proposition_data(world, **changes)
    )
    assert response.status_code == 400
    # The action's "items" is the form's "further items" field.
    assert message in field_errors(response.content.decode(), field)
    assert (Proposition.objects.count(), AuditEvent.objects.count()) == before


def test_restating_a_case_study_finding_prefills_the_form(world):
    finding = world.findings[0]
    url = reverse("integration:new_proposition", args=[world.study.slug])
    client = client_for(world.users[Role.RESEARCHER])
    finding_page = client.get(reverse("integration:finding", args=[world.study.slug, finding.pk]))
    assert f"{url}?finding={finding.pk}" in finding_page.content.decode()
    page = client.get(f"{url}?finding={finding.pk}").content.decode()
    assert f'<option value="{finding.pk}" selected>' in page
    assert f'<option value="{world.rqs[0].pk}" selected>' in page
    assert finding.statement in page
    # A survey finding is not restated as a proposition.
    survey = world.findings[1]
    assert client.get(f"{url}?finding={survey.pk}").status_code == 404
    survey_page = client.get(reverse("integration:finding", args=[world.study.slug, survey.pk]))
    assert "Restate as a proposition" not in survey_page.content.decode()


def test_refreshing_the_form_shows_the_chosen_items_answers_and_stores_nothing(world):
    url = reverse("integration:new_proposition", args=[world.study.slug])
    before = Proposition.objects.count()
    response = client_for(world.users[Role.LEAD]).post(
        url, proposition_data(world, item="redesign_any", categories=[], intent="refresh")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="categories" value="yes"' in page
    assert 'name="categories" value="quite_a_lot"' not in page
    assert "field--error" not in page
    assert Proposition.objects.count() == before


def test_a_researcher_edits_a_draft_and_the_edit_is_audited(world):
    draft = world.draft
    url = reverse("integration:edit_proposition", args=[world.study.slug, draft.pk])
    client = client_for(world.users[Role.RESEARCHER])
    page = client.get(url).content.decode()

    def checked(value):
        tag = re.search(rf'<input type="checkbox" name="categories" value="{value}"[^>]*>', page)
        return " checked" in tag.group(0)

    # The draft's parameters fill the form.
    assert checked("quite_a_lot") and checked("very_extensive") and not checked("some")
    assert '<option value="infl_ccg" selected>' in page
    assert draft.statement in html.unescape(page)
    response = client.post(
        url,
        proposition_data(
            world,
            statement="Revised draft.",
            item="infl_ccg",
            categories=["very_extensive"],
            threshold="0.3",
        ),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.statement == "Revised draft."
    assert draft.parameters["categories"] == ["very_extensive"]
    assert draft.parameters["threshold"] == 0.3
    assert AuditEvent.objects.filter(action="proposition.update", object_id=str(draft.pk)).exists()


def test_a_locked_proposition_is_not_offered_for_editing_and_an_edit_is_refused(world):
    locked = world.locked
    before = Proposition.objects.filter(pk=locked.pk).values().get()
    url = reverse("integration:edit_proposition", args=[world.study.slug, locked.pk])
    client = client_for(world.users[Role.LEAD])
    page = client.get(url).content.decode()
    assert 'id="proposition-form"' not in page
    assert "cannot be edited" in page
    detail = client.get(reverse("integration:proposition", args=[world.study.slug, locked.pk]))
    assert url not in detail.content.decode()
    response = client.post(url, proposition_data(world, statement="Changed after the lock."))
    assert response.status_code == 400
    assert "a locked proposition cannot be edited" in response.content.decode()
    assert Proposition.objects.filter(pk=locked.pk).values().get() == before
    assert not AuditEvent.objects.filter(
        action="proposition.update", object_id=str(locked.pk)
    ).exists()


def test_a_draft_is_deleted_and_a_locked_one_is_refused(world):
    slug = world.study.slug
    client = client_for(world.users[Role.RESEARCHER])
    detail = client.get(reverse("integration:proposition", args=[slug, world.draft.pk]))
    delete = reverse("integration:delete_proposition", args=[slug, world.draft.pk])
    assert delete in detail.content.decode()
    response = client.post(delete)
    assert response.status_code == 302
    assert not Proposition.objects.filter(pk=world.draft.pk).exists()
    assert AuditEvent.objects.filter(action="proposition.delete").count() == 1
    refused = client.post(
        reverse("integration:delete_proposition", args=[slug, world.locked.pk]), follow=True
    )
    assert "cannot be deleted" in refused.content.decode()
    assert Proposition.objects.filter(pk=world.locked.pk).exists()


# --- joint displays ----------------------------------------------------------------------


def test_a_display_is_built_row_by_row_with_cells_and_pasted_evidence(world):
    slug = world.study.slug
    client = client_for(world.users[Role.RESEARCHER])
    response = client.post(
        reverse("integration:new_display", args=[slug]),
        {
            "kind": "side_by_side",
            "title": "Councils side by side",
            "research_question": world.rqs[1].pk,
            "description": "Survey and cases on councils.",
            "columns": "survey | Survey, wave 2\nCase studies",
        },
    )
    display = JointDisplay.objects.get(title="Councils side by side")
    assert display.columns == [
        {"key": "survey", "label": "Survey, wave 2"},
        {"key": "case_studies", "label": "Case studies"},
    ]
    assert response["Location"] == reverse("integration:new_display_row", args=[slug, display.slug])
    response = client.post(
        response["Location"],
        {"label": "Council influence", "theme": "", "research_question": world.rqs[1].pk},
    )
    row = JointDisplayRow.objects.get(display=display)
    assert (row.label, row.research_question) == ("Council influence", world.rqs[1])
    row_url = reverse("integration:display_row", args=[slug, display.slug, row.pk])
    assert response["Location"] == row_url
    client.post(
        row_url,
        {"intent": "cells", "cell-survey": "32% report much influence", "cell-case_studies": ""},
    )
    cells = {cell.column: cell.text for cell in JointDisplayCell.objects.filter(row=row)}
    assert cells == {"survey": "32% report much influence"}  # an empty new cell is not made
    result = reverse("analysis:result", args=[slug, world.result.pk])
    response = client.post(
        row_url,
        {
            "intent": "add_evidence",
            "column": "survey",
            "evidence-survey-address": f"http://testserver{result}#row-2",
            "evidence-survey-label": "Council influence, wave 2",
        },
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get(cell__row=row)
    assert (evidence.analysis_result, evidence.locator) == (world.result, {"row": 1})
    # Evidence for a cell not written yet makes the (empty) cell.
    reader = reverse("casework:reader", args=[slug, world.source.pk])
    client.post(
        row_url,
        {
            "intent": "add_evidence",
            "column": "case_studies",
            "evidence-case_studies-address": f"{reader}?coding={world.coding.pk}",
        },
    )
    segment = Evidence.objects.get(cell__row=row, kind="segment")
    assert segment.cell.column == "case_studies" and segment.cell.text == ""
    page = client.get(reverse("integration:display", args=[slug, display.slug])).content.decode()
    assert "32% report much influence" in page
    assert "Council influence, wave 2" in page
    assert f"{result}#row-2" in page
    assert row_url in page
    events = AuditEvent.objects.filter(study_id=world.study.pk).values_list("action", flat=True)
    assert {"display.create", "display.add_row", "display.set_cell", "evidence.add"} <= set(events)
    # Removing the evidence from the row's page.
    client.post(row_url, {"intent": "remove_evidence", "evidence": evidence.pk})
    assert not Evidence.objects.filter(pk=evidence.pk).exists()


def test_saving_unchanged_cells_writes_no_audit_event(world):
    row = world.rows[0]
    url = reverse("integration:display_row", args=[world.study.slug, world.display.slug, row.pk])
    texts = {cell.column: cell.text for cell in row.cells.all()}
    before = AuditEvent.objects.filter(action="display.set_cell").count()
    client = client_for(world.users[Role.LEAD])
    client.post(url, {"intent": "cells", **{f"cell-{k}": v for k, v in texts.items()}})
    assert AuditEvent.objects.filter(action="display.set_cell").count() == before
    client.post(url, {"intent": "cells", "cell-survey": "changed", "cell-cases": texts["cases"]})
    assert AuditEvent.objects.filter(action="display.set_cell").count() == before + 1


@pytest.mark.parametrize(
    "columns,message",
    [
        ("survey | One\nsurvey | Two", 'Column key "survey" appears twice.'),
        ("bad key! | One", "must be short and plain"),
    ],
)
def test_bad_columns_are_refused_beside_the_field(world, columns, message):
    before = JointDisplay.objects.count()
    response = client_for(world.users[Role.LEAD]).post(
        reverse("integration:new_display", args=[world.study.slug]),
        {"kind": "side_by_side", "title": "Bad columns", "columns": columns},
    )
    assert response.status_code == 400
    assert message in field_errors(response.content.decode(), "columns")
    assert JointDisplay.objects.count() == before


def test_a_bad_evidence_address_for_a_cell_is_refused_and_nothing_is_stored(world):
    row = world.rows[0]
    url = reverse("integration:display_row", args=[world.study.slug, world.display.slug, row.pk])
    before = (Evidence.objects.count(), JointDisplayCell.objects.count())
    response = client_for(world.users[Role.LEAD]).post(
        url,
        {"intent": "add_evidence", "column": "survey", "evidence-survey-address": "/nowhere/"},
    )
    assert response.status_code == 400
    assert "is not the address of a page of Triangulum" in field_errors(
        response.content.decode(), "evidence-survey-address"
    )
    assert (Evidence.objects.count(), JointDisplayCell.objects.count()) == before


def test_a_display_called_new_does_not_hide_the_new_display_page(world):
    client = client_for(world.users[Role.LEAD])
    client.post(
        reverse("integration:new_display", args=[world.study.slug]),
        {"kind": "side_by_side", "title": "New", "columns": "a | A"},
    )
    display = JointDisplay.objects.get(title="New")
    assert display.slug == "new-display"
    assert (
        client.get(
            reverse("integration:display", args=[world.study.slug, display.slug])
        ).status_code
        == 200
    )


# --- who may write -----------------------------------------------------------------------


def authoring_urls(world) -> list[str]:
    slug = world.study.slug
    row = world.rows[0]
    return [
        reverse("integration:new_proposition", args=[slug]),
        reverse("integration:edit_proposition", args=[slug, world.draft.pk]),
        reverse("integration:new_display", args=[slug]),
        reverse("integration:new_display_row", args=[slug, world.display.slug]),
        reverse("integration:display_row", args=[slug, world.display.slug, row.pk]),
    ]


@pytest.mark.parametrize("role", Role.values)
def test_only_the_lead_and_researchers_open_the_authoring_pages(world, role):
    client = client_for(world.users[role])
    may = role in (Role.LEAD, Role.RESEARCHER)
    for url in authoring_urls(world):
        assert client.get(url).status_code == (200 if may else 403), (role, url)
    assert client_for(world.outsider).get(authoring_urls(world)[0]).status_code == 404


def test_a_viewer_cannot_write_and_sees_no_authoring_buttons(world):
    slug = world.study.slug
    viewer = client_for(world.users[Role.VIEWER])
    before = (
        Proposition.objects.count(),
        JointDisplay.objects.count(),
        JointDisplayRow.objects.count(),
        Evidence.objects.count(),
    )
    posts = [
        (authoring_urls(world)[0], proposition_data(world)),
        (authoring_urls(world)[1], proposition_data(world, statement="viewer edit")),
        (
            reverse("integration:delete_proposition", args=[slug, world.draft.pk]),
            {},
        ),
        (authoring_urls(world)[2], {"kind": "side_by_side", "title": "V", "columns": "a | A"}),
        (authoring_urls(world)[3], {"label": "viewer row"}),
        (
            authoring_urls(world)[4],
            {"intent": "add_evidence", "column": "survey", "evidence-survey-address": "/x/"},
        ),
    ]
    for url, data in posts:
        assert viewer.post(url, data).status_code == 403, url
    after = (
        Proposition.objects.count(),
        JointDisplay.objects.count(),
        JointDisplayRow.objects.count(),
        Evidence.objects.count(),
    )
    assert after == before
    pages = [
        reverse("integration:propositions", args=[slug]),
        reverse("integration:proposition", args=[slug, world.draft.pk]),
        reverse("integration:finding", args=[slug, world.findings[0].pk]),
        reverse("integration:displays", args=[slug]),
        reverse("integration:display", args=[slug, world.display.slug]),
    ]
    for page in pages:
        text = viewer.get(page).content.decode()
        for url in authoring_urls(world):
            assert url not in text, (page, url)
        assert "/delete/" not in text and "Restate as a proposition" not in text
    researcher = client_for(world.users[Role.RESEARCHER])
    assert authoring_urls(world)[0] in researcher.get(pages[0]).content.decode()
    assert authoring_urls(world)[2] in researcher.get(pages[3]).content.decode()
