"""The study's own instruments: they load, every item serves a research question, wave 2
repeats wave 1's core word for word, the crosswalk says so, and the engine fills them in."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from triangulum.fieldwork.instruments import (
    RQ_CODES,
    WAVE_FILES,
    asked_nodes,
    read_crosswalk,
    rq_tags,
    survey_json,
)
from triangulum.fieldwork.tests.test_xlsform_fill import fill
from triangulum.fieldwork.xlsform import AnswerRejected, FormSession, load_instrument
from triangulum.fieldwork.xlsform.model import QUESTION

FIXED_NOW = dt.datetime(2014, 5, 6, 10, 0, tzinfo=dt.UTC)
# The question areas of the published results: they must be asked the same way twice.
PUBLISHED_AREAS = (
    "role",
    "infl_ccg",
    "infl_la",
    "infl_hwb",
    "infl_nhse",
    "infl_gps",
    "infl_managers",
    "vision_set",
    "comm_secondary",
    "comm_public",
    "clinical_centrality",
)


@pytest.fixture(scope="module")
def forms():
    return {number: load_instrument(path) for number, path in WAVE_FILES.items()}


@pytest.fixture(scope="module")
def tags():
    return {number: rq_tags(survey_json(path)) for number, path in WAVE_FILES.items()}


def questions(instrument):
    return {item.name: item for item in instrument.walk() if item.kind == QUESTION}


def test_both_forms_load_cleanly_as_two_versions_of_one_form(forms):
    assert forms[1].form_id == forms[2].form_id == "ccg_governing_body_survey"
    assert (forms[1].version, forms[2].version) == ("2014.1", "2016.1")
    for instrument in forms.values():
        assert instrument.warnings == []
        summary = instrument.summary()
        assert summary["items_by_type"]["select_multiple"] >= 2
        assert summary["items_by_type"]["calculate"] >= 1
        assert summary["items_by_type"]["note"] >= 1
        assert summary["expressions"]["relevant"] >= 5
        assert summary["expressions"]["constraint"] >= 2


def test_every_asked_item_names_research_questions(forms, tags):
    for number, instrument in forms.items():
        assert set(tags[number]) == set(questions(instrument)), f"wave {number}"
        untagged = [name for name, codes in tags[number].items() if not codes]
        assert untagged == [], f"wave {number}: no rq tag on {untagged}"
        unknown = {c for codes in tags[number].values() for c in codes} - set(RQ_CODES)
        assert unknown == set(), f"wave {number}: unknown tags {unknown}"
        served = {c for codes in tags[number].values() for c in codes}
        assert served == set(RQ_CODES)


def test_unasked_rows_carry_no_tag():
    for path in WAVE_FILES.values():
        data = survey_json(path)
        asked = {node["name"] for node in asked_nodes(data)}

        def visit(nodes, source=path.name):
            for node in nodes:
                if node.get("type") in ("note", "calculate", "group"):
                    assert not node.get("rq"), f"{source}: {node['name']} is not asked"
                    visit(node.get("children", []))

        visit(data["children"])
        assert "intro" not in asked and "is_gp" not in asked


def _signature(item):
    return (
        item.type,
        item.labels,
        item.hints,
        tuple((c.name, tuple(sorted(c.labels.items()))) for c in item.choices),
        item.relevant,
        item.required,
        item.constraint,
        item.constraint_message,
        item.choice_filter,
        item.path,
    )


def test_wave_two_repeats_the_core_word_for_word(forms):
    first, second = questions(forms[1]), questions(forms[2])
    rows = read_crosswalk()
    same = [row for row in rows if row.status == "same"]
    for row in same:
        assert row.wave1_name == row.wave2_name
        assert _signature(first[row.wave1_name]) == _signature(second[row.wave2_name]), row
    for row in rows:
        if row.status == "changed":
            assert _signature(first[row.wave1_name]) != _signature(second[row.wave2_name])
    assert set(PUBLISHED_AREAS) <= {row.wave1_name for row in same}


def test_crosswalk_accounts_for_every_item_once(forms):
    rows = read_crosswalk()
    first, second = questions(forms[1]), questions(forms[2])
    wave1 = [row.wave1_name for row in rows if row.wave1_name]
    wave2 = [row.wave2_name for row in rows if row.wave2_name]
    assert sorted(wave1) == sorted(first)
    assert sorted(wave2) == sorted(second)
    for row in rows:
        if row.status == "new":
            assert not row.wave1_name and row.wave2_name in second
        if row.status == "dropped":
            assert row.wave1_name in first and not row.wave2_name
    new = {row.wave2_name for row in rows if row.status == "new"}
    assert {"prop_collaborative_style", "prop_market_levers", "notable_redesign"} <= new


def test_question_areas_and_research_question_blocks_are_covered(forms, tags):
    first = questions(forms[1])
    vision = {c.name: c.label() for c in first["vision_set"].choices}
    assert vision["equally"] == "Equally by managers and clinicians"
    assert {"dont_know"} <= set(vision)
    centrality = {c.name for c in first["clinical_centrality"].choices}
    assert {"nearly_all", "significant_proportion", "dont_know"} <= centrality
    rq1_modes = [n for n in first if n.startswith("mode_")]
    assert len(rq1_modes) == 7 and all("RQ1" in tags[1][n] for n in rq1_modes)
    benefits = {c.name for c in first["benefits_targeted"].choices}
    assert {
        "quality",
        "integration",
        "access",
        "efficiency",
        "patient_experience",
        "population_health",
    } <= benefits
    factors = [n for n in first if n.startswith("factor_")]
    assert len(factors) == 9 and all("RQ4" in tags[1][n] for n in factors)
    assert all("RQ2" in tags[1][n] for n in first if n.startswith("scope_"))
    extent = {c.name for c in first["mode_ppi"].choices}
    assert {"dont_know", "not_applicable"} <= extent


def test_skip_logic_constraints_and_calculates_work(forms):
    session = FormSession(forms[1], clock=lambda: FIXED_NOW)
    session.set_answer("role", "gp_member")
    assert not session.is_relevant("gp_sessions")
    session.set_answer("profession", "gp")
    assert session.value("is_gp") == "1" and session.is_relevant("gp_sessions")
    with pytest.raises(AnswerRejected, match="at most 10 half-days"):
        session.set_answer("gp_sessions", 11)
    with pytest.raises(AnswerRejected, match="cannot be chosen together"):
        session.set_answer("benefits_targeted", ["none", "quality"])
    session.set_answer("benefits_targeted", ["quality", "access"])
    assert [c.name for c in session.choices_for("main_benefit")] == ["quality", "access"]
    session.set_answer("redesign_any", "yes")
    session.set_answer("redesign_sectors", ["primary", "acute", "social_care"])
    assert session.value("n_sectors") == "3" and session.is_relevant("many_sectors_note")
    session.set_answer("clinical_centrality", "nearly_all")
    session.set_answer("redesign_any", "no")
    assert session.value("clinical_centrality") == ""  # cleared once it no longer applies
    with pytest.raises(AnswerRejected):
        session.set_answer("role_other", "Practice manager")
    session.set_answer("role", "other_member")
    assert any(i.item.name == "role_other" for i in session.issues())


@pytest.mark.parametrize("wave", [1, 2])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_form_is_filled_in_by_the_engine(forms, wave, seed):
    session = FormSession(forms[wave], clock=lambda: FIXED_NOW)
    stuck = fill(session, random.Random(f"ccg-survey:{wave}:{seed}"))
    assert session.issues() == []
    assert [s for s in stuck if "role_other" in s or "gp_sessions" in s] == []
    answers = session.to_dict()
    assert "about_you/role" in answers and len(answers) > 20
