"""The reporting checklists on hand-made evidence: each item's status follows the study's
records — "missing" when the record is absent, "addressed" when it is present."""

from __future__ import annotations

from dataclasses import replace

from triangulum.reports import checklists
from triangulum.reports.evidence import DisplayFacts, DisplayRowFacts, ThemeFacts

from .evidence_factory import empty_evidence, full_evidence


def statuses(checklist) -> dict[str, str]:
    return {item.number: item.status for item in checklist.items}


def test_checklists_have_their_published_lengths_and_own_wording():
    ev = full_evidence()
    coreq, gramms, aapor = checklists.all_checklists(ev)
    assert [i.number for i in coreq.items] == [str(n) for n in range(1, 33)]
    assert [i.number for i in gramms.items] == [str(n) for n in range(1, 7)]
    assert len(aapor.items) >= 12
    for checklist in (coreq, gramms, aapor):
        for item in checklist.items:
            assert item.item and item.where
            assert item.status in ("addressed", "missing", "not applicable")


def test_an_empty_study_reports_every_record_based_item_missing():
    ev = empty_evidence()
    coreq = statuses(checklists.coreq(ev))
    gramms = statuses(checklists.gramms(ev))
    aapor = statuses(checklists.aapor(ev))
    for number in ("9", "10", "12", "16", "24", "25", "26", "27", "29", "30", "31", "32"):
        assert coreq[number] == "missing", number
    assert coreq["18"] == "not applicable"  # no interviews at all
    assert set(gramms.values()) == {"missing"}
    assert set(aapor.values()) == {"missing"}


def test_records_turn_items_from_missing_to_addressed():
    ev = full_evidence()
    coreq = statuses(checklists.coreq(ev))
    for number in ("9", "10", "12", "16", "20", "24", "25", "26", "27", "29", "31", "32"):
        assert coreq[number] == "addressed", number
    # No recording, no time stamps, no finding citing case-study evidence.
    assert coreq["19"] == coreq["21"] == coreq["30"] == "missing"
    gramms = statuses(checklists.gramms(ev))
    assert gramms["1"] == gramms["2"] == gramms["3"] == "addressed"
    assert gramms["4"] == gramms["6"] == "missing"
    aapor = statuses(checklists.aapor(ev))
    assert all(
        aapor[n] == "addressed" for n in ("A1", "A2", "A3", "A4", "A5", "A7", "A9", "A11", "A12")
    )
    assert aapor["A13"] == "missing"


def test_one_missing_record_makes_its_item_missing_and_says_which_wave():
    ev = full_evidence()
    no_funder = replace(ev, study=replace(ev.study, funder=""))
    assert statuses(checklists.aapor(no_funder))["A1"] == "missing"
    # Wave 2 without a sample of its own phase: the design item names wave 2.
    samples = tuple(s for s in ev.samples if s.phase_kind != "generalisation_survey_wave")
    item = next(i for i in checklists.aapor(replace(ev, samples=samples)).items if i.number == "A6")
    assert item.status == "missing" and "wave 2" in item.where
    # A wave without a declared language.
    waves = (ev.waves[0], replace(ev.waves[1], languages=()))
    assert statuses(checklists.aapor(replace(ev, waves=waves)))["A12"] == "missing"


def test_a_memo_titled_with_the_item_tag_addresses_it():
    ev = full_evidence()
    assert statuses(checklists.coreq(ev))["4"] == "missing"
    with_memo = replace(
        ev,
        casework=replace(
            ev.casework,
            memo_titles=("COREQ 4: the interviewers were two women and one man — text",),
        ),
    )
    coreq = checklists.coreq(with_memo)
    item = next(i for i in coreq.items if i.number == "4")
    assert item.status == "addressed" and "COREQ 4" in item.where
    # "COREQ 40" is not item 4.
    other = replace(ev, casework=replace(ev.casework, memo_titles=("COREQ 40: nothing",)))
    assert statuses(checklists.coreq(other))["4"] == "missing"


def test_integration_records_address_the_mixed_methods_items():
    ev = full_evidence()
    integration = replace(
        ev.integration,
        themes=(
            ThemeFacts(
                1, 1, "Leadership at every level", "", (("pilot", "wave2", "agreement"),), ""
            ),
        ),
        displays=(
            DisplayFacts(
                1,
                "side",
                "side_by_side",
                "Side by side",
                "RQ1 side by side",
                1,
                (("survey", "Survey"), ("cases", "Case studies")),
                (DisplayRowFacts(1, "Leadership", "Both strands agree.", ()),),
                "",
            ),
        ),
    )
    gramms = statuses(checklists.gramms(replace(ev, integration=integration)))
    assert gramms["4"] == "addressed" and gramms["6"] == "addressed"
