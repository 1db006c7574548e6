"""The source reader and coding through the test client: roles, UTF-16 offsets from the
browser, adjust/nudge/delete of one's own codings, memos and blind mode."""

import pytest
from django.urls import reverse

from triangulum.audit.models import AuditEvent
from triangulum.casework import actions
from triangulum.casework.models import Coding, Memo, ReliabilityAssignment, Source

from . import ui_fixtures
from .ui_fixtures import TRANSCRIPT, span16, utf16

pytestmark = pytest.mark.django_db
codes = ui_fixtures.codes
team = ui_fixtures.team
transcript = ui_fixtures.transcript
HTMX = {"HTTP_HX_REQUEST": "true"}


def reader_url(source):
    return reverse("casework:reader", args=[source.study.slug, source.pk])


def apply_url(source):
    return reverse("casework:apply", args=[source.study.slug, source.pk])


@pytest.mark.parametrize(
    ("user", "sources", "reader", "codebook", "frameworks"),
    [
        ("lead", 200, 200, 200, 200),
        ("researcher", 200, 200, 200, 200),
        ("coder", 200, 200, 200, 200),
        ("viewer", 403, 403, 200, 200),
        ("interviewer", 403, 403, 403, 403),
        ("outsider", 404, 404, 404, 404),
    ],
)
def test_who_may_open_which_page(
    client, team, transcript, user, sources, reader, codebook, frameworks
):
    study, users = team
    client.force_login(users[user])
    slug = study.slug
    assert client.get(reverse("casework:sources", args=[slug])).status_code == sources
    assert client.get(reader_url(transcript)).status_code == reader
    assert client.get(reverse("casework:codebook", args=[slug])).status_code == codebook
    assert client.get(reverse("casework:frameworks", args=[slug])).status_code == frameworks


def test_the_reader_shows_turns_with_speaker_pseudonym_and_role(client, team, transcript):
    study, users = team
    client.force_login(users["coder"])
    page = client.get(reader_url(transcript)).text
    assert "Interview at CCG A (simulated)" in page
    assert "simulated source" in page
    assert "P001</span> — P001, GP governing-body member" in page
    # Each block carries its start in UTF-16 units: the second turn starts after the emoji.
    second = transcript.turns.order_by("index")[1]
    assert f'data-start="{second.start}" data-u16="{utf16(TRANSCRIPT, second.start)}"' in page
    assert utf16(TRANSCRIPT, second.start) == second.start + 1


def test_applying_two_codes_with_utf16_offsets_stores_code_points(client, team, transcript, codes):
    study, users = team
    client.force_login(users["coder"])
    phrase = "pathway 👩🏽\u200d⚕️ was led by GPs"
    start16, end16 = span16(TRANSCRIPT, phrase)
    response = client.post(
        apply_url(transcript),
        {
            "start16": start16,
            "end16": end16,
            "code": [codes["leadership"].pk, codes["partners"].pk],
        },
        **HTMX,
    )
    assert response.status_code == 200
    made = list(Coding.objects.filter(source=transcript).order_by("code__name"))
    assert [c.code.name for c in made] == ["Clinical leadership", "Partners"]
    start = TRANSCRIPT.index(phrase)
    for coding in made:
        assert (coding.start, coding.end) == (start, start + len(phrase))
        assert transcript.text[coding.start : coding.end] == phrase
        assert coding.coder == users["coder"]
    # Code points, not UTF-16: the emoji before the phrase and the one inside it differ.
    assert start16 != start and end16 - start16 != len(phrase)
    assert "Coded &#x27;Clinical leadership, Partners&#x27; on &#x27;pathway" in response.text
    assert f'id="coding-{made[0].pk}"' in response.text
    assert AuditEvent.objects.filter(action="coding.apply", study_id=study.pk).count() == 2


