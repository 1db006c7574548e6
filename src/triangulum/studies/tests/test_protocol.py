"""Reading protocols: bad files are refused with the place of the problem (plain data, no DB)."""

import copy
import datetime

import pytest

from triangulum.studies.protocol import (
    ProtocolError,
    load_protocol,
    parse_protocol,
    render_markdown,
)

KINDS = {"pilot_case_studies", "integration"}

VALID = {
    "schema": 1,
    "slug": "s",
    "title": "A study",
    "start_date": datetime.date(2020, 1, 1),
    "end_date": datetime.date(2020, 12, 31),
    "aim": "  To find\n  out.  ",
    "research_questions": [
        {"number": 1, "short_name": "One", "text": "First?"},
        {"number": 2, "short_name": "Two", "text": "Second?"},
    ],
    "phases": [
        {
            "kind": "pilot_case_studies",
            "name": "Pilot",
            "research_questions": [2, 1],
            "planned_start_date": datetime.date(2020, 1, 1),
            "planned_end_date": datetime.date(2020, 3, 31),
        },
        {"kind": "integration", "name": "Bring together", "research_questions": [1]},
    ],
    "stakeholder_groups": [{"name": "Clinicians", "description": "GPs"}],
}


def with_change(path: list, value):
    data = copy.deepcopy(VALID)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_valid_protocol_is_read_with_order_and_tidy_text():
    protocol = parse_protocol(VALID, source="x.toml", phase_kinds=KINDS)
    assert [p.order for p in protocol.phases] == [1, 2]
    assert protocol.phases[0].research_questions == (1, 2)
    assert protocol.aim == "To find out."
    text = render_markdown(protocol, note="Generated for a test")
    assert text.startswith("# A study\n\n_Generated for a test_")
    assert "- **RQ2 — Two.** Second?" in text
    assert "### 1. Pilot" in text and "RQ1 (One), RQ2 (Two)" in text
    assert "- **Clinicians**: GPs" in text


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["phases", 1, "kind"], "survey", "x.toml: phases[2].kind: 'survey' is not one of"),
        (
            ["phases", 0, "research_questions"],
            [1, 5],
            "phases[1].research_questions: [5] not among",
        ),
        (
            ["phases", 1, "research_questions"],
            [],
            "phases[2].research_questions: list at least one",
        ),
        (["phases", 0, "planned_end_date"], datetime.date(2021, 2, 1), "falls outside the study"),
        (
            ["research_questions", 1, "number"],
            1,
            "research_questions[2].number: RQ1 is defined twice",
        ),
        (["research_questions", 0, "text"], "   ", "research_questions[1].text: is empty"),
        (["end_date"], datetime.date(2019, 1, 1), "end_date: 2019-01-01 is before start_date"),
        (["schema"], 2, "schema: expected 1"),
        (["title"], 3, "title: expected text, found int"),
    ],
)
def test_bad_protocols_name_the_problem_and_place(path, value, message):
    with pytest.raises(ProtocolError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_protocol(with_change(path, value), source="x.toml", phase_kinds=KINDS)


def test_unreadable_toml_is_reported_with_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('title = "unterminated\n', encoding="utf-8")
    with pytest.raises(ProtocolError, match="broken.toml: not valid TOML"):
        load_protocol(path, phase_kinds=KINDS)
