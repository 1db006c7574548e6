"""ODK semantics of the form engine, on real fixture forms and small forms written here."""

from __future__ import annotations

import datetime as dt

import pytest

from triangulum.fieldwork.xlsform import AnswerRejected, FormSession, load_instrument
from triangulum.testing import shared_path

NOW = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)


def fixture(relative: str):
    return load_instrument(shared_path("fixtures", "xlsform", relative))


def session_for(relative: str) -> FormSession:
    return FormSession(fixture(relative), clock=lambda: NOW)


def write_form(tmp_path, text: str, name="form.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_instrument(path)


def test_group_relevance_applies_inside_and_clears_answers():
    s = session_for("xlsform_pyxform/xlsform_spec_test.xlsx")
    s.set_answer("my_name", "Ada")
    s.set_answer("required_text", "present", (0,))
    assert s.instances("repeat_test") == 2  # repeat_count 2
    assert s.is_required("required_text", (1,))
    s.set_answer("skip_to_end", "yes")
    assert not s.is_relevant("my_name")
    assert not s.is_relevant("required_text", (1,))  # group → repeat → group → item
    assert not s.is_required("required_text", (1,))  # required only while relevant
    assert s.value("my_name") == ""  # cleared
    assert s.value("required_text", (0,)) == ""
    with pytest.raises(AnswerRejected, match="not relevant"):
        s.set_answer("my_name", "Ada")
    s.set_answer("skip_to_end", "no")
    assert s.is_relevant("my_name") and s.value("my_name") == ""


def test_constraint_with_message_and_only_on_answers():
    s = session_for("getodk_docs/example_form_v1.0.xml")
    with pytest.raises(AnswerRejected) as caught:
        s.set_answer("age", 19)
    assert caught.value.message == "You should be below 18 years to be eligible for the survey."
    assert s.value("age") == ""  # a rejected answer leaves the session unchanged
    s.set_answer("age", 17)
    s.set_answer("course", "Physics")
    s.set_answer("course_cnt", 3)
    assert s.value("total") == "300"  # calculate
    with pytest.raises(AnswerRejected, match="more than maximum marks"):
        s.set_answer("marks", 301)
    s.set_answer("marks", 280)
    s.set_answer("course_cnt", 2)  # calculates follow their inputs
    assert s.value("total") == "200"
    # marks now breaks its constraint (280 > 200): reported, not silently kept valid.
    assert any(i.item.name == "marks" for i in s.issues())
    v11 = session_for("getodk_docs/example_form_v1.1.xml")
    v11.set_answer("age", 19)  # the updated version allows up to 20
    assert v11.value("age") == "19"


def test_irrelevant_items_are_not_required_and_lose_answers():
    s = session_for("getodk_docs/example_form_v1.0.xml")
    s.set_answer("course", "Math")
    s.set_answer("course_cnt", 2)
    assert s.is_required("course_cnt")
    s.set_answer("course", "none")
    assert not s.is_required("course_cnt")
    assert s.value("course_cnt") == "" and s.value("total") == ""
    unanswered = {i.item.name for i in s.issues()}
    assert "course_cnt" not in unanswered and {"name", "sid", "age"} <= unanswered


def test_types_are_checked():
    s = session_for("correlaid_xlsform2lstsv/all_types_survey.xlsx")
    with pytest.raises(AnswerRejected, match="whole number"):
        s.set_answer("q_integer", "4.5")
    with pytest.raises(AnswerRejected, match="date"):
        s.set_answer("q_date", "14/03/2025")
    with pytest.raises(AnswerRejected, match="not one of the options"):
        s.set_answer("q_select_one", "maybe")
    with pytest.raises(AnswerRejected, match="exactly one"):
        s.set_answer("q_select_one", ["yes", "no"])
    with pytest.raises(AnswerRejected, match="rank every option"):
        s.set_answer("q_rank", ["fam"])
    s.set_answer("q_select_multi", ["red", "green"])
    assert s.value("q_select_multi") == "red green"
    with pytest.raises(AnswerRejected, match="zwischen 18 und 120"):
        s.set_answer("q_constraint", 12)


def test_defaults_and_metadata():
    s = session_for("correlaid_xlsform2lstsv/all_types_survey.xlsx")
    assert s.value("q_default") == "Deutschland"
    assert s.value("today") == "2025-03-14"
    assert s.value("start").startswith("2025-03-14T09:30")
    assert s.value("calc1") == "2"
    # q_all_features has a default but is irrelevant until q_mandatory is answered.
    assert s.value("q_all_features") == ""
    s.set_answer("q_mandatory", "a@example.org")
    assert s.value("q_all_features") == "Keine Anmerkungen"


def test_or_other_adds_a_specify_question():
    instrument = fixture("xlsform_pyxform/specify_other.md")
    assert instrument.item("sex").or_other
    s = FormSession(instrument, clock=lambda: NOW)
    assert not s.is_relevant("sex_other")
    s.set_answer("sex", "other")
    assert s.is_relevant("sex_other")
    s.set_answer("sex_other", "prefers to self-describe")
    s.set_answer("sex", "female")
    assert s.value("sex_other") == ""


def test_loop_asks_once_per_choice():
    instrument = fixture("xlsform_pyxform/loop.md")
    loop = instrument.item("loop_toilet_types")
    assert [g.name for g in loop.children] == [
        "pit_latrine_with_slab",
        "open_pit_latrine",
        "bucket_system",
        "other",
    ]
    s = FormSession(instrument)
    assert s.label("loop_toilet_types/bucket_system/number") == (
        "How many Bucket system are on the premises?"
    )


def test_calculates_with_strings_and_selects_follow_inputs():
    s = session_for("correlaid_xlsform2lstsv/testB.xlsx")
    s.set_answer("project_id", ["project-alpha"])
    s.set_answer("project_role_project-alpha", ["team_trainee"])
    assert s.value("missing_coord") == "Alpha: Not TC, Alpha: TT"
    s.set_answer("project_role_project-alpha", ["team_coordinator"])
    assert s.value("missing_coord") == ""
    assert s.is_required("email_address")
    with pytest.raises(AnswerRejected, match="valid email"):
        s.set_answer("email_address", "no-at-sign")


def test_translations(tmp_path):
    instrument = fixture("correlaid_xlsform2lstsv/multilingual_survey.json")
    assert instrument.languages == ["en", "es"]
    s = FormSession(instrument, language="es")
    assert s.label("demographics/age") == "¿Cuál es tu edad?"
    assert [c.label("es") for c in s.choices_for("gender")] == ["Masculino", "Femenino", "Otro"]


SMALL_FORM = """
| survey |
| | type | name | label | choice_filter | repeat_count | calculation | relevant | constraint | default | required |
| | select_one region | region | Region | | | | | | | |
| | select_one district | district | District | region=${region} | | | | | | yes |
| | integer | household_size | People in household | | | | | . > 0 | 2 | |
| | begin_repeat | person | Person | | ${household_size} | | | | | |
| | text | pname | Name | | | | | | | yes |
| | integer | page | Age | | | | | . < 120 | | |
| | calculate | adult | | | | if(${page} >= 18, 1, 0) | | | | |
| | text | guardian | Guardian of ${pname} | | | | ${page} < 18 and ${page} != '' | | | |
| | end_repeat | | | | | | | | | |
| | calculate | adults | | | | sum(${adult}) | | | | |
| | calculate | first_name | | | | indexed-repeat(${pname}, ${person}, 1) | | | | |
| choices |
| | list_name | name | label | region |
| | region | n | North | |
| | region | s | South | |
| | district | a | Alpha | n |
| | district | b | Beta | s |
| | district | c | Gamma | s |
"""


def test_choice_filter_repeat_count_and_repeat_references(tmp_path):
    s = FormSession(write_form(tmp_path, SMALL_FORM))
    assert s.value("household_size") == "2"  # default
    assert s.instances("person") == 2  # repeat_count follows the default
    s.set_answer("region", "s")
    assert [c.name for c in s.choices_for("district")] == ["b", "c"]
    with pytest.raises(AnswerRejected, match="not one of the options"):
        s.set_answer("district", "a")
    s.set_answer("district", "c")
    s.set_answer("pname", "Ana", (0,))
    s.set_answer("page", 40, (0,))
    s.set_answer("pname", "Ben", (1,))
    s.set_answer("page", 9, (1,))
    assert s.value("adult", (0,)) == "1" and s.value("adult", (1,)) == "0"
    assert s.value("adults") == "1"
    assert s.value("first_name") == "Ana"
    assert s.is_relevant("guardian", (1,)) and not s.is_relevant("guardian", (0,))
    assert s.label("guardian", (1,)) == "Guardian of Ben"
    s.set_answer("household_size", 3)
    assert s.instances("person") == 3
    assert s.is_required("pname", (2,))
    s.set_answer("household_size", 1)  # shrinking drops the later instances' answers
    assert s.instances("person") == 1
    assert s.value("adults") == "1"
    assert "person/pname[2]" not in s.to_dict()
    s.set_answer("region", "n")  # district 'c' is no longer offered
    assert any(i.item.name == "district" for i in s.issues())


def test_user_driven_repeats(tmp_path):
    form = write_form(
        tmp_path,
        """
| survey |
| | type | name | label | calculation |
| | begin_repeat | visit | Visit | |
| | date | visit_date | Date | |
| | end_repeat | | | |
| | calculate | visits | | count(${visit}) |
""",
    )
    s = FormSession(form)
    assert s.instances("visit") == 0 and s.value("visits") == "0"
    first = s.add_repeat("visit")
    second = s.add_repeat("visit")
    assert (first, second) == ((0,), (1,))
    s.set_answer("visit_date", dt.date(2025, 1, 2), second)
    assert s.value("visits") == "2"
    with pytest.raises(ValueError, match="only the last"):
        s.remove_repeat("visit", (0,))
    s.remove_repeat("visit", (1,))
    assert s.value("visits") == "1" and s.to_dict().get("visit/visit_date[2]") is None