def test_a_selection_across_a_combining_mark_keeps_the_mark(client, team, transcript, codes):
    study, users = team
    client.force_login(users["coder"])
    phrase = "elderly q\u0307"
    start16, end16 = span16(TRANSCRIPT, phrase)
    client.post(
        apply_url(transcript), {"start16": start16, "end16": end16, "code": codes["leadership"].pk}
    )
    coding = Coding.objects.get(source=transcript)
    assert transcript.text[coding.start : coding.end] == phrase


def test_an_offset_inside_an_emoji_is_refused_and_nothing_is_stored(
    client, team, transcript, codes
):
    study, users = team
    client.force_login(users["coder"])
    inside_emoji = utf16(TRANSCRIPT, TRANSCRIPT.index("🏥")) + 1
    response = client.post(
        apply_url(transcript),
        {"start16": 0, "end16": inside_emoji, "code": codes["leadership"].pk},
        **HTMX,
    )
    assert response.status_code == 200
    assert "Not coded" in response.text and "surrogate pair" in response.text
    assert not Coding.objects.exists()


def test_codes_of_another_study_or_none_are_refused(client, team, transcript, codes):
    study, users = team
    client.force_login(users["coder"])
    start16, end16 = span16(TRANSCRIPT, "weekly")
    response = client.post(apply_url(transcript), {"start16": start16, "end16": end16}, **HTMX)
    assert "Choose one or more codes" in response.text
    response = client.post(
        apply_url(transcript), {"start16": start16, "end16": end16, "code": 999999}, **HTMX
    )
    assert "Choose one or more codes" in response.text
    assert not Coding.objects.exists()


def _coding(users, transcript, code, phrase, coder="coder"):
    start = TRANSCRIPT.index(phrase)
    return actions.apply_coding(
        source=transcript, code=code, start=start, end=start + len(phrase), coder=users[coder]
    )


def test_adjusting_to_a_new_selection_and_nudging_by_words(client, team, transcript, codes):
    study, users = team
    coding = _coding(users, transcript, codes["leadership"], "led by GPs")
    client.force_login(users["coder"])
    start16, end16 = span16(TRANSCRIPT, "was led by GPs")
    client.post(
        reverse("casework:adjust", args=[study.slug, coding.pk]),
        {"start16": start16, "end16": end16},
        **HTMX,
    )
    coding.refresh_from_db()
    assert transcript.text[coding.start : coding.end] == "was led by GPs"
    nudge = reverse("casework:nudge", args=[study.slug, coding.pk])
    client.post(nudge, {"edge": "end", "direction": "1"}, **HTMX)
    coding.refresh_from_db()
    assert transcript.text[coding.start : coding.end] == "was led by GPs, and"
    client.post(nudge, {"edge": "start", "direction": "1"}, **HTMX)
    coding.refresh_from_db()
    assert transcript.text[coding.start : coding.end] == "led by GPs, and"
    client.post(nudge, {"edge": "start", "direction": "-1"}, **HTMX)
    client.post(nudge, {"edge": "end", "direction": "-1"}, **HTMX)
    coding.refresh_from_db()
    assert transcript.text[coding.start : coding.end] == "was led by GPs"
    assert AuditEvent.objects.filter(action="coding.adjust", object_id=str(coding.pk)).count() == 5


def test_coders_change_and_delete_only_their_own_codings(client, team, transcript, codes):
    study, users = team
    coding = _coding(users, transcript, codes["leadership"], "led by GPs")
    start16, end16 = span16(TRANSCRIPT, "GPs")
    for other in ("coder2", "lead"):
        client.force_login(users[other])
        assert (
            client.post(reverse("casework:delete", args=[study.slug, coding.pk])).status_code == 403
        )
        assert (
            client.post(
                reverse("casework:adjust", args=[study.slug, coding.pk]),
                {"start16": start16, "end16": end16},
            ).status_code
            == 403
        )
        page = client.get(reader_url(transcript)).text
        assert "Only coder may change this coding" in page
    coding.refresh_from_db()
    assert transcript.text[coding.start : coding.end] == "led by GPs"
    client.force_login(users["coder"])
    response = client.post(reverse("casework:delete", args=[study.slug, coding.pk]), **HTMX)
    assert "Removed &#x27;Clinical leadership&#x27;" in response.text
    assert not Coding.objects.exists()
    assert AuditEvent.objects.filter(action="coding.delete").count() == 1


