"""Every accepted fixture form is filled in through the engine with generated
(simulated) answers that respect its logic; the final state must be complete and valid."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

from triangulum.fieldwork.xlsform import AnswerRejected, FormSession, load_instrument
from triangulum.fieldwork.xlsform.checks import range_bounds
from triangulum.fieldwork.xlsform.model import REPEAT
from triangulum.testing import shared_path

ACCEPTED = [
    "correlaid_xlsform2lstsv/all_types_survey.xlsx",
    "correlaid_xlsform2lstsv/complex_xpath_survey.json",
    "correlaid_xlsform2lstsv/multilingual_survey.json",
    "correlaid_xlsform2lstsv/testB.xlsx",
    "correlaid_xlsform2lstsv/validation_relevance_survey.json",
    "getodk_docs/example_form_v1.0.xml",
    "getodk_docs/example_form_v1.1.xml",
    "getodk_docs/recensement_etablissements_scolaires_24.xlsx",
    "xlsform_pyxform/group.md",
    "xlsform_pyxform/loop.md",
    "xlsform_pyxform/specify_other.md",
    "xlsform_pyxform/text_and_integer.md",
    "xlsform_pyxform/xlsform_spec_test.xlsx",
    "xlsform_pyxform/yes_or_no_question.json",
    "xlsform_pyxform/yes_or_no_question.md",
    "xlsform_pyxform/yes_or_no_question.xlsx",
]
FIXED_NOW = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)


def test_the_list_covers_every_form_outside_negative():
    root = shared_path("fixtures", "xlsform")
    forms = {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file()
        and "negative" not in p.parts
        and "expected" not in p.parts
        and not p.name.endswith((".tsv", ".expected.xml"))
    }
    assert forms == set(ACCEPTED)


def candidates(session: FormSession, item, indices, rng: random.Random) -> list:
    """Simulated answers for one question, most plausible first, shuffled by the seed."""
    kind = item.type
    if kind in ("select_one", "select_multiple", "rank"):
        names = [c.name for c in session.choices_for(item.key, indices)]
        if not names:
            return []
        if kind == "select_one":
            return rng.sample(names, len(names))
        if kind == "rank":
            return [rng.sample(names, len(names)) for _ in range(3)]
        subsets = [rng.sample(names, rng.randint(1, len(names))) for _ in range(6)]
        return subsets + [[n] for n in rng.sample(names, len(names))]
    if kind == "integer":
        return [
            rng.randint(1, 10),
            rng.randint(18, 120),
            rng.randint(0, 1000),
            rng.randint(240, 1000),
            0,
            1,
            5,
            18,
            1000,
        ]
    if kind == "decimal":
        return [round(rng.uniform(0, 10), 2), round(rng.uniform(0, 999), 2), 0.5, -3.25]
    if kind == "range":
        start, end, step = range_bounds(item)
        count = int(round((end - start) / step))
        return [start + step * rng.randint(0, count) for _ in range(3)]
    if kind == "date":
        return [dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 27000))]
    if kind == "time":
        return [f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"]
    if kind == "datetime":
        return [dt.datetime(2024, 1, 1, 8) + dt.timedelta(minutes=rng.randint(0, 500000))]
    if kind == "geopoint":
        return [f"{rng.uniform(50, 55):.5f} {rng.uniform(-4, 1):.5f} 0 5"]
    if kind == "acknowledge":
        return ["OK"]
    if kind in ("image", "audio", "video", "file"):
        return [f"simulated-{item.name}.bin"]
    texts = [
        "Simulated answer",
        "simulated.respondent@example.org",
        str(rng.randint(5, 100)),
        "yes",
        "12345",
    ]
    return rng.sample(texts, len(texts))


def add_user_repeats(session: FormSession, rng: random.Random) -> None:
    for repeat in session.instrument.walk():
        if repeat.kind != REPEAT or "repeat_count" in repeat.compiled:
            continue
        depth = len(repeat.repeat_ancestors()) - 1
        if repeat.parent is None:
            parents = {()}
        else:
            parents = {ix[:depth] for item, ix in session.nodes() if item is repeat.parent}
        for parent in parents:
            if session.instances(repeat.key, parent) == 0:
                for _ in range(rng.randint(1, 2)):
                    session.add_repeat(repeat.key, parent)


def fill(session: FormSession, rng: random.Random) -> list[str]:
    """Answer relevant questions in order; returns questions no candidate satisfied."""
    unanswerable = []
    skipped = set()
    for _ in range(4):
        add_user_repeats(session, rng)
        progressed = False
        for item, indices in list(session.questions()):
            node = (item.key, indices)
            if node in skipped or session.value(item.key, indices):
                continue
            if not session.is_relevant(item.key, indices):
                continue
            if not session.is_required(item.key, indices) and rng.random() < 0.25:
                skipped.add(node)  # leave some optional questions unanswered
                continue
            for candidate in candidates(session, item, indices, rng):
                try:
                    session.set_answer(item.key, candidate, indices)
                except AnswerRejected:
                    continue
                progressed = True
                break
            else:
                unanswerable.append(f"{item.key}{list(indices)}")
                skipped.add(node)
        if not progressed:
            break
    session.finish()
    return unanswerable


@pytest.mark.parametrize("relative", ACCEPTED)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_form_is_filled_in_respecting_its_logic(relative, seed):
    instrument = load_instrument(shared_path("fixtures", "xlsform", relative))
    session = FormSession(instrument, clock=lambda: FIXED_NOW)
    rng = random.Random(f"{relative}:{seed}")
    fill(session, rng)
    assert session.issues() == []
    answers = session.to_dict()
    assert answers, "the generator answered nothing"
    # Independent re-check of the final state, node by node.
    for item, indices in session.nodes():
        if item.kind in ("group", "repeat", "metadata"):
            continue
        value = session.value(item.key, indices)
        relevant = session.is_relevant(item.key, indices)
        if not relevant:
            assert value == "", f"{item.key} answered while irrelevant"
        elif item.kind == "question" and session.is_required(item.key, indices):
            assert value != "", f"{item.key} required but empty"


@pytest.mark.parametrize("relative", ACCEPTED)
def test_every_required_question_gets_an_acceptable_answer(relative):
    """Across seeds, a required relevant question is never left because all candidates failed."""
    instrument = load_instrument(shared_path("fixtures", "xlsform", relative))
    for seed in range(3):
        session = FormSession(instrument, clock=lambda: FIXED_NOW)
        unanswerable = fill(session, random.Random(seed))
        stuck = [
            u
            for u in unanswerable
            if u.split("[")[0]
            in {i.key for i, ix in session.nodes() if session.is_required(i.key, ix)}
        ]
        assert stuck == [], f"seed {seed}: {stuck}"


def test_seeded_fills_are_reproducible():
    instrument = load_instrument(
        shared_path("fixtures", "xlsform", "correlaid_xlsform2lstsv/testB.xlsx")
    )
    runs = []
    for _ in range(2):
        session = FormSession(instrument, clock=lambda: FIXED_NOW)
        fill(session, random.Random(7))
        runs.append({k: v for k, v in session.to_dict().items() if "instanceID" not in k})
    assert runs[0] == runs[1]
    assert len(runs[0]) > 5


def test_generator_explores_both_sides_of_a_branch():
    instrument = load_instrument(
        shared_path("fixtures", "xlsform", "xlsform_pyxform/xlsform_spec_test.xlsx")
    )
    seen = set()
    for seed in itertools.islice(itertools.count(), 12):
        session = FormSession(instrument, clock=lambda: FIXED_NOW)
        fill(session, random.Random(seed))
        seen.add((session.value("skip_to_end"), bool(session.value("my_name"))))
    assert ("yes", False) in seen  # skipping clears/blocks the whole group
    assert ("no", True) in seen or ("", True) in seen
