"""The simulation model on plain data (no database): deterministic, calibrated, fictitious."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections import Counter
from pathlib import Path

import pytest

from triangulum.fieldwork import runner, simulation
from triangulum.fieldwork.instruments import WAVE_FILES
from triangulum.fieldwork.outcomes import OUTCOMES
from triangulum.fieldwork.xlsform import load_instrument
from triangulum.fieldwork.xlsform.model import QUESTION

CCG_FILE = (
    Path(simulation.__file__).resolve().parents[1]
    / "organisations"
    / "data"
    / "ccg_membership_by_date.csv"
)
DRAMA_NUMBER = re.compile(
    r"^(01632 960\d{3}|020 7946 0\d{3}|01(1[3-8]|[2-6]1) 496 0\d{3}|0191 498 0\d{3}|07700 900\d{3})$"
)


def _date(text: str) -> dt.date | None:
    return dt.datetime.strptime(text, "%Y%m%d").date() if text else None


def real_ccgs() -> list[simulation.CCG]:
    with CCG_FILE.open(newline="", encoding="utf-8") as handle:
        return [
            simulation.CCG(
                row["ods_code"],
                row["ods_name_current_file"],
                _date(row["open_date"]),
                _date(row["close_date"]),
            )
            for row in csv.DictReader(handle)
        ]


@pytest.fixture(scope="module")
def instruments():
    return {n: load_instrument(path) for n, path in WAVE_FILES.items()}


@pytest.fixture(scope="module")
def layout(instruments):
    orders, paths = {}, {}
    for number, instrument in instruments.items():
        items = [i for i in instrument.walk() if i.kind == QUESTION]
        orders[number] = [i.name for i in items]
        paths[number] = {i.name: runner.item_path(instrument, i) for i in items}
    return orders, paths


@pytest.fixture(scope="module")
def result(layout):
    return simulation.simulate(real_ccgs(), seed=2013, item_order=layout[0])


def test_the_same_seed_gives_the_same_fieldwork(layout, result):
    again = simulation.simulate(real_ccgs(), seed=2013, item_order=layout[0])
    other = simulation.simulate(real_ccgs(), seed=7, item_order=layout[0])

    def fingerprint(run):
        return (
            [(m.key, m.full_name, m.phone, m.role, sorted(m.waves)) for m in run.members],
            [
                (c.member_key, c.disposition, c.mode, [k.started_at for k in c.calls], c.answers)
                for w in run.waves.values()
                for c in w.cases
            ],
        )

    assert fingerprint(again) == fingerprint(result)
    assert fingerprint(other) != fingerprint(result)


def test_boards_match_the_published_composition(result):
    first = result.truth["composition"][1]
    assert first["boards"] == 211
    assert 2900 <= first["members"] <= 3300  # about 3,100 members around 2013
    assert 13.5 <= first["mean_board_size"] <= 16
    assert abs(first["gp_share"] - 0.43) < 0.03
    assert abs(first["gp_majority_boards"] - 0.29) < 0.01
    roles = Counter(m.role for m in result.members if 1 in m.waves)
    for single in ("chair", "accountable_officer", "chief_finance_officer", "nurse"):
        assert roles[single] == 211
    assert roles["gp_member"] > 5 * 211 * 0.8 and roles["lay_member"] >= 2 * 211


def _share(values, wanted) -> tuple[float, float]:
    n = len(values)
    p = sum(v in wanted for v in values) / n
    return p, math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("wave", [1, 2])
def test_complete_interviews_recover_the_true_values(result, wave):
    complete = [c.answers for c in result.waves[wave].cases if c.is_complete]
    assert len(complete) > 900
    checks = {
        "vision_set=equally": ("vision_set", {"equally"}),
        "clinical_centrality=nearly_all": ("clinical_centrality", {"nearly_all"}),
        "clinical_centrality=significant_proportion": (
            "clinical_centrality",
            {"significant_proportion"},
        ),
        "infl_nhse in (quite_a_lot, very_extensive)": (
            "infl_nhse",
            {"quite_a_lot", "very_extensive"},
        ),
    }
    for key, (item, wanted) in checks.items():
        values = [a[item] for a in complete if item in a]
        share, se = _share(values, wanted)
        truth = simulation.TRUE_VALUES[key][wave]
        assert abs(share - truth) < 4 * se, (key, share, truth, se)


def test_calibration_makes_the_expected_share_the_target(result):
    for wave in (1, 2):
        expected = result.truth["expected_shares"][wave]
        target = simulation.TRUE_VALUES["vision_set=equally"][wave]
        assert expected["vision_set"]["equally"] == pytest.approx(target, abs=1e-6)
        nhse = expected["infl_nhse"]
        assert nhse["quite_a_lot"] + nhse["very_extensive"] == pytest.approx(0.50, abs=1e-6)


def test_chairs_and_accountable_officers_rate_the_ccg_higher(result):
    for wave in (1, 2):
        truth = result.truth["infl_ccg_high_by_role"][wave]
        for senior in ("chair", "accountable_officer"):
            for other in ("chief_finance_officer", "gp_member"):
                assert truth[senior] - truth[other] > 0.15
        by_role: dict[str, list[str]] = {}
        for case in result.waves[wave].cases:
            if case.is_complete:
                role = result.member(case.member_key).role
                by_role.setdefault(role, []).append(case.answers["infl_ccg"])
        high = {"quite_a_lot", "very_extensive"}
        senior = by_role["chair"] + by_role["accountable_officer"]
        others = by_role["chief_finance_officer"] + by_role["gp_member"]
        (p1, se1), (p2, se2) = _share(senior, high), _share(others, high)
        assert p1 - p2 > 4 * math.hypot(se1, se2)


def test_merged_ccgs_are_out_of_sample_in_wave_two(result):
    assert result.truth["closed_ccgs"] == ["00F", "00G", "00H"]
    assert result.truth["new_ccgs"] == ["13T"]
    assert "13T" not in result.waves[1].ccg_codes and "00F" not in result.waves[2].ccg_codes
    second = result.waves[2].cases
    closed = [c for c in second if result.member(c.member_key).ccg_code in {"00F", "00G", "00H"}]
    assert closed and all(c.disposition == "4.10" for c in closed)
    assert all(not c.calls and not c.answers for c in closed)
    assert {c.member_key for c in closed} == {
        m.key for m in result.members if m.ccg_code in {"00F", "00G", "00H"}
    }
    assert all(c.disposition != "4.10" for c in second if c not in closed)
    newcomers = [m for m in result.members if m.ccg_code == "13T"]
    assert newcomers and all(m.waves == {2} for m in newcomers)


def test_members_who_stay_are_the_same_participant_in_both_waves(result):
    both = [m for m in result.members if m.waves == {1, 2}]
    first_only = [m for m in result.members if m.waves == {1}]
    assert 0.55 < len(both) / (len(both) + len(first_only)) < 0.8
    in_wave = {w: {c.member_key for c in result.waves[w].cases} for w in (1, 2)}
    assert all(m.key in in_wave[1] and m.key in in_wave[2] for m in both)
    assert all(m.years_on_board[2] == m.years_on_board[1] + 2 for m in both)


def test_every_person_is_visibly_fictitious(result):
    phones = [m.phone for m in result.members]
    assert len(set(phones)) == len(phones)
    for member in result.members:
        assert member.is_simulated and member.full_name.endswith("(simulated)")
        assert member.email.endswith("@example.org")
        assert DRAMA_NUMBER.match(member.phone), member.phone
    for wave in result.waves.values():
        for case in wave.cases:
            for text in (case.answers.get("comments"), case.answers.get("role_other")):
                assert text is None or "(simulated" in text


def test_call_histories_follow_the_fieldwork_rules(result):
    assert set(simulation.USED_OUTCOMES) <= set(OUTCOMES)
    used = {k.outcome for w in result.waves.values() for c in w.cases for k in c.calls}
    assert used == set(simulation.USED_OUTCOMES)
    for number, wave in result.waves.items():
        spec = wave.spec
        dispositions = Counter(c.disposition for c in wave.cases)
        for code in ("1.1", "1.2", "2.12", "2.111", "2.112", "2.20", "2.221", "4.70"):
            assert dispositions[code] > 0, (number, code)
        assert 0.3 < dispositions["1.1"] / len(wave.cases) < 0.6
        for case in wave.cases:
            assert len(case.calls) <= spec.max_attempts
            for call in case.calls:
                local = call.started_at.astimezone(simulation.LONDON)
                assert spec.field_start <= local.date() <= spec.field_end
                assert local.weekday() < 5 and dt.time(9) <= local.time() <= dt.time(17, 30)
                assert call.aapor_code == OUTCOMES[call.outcome].code
                assert call.number_dialled == result.member(case.member_key).phone
            assert all(a.status in ("kept", "missed") for a in case.appointments)
            if case.disposition == "1.1":
                assert case.completed_at is not None
                assert case.mode != "telephone" or case.calls[-1].outcome == "complete"
            if case.disposition in ("1.2", "2.12"):
                assert case.calls[-1].outcome == "break_off" and case.resume_at
            if case.disposition in ("2.111", "2.112"):
                assert not case.answers
        modes = Counter(c.mode for c in wave.cases if c.is_complete)
        assert modes["web"] > 0 and modes["paper"] > 0
        assert any(a.status == "missed" for c in wave.cases for a in c.appointments)


@pytest.mark.parametrize("wave", [1, 2])
def test_generated_answers_are_what_the_engine_would_store(instruments, layout, result, wave):
    instrument = instruments[wave]
    paths = layout[1][wave]
    cases = [c for c in result.waves[wave].cases if c.answers]
    stopped = [c for c in cases if not c.is_complete][:20]
    sample = cases[:60] + stopped
    assert stopped
    for case in sample:
        stored = simulation.answer_paths(case, paths)
        session = runner.build_session(instrument, stored)
        assert runner.stored_paths(session) == stored  # nothing cleared, nothing added
        issues = [i.message for i in session.issues()]
        if case.is_complete:
            assert issues == [], (case.member_key, issues)
        else:
            assert all(i == "required but not answered" for i in issues)