def test_blind_mode_hides_other_coders_codings_in_the_html(client, team, transcript, codes):
    study, users = team
    mine = _coding(users, transcript, codes["leadership"], "led by GPs")
    theirs = _coding(users, transcript, codes["partners"], "Social care", coder="coder2")
    assignment = ReliabilityAssignment.objects.create(study=study, source=transcript, blind=True)
    assignment.coders.set([users["coder"], users["coder2"]])
    client.force_login(users["coder"])
    page = client.get(reader_url(transcript)).text
    assert f'id="coding-{mine.pk}"' in page
    assert f'id="coding-{theirs.pk}"' not in page and "Partners</strong>" not in page
    assert "Blind reliability check" in page
    # Nor can the coder reach it by URL.
    assert (
        client.post(
            reverse("casework:memo", args=[study.slug]),
            {"target": "coding", "target_id": theirs.pk, "text": "peek"},
        ).status_code
        == 404
    )
    client.force_login(users["lead"])
    page = client.get(reader_url(transcript)).text
    assert f'id="coding-{mine.pk}"' in page and f'id="coding-{theirs.pk}"' in page


def test_mine_only_filter(client, team, transcript, codes):
    study, users = team
    mine = _coding(users, transcript, codes["leadership"], "led by GPs")
    theirs = _coding(users, transcript, codes["partners"], "Social care", coder="coder2")
    client.force_login(users["coder"])
    page = client.get(reader_url(transcript) + "?show=mine").text
    assert f'id="coding-{mine.pk}"' in page and f'id="coding-{theirs.pk}"' not in page
    page = client.get(reader_url(transcript)).text
    assert f'id="coding-{theirs.pk}"' in page


def test_memos_on_a_coding_and_a_source(client, team, transcript, codes):
    study, users = team
    coding = _coding(users, transcript, codes["leadership"], "led by GPs")
    client.force_login(users["coder2"])
    memo_url = reverse("casework:memo", args=[study.slug])
    response = client.post(
        memo_url,
        {"target": "coding", "target_id": coding.pk, "text": "GP-led, not manager-led"},
        **HTMX,
    )
    assert "GP-led, not manager-led" in response.text
    client.post(memo_url, {"target": "source", "target_id": transcript.pk, "text": "Good rapport"})
    assert set(Memo.objects.values_list("text", flat=True)) == {
        "GP-led, not manager-led",
        "Good rapport",
    }
    assert "Good rapport" in client.get(reader_url(transcript)).text
    assert AuditEvent.objects.filter(action="memo.add").count() == 2


def test_a_researcher_adds_a_source_from_text(client, team):
    study, users = team
    client.force_login(users["researcher"])
    url = reverse("casework:add_source", args=[study.slug])
    response = client.post(
        url,
        {
            "text-title": "Board observation (simulated)",
            "text-kind": "observation_notes",
            "text-site_code": "",
            "text-text": "I: Item 4?\r\nR: The board agreed.\r\n",
        },
    )
    source = Source.objects.get(title="Board observation (simulated)")
    assert response.status_code == 302 and response.url == reader_url(source)
    assert source.text == "I: Item 4?\nR: The board agreed.\n"
    assert source.turns.count() == 2

    bad = client.post(
        url,
        {"text-title": "x", "text-kind": "interview", "text-site_code": "ZZZ99", "text-text": "a"},
    )
    assert bad.status_code == 400 and "No organisation with ODS code" in bad.text
    client.force_login(users["coder"])
    assert client.get(url).status_code == 403
