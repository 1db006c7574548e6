"""The generator of simulated case-study material, and the simulated coders (pure)."""

import random
import re

import pytest

from triangulum.casework import simulation as sim
from triangulum.casework.codebook.framework import builtin_framework
from triangulum.casework.importers.turns import find_turns

PILOT = [sim.Site(i, f"NHS Pilotton {i} CCG") for i in range(15)]
IN_DEPTH = [sim.Site(100 + i, f"NHS Deepdale {i} CCG") for i in range(6)]


@pytest.fixture(scope="module")
def material():
    return sim.generate(PILOT, IN_DEPTH, seed=2013)


def test_same_seed_same_material_other_seed_other_material(material):
    again = sim.generate(PILOT, IN_DEPTH, seed=2013)
    assert [s.text for s in again.sources] == [s.text for s in material.sources]
    other = sim.generate(PILOT, IN_DEPTH, seed=7)
    assert [s.text for s in other.sources] != [s.text for s in material.sources]


def test_sources_by_site_and_kind(material):
    for site in PILOT:
        mine = [s for s in material.sources if s.site_key == site.key]
        assert [s.kind for s in mine] == ["interview", "interview"]
        assert {s.phase for s in mine} == {"pilot"}
    for site in IN_DEPTH:
        mine = [s for s in material.sources if s.site_key == site.key]
        kinds = [s.kind for s in mine]
        assert kinds.count("interview") == len(sim.IN_DEPTH_ROLES)
        assert {"group_interview", "observation_notes", "document"} <= set(kinds)
        roles = {p.role_category for p in material.people if p.site_key == site.key}
        assert {
            "gp_member",
            "chair",
            "accountable_officer",
            "manager",
            "secondary_care_doctor",
            "la_officer",
            "hwb_member",
            "patient_representative",
        } <= roles


def test_every_text_says_it_is_simulated_and_every_title_too(material):
    for source in material.sources:
        assert source.text.startswith(sim.SIMULATED_BANNER + "\n")
        assert "(simulated)" in source.title
    assert all(p.full_name.endswith("(simulated)") for p in material.people)
    assert len({p.surname for p in material.people}) == len(material.people)


def test_speaker_labels_are_recognised_as_turns(material):
    for source in material.sources:
        labels = {t.label for t in find_turns(source.text)}
        assert set(source.speakers) <= labels, source.title


def test_themed_spans_and_identifiers_point_at_their_text(material):
    codebook = {record.path for record in builtin_framework()[1]}
    assert {theme.code_path for theme in sim.THEMES} <= codebook
    used = set()
    for source in material.sources:
        for span in source.spans:
            text = source.text[span.start : span.end]
            theme = sim.THEMES_BY_KEY[span.theme]
            used.add(span.theme)
            # The span is one of the theme's sentences with its placeholders filled in.
            assert any(
                re.fullmatch(re.sub(r"\\\{\w+\\\}", ".+?", re.escape(s)), text)
                for s in theme.sentences
            ), (span.theme, text)
        for identifier in source.identifiers:
            assert source.text[identifier.start : identifier.end] == identifier.text
    assert used == set(sim.THEMES_BY_KEY)


def test_two_initiatives_per_in_depth_site_led_by_its_people(material):
    people = {p.key: p for p in material.people}
    for site in IN_DEPTH:
        mine = [i for i in material.initiatives if i.site_key == site.key]
        assert len(mine) == 2 and mine[0].name == "Integrated care for frail older people"
        assert len({i.name for i in mine}) == 2
        for initiative in mine:
            assert initiative.leader_keys and initiative.partners and initiative.sectors
            assert all(people[k].site_key == site.key for k in initiative.leader_keys)
            assert any(initiative.key in s.initiative_keys for s in material.sources)


def test_a_perfect_coder_codes_every_span_and_two_real_ones_disagree(material):
    source = next(s for s in material.sources if s.kind == "group_interview")
    perfect = sim.CoderProfile(recall=1.0, boundary_drift=0.0, confusion=0.0)
    assert sim.simulate_coder(source.text, source.spans, perfect, random.Random(1)) == list(
        source.spans
    )
    rng = random.Random(3)
    a, b = [], []
    for s in material.sources:
        a += [(s.key, c) for c in sim.simulate_coder(s.text, s.spans, sim.CoderProfile(), rng)]
        b += [
            (s.key, c)
            for c in sim.simulate_coder(
                s.text,
                s.spans,
                sim.CoderProfile(recall=0.75, boundary_drift=0.3, confusion=0.15),
                rng,
            )
        ]
    shared = set(a) & set(b)
    assert 0.3 * len(a) < len(shared) < 0.9 * len(a)
    for key, coding in a + b:
        text = next(s.text for s in material.sources if s.key == key)
        assert 0 <= coding.start < coding.end <= len(text)
