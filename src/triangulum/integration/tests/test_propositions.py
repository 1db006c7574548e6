"""Propositions: the tests on plain data (checked against the analysis app's estimator),
the verdict rule, and the lock — a locked proposition cannot change, an unlocked one cannot
be tested, and the verdict comes from the testing wave's data alone."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from triangulum.analysis import estimation
from triangulum.analysis.linearised import DesignArrays
from triangulum.analysis.tidy import WaveData, catalogue_from_form, role_group
from triangulum.audit.models import AuditEvent
from triangulum.fieldwork.instruments import WAVE_FILES, survey_json
from triangulum.fieldwork.models import Answer, Instrument, InstrumentVersion, Interview, Wave
from triangulum.integration import actions
from triangulum.integration import propositions as P
from triangulum.integration.actions import IntegrationError
from triangulum.integration.models import Proposition, Strand
from triangulum.organisations.models import Organisation
from triangulum.studies import actions as study_actions
from triangulum.studies.models import Participant

AGREE = ["agree", "strongly_agree"]
SCALE = ["strongly_disagree", "disagree", "neither", "agree", "strongly_agree"]
ROLES = ["chair", "accountable_officer", "chief_finance_officer", "gp_member", "lay_member"]


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("direction", "estimate", "low", "high", "expected"),
    [
        # Interval wholly above a threshold of 0.5: supported when greater was predicted…
        ("greater", 0.60, 0.55, 0.65, "supported"),
        # …and wholly on the wrong side when less was.
        ("less", 0.60, 0.55, 0.65, "not_supported"),
        # Estimate below, interval reaching the threshold but not 0.5 + margin (0.55).
        ("greater", 0.48, 0.44, 0.53, "not_supported"),
        # Estimate below, but the interval still allows 0.5 + margin: cannot tell.
        ("greater", 0.48, 0.40, 0.56, "inconclusive"),
        # Estimate on the predicted side, interval over the threshold.
        ("greater", 0.52, 0.47, 0.57, "inconclusive"),
        ("less", 0.40, 0.30, 0.49, "supported"),
        # Exactly on the threshold is not the predicted side.
        ("greater", 0.50, 0.47, 0.53, "not_supported"),
        ("greater", math.nan, math.nan, math.nan, "inconclusive"),
    ],
)
def test_verdict_rule(direction, estimate, low, high, expected):
    verdict = P.decide(
        direction=direction,
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        threshold=0.5,
        margin=0.05,
    )
    assert verdict == expected


def test_the_rule_is_stated_in_words():
    text = P.verdict_rule_text()
    for phrase in ("Supported:", "Not supported:", "Inconclusive:", "95%", "one-sided"):
        assert phrase in text


def test_the_lock_and_the_outcome_in_words():
    assert P.lock_statement({"complete_interviews": 0, "answers_to_items": 0}) == (
        "Locked before the testing wave held any data."
    )
    later = P.lock_statement({"complete_interviews": 12, "answers_to_items": 30})
    assert "already held 12 complete interviews" in later and "before the proposition" in later
    assert "does not say" in P.lock_statement(None)
    assert (
        P.outcome_text(test="proportion", estimate=0.78, ci_low=0.753, ci_high=0.804, threshold=0.5)
        == "share 78% (95% CI 75%–80%) against 50%"
    )
    assert P.outcome_text(
        test="difference", estimate=0.036, ci_low=-0.048, ci_high=0.12, threshold=0
    ).startswith("difference +3.6 percentage points (95% CI -4.8 to +12.0)")
    assert P.outcome_text(test="mean", estimate=4.2414, ci_low=4.19, ci_high=4.29, threshold=4) == (
        "mean 4.24 (95% CI 4.19–4.29) against 4"
    )


# --------------------------------------------------------------------------- parameters

CATALOGUE = catalogue_from_form(survey_json(WAVE_FILES[2]))


@pytest.mark.parametrize(
    ("test", "parameters", "field", "message"),
    [
        ("proportion", {"categories": AGREE, "threshold": 0.5}, "item", "needs the"),
        ("proportion", {"item": "nope", "categories": AGREE, "threshold": 0.5}, "item", "not an"),
        ("proportion", {"item": "prop_alliance", "categories": ["yes"], "threshold": 0.5},
         "categories", '"yes" is not an answer'),
        ("proportion", {"item": "prop_alliance", "categories": AGREE, "threshold": 1.5},
         "threshold", "strictly between 0 and 1"),
        ("proportion", {"item": "prop_alliance", "categories": AGREE}, "threshold", "needs a"),
        ("proportion", {"item": "prop_alliance", "categories": AGREE, "threshold": "half"},
         "threshold", "must be a number"),
        ("proportion", {"item": "comments", "categories": AGREE, "threshold": 0.5},
         "item", "single-choice"),
        ("mean", {"item": "comments", "threshold": 3}, "item", "numeric item"),
        ("difference", {"item": "prop_alliance", "categories": AGREE}, "group_item", "group_item"),
        ("difference", {"item": "prop_alliance", "categories": AGREE, "group_item": "role",
                        "group_a": ["chair"], "group_b": ["chair", "gp_member"]},
         "group_b", "overlap"),
        ("proportion", {"item": "prop_alliance", "categories": AGREE, "threshold": 0.5,
                        "group_a": ["x"]}, "parameters", "does not take"),
        ("difference", {"item": "prop_alliance", "categories": AGREE, "group_item": "role",
                        "group_a": ["chair"], "group_b": ["treasurer"]},
         "group_b", '"treasurer" is not an answer to "role"'),
    ],
)  # fmt: skip
def test_parameters_are_checked_against_the_questionnaire(test, parameters, field, message):
    with pytest.raises(P.PropositionTestError, match=message) as caught:
        P.check_spec(test=test, direction="greater", parameters=parameters, catalogue=CATALOGUE)
    assert caught.value.field == field


# --------------------------------------------------------------------------- plain data


def _wave(seed: int = 7, organisations: int = 40, number: int = 2) -> WaveData:
    """A wave of ``organisations`` CCGs with five members each, most of whom answered."""
    rng = np.random.default_rng(seed)
    units, respondents = [], []
    for o in range(organisations):
        code = f"{o:02d}Q"
        lean = rng.normal(0, 0.8)  # members of one CCG answer alike: a cluster effect
        for j, role in enumerate(ROLES):
            unit = {
                "interview_id": o * 10 + j,
                "participant": f"P{o}{j}",
                "role": role,
                "organisation_code": code,
                "organisation_name": f"CCG {o}",
                "region": ["North", "Midlands", "South"][o % 3],
                "registered_patients": 100_000 + 7_000 * o,
                "allocation_000s": 90_000 + 1_000 * o,
                "disposition": "1.1",
                "eligible": True,
                "responded": rng.random() < 0.8,
                "role_group": role_group(role),
            }
            units.append(unit)
            if not unit["responded"]:
                continue
            latent = lean + (0.6 if role in ("chair", "accountable_officer") else 0.0)
            position = int(np.clip(np.round(3.2 + latent + rng.normal(0, 1.0)), 1, 5))
            alliance = SCALE[position - 1] if rng.random() > 0.05 else "dont_know"
            respondents.append(
                {
                    **unit,
                    "prop_alliance": alliance,
                    "gp_sessions": float(rng.integers(0, 8)) if role == "gp_member" else None,
                }
            )
    frame = (
        pd.DataFrame(units)
        .groupby("organisation_code", as_index=False)
        .first()[
            [
                "organisation_code",
                "organisation_name",
                "region",
                "registered_patients",
                "allocation_000s",
            ]
        ]
    )
    return WaveData(
        number=number,
        name=f"Wave {number} (fixture)",
        units=pd.DataFrame(units),
        respondents=pd.DataFrame(respondents),
        frame=frame,
        catalogue=CATALOGUE,
    )


def _design(wave: WaveData) -> DesignArrays:
    rng = np.random.default_rng(3)
    weights = rng.uniform(0.5, 2.0, len(wave.respondents))
    return DesignArrays(weights=weights, clusters=wave.respondents["organisation_code"].to_numpy())


def _reference(wave: WaveData, design: DesignArrays, y: np.ndarray, valid: np.ndarray, statistic):
    """The analysis app's reference estimator (svy), on the same design."""
    frame = pd.DataFrame(
        {
            "y": np.where(valid, y, 0.0),
            "valid": valid,
            "org": wave.respondents["organisation_code"].to_numpy(),
            "w": design.weights,
        }
    )
    return estimation.estimate(
        frame,
        "y",
        design=estimation.Design(clusters=("org",), weights="w"),
        statistic=statistic,
        domain=("valid", "true"),
    )


def test_a_proportion_matches_the_analysis_apps_estimator():
    wave = _wave()
    design = _design(wave)
    outcome = P.run_test(
        test="proportion",
        direction="greater",
        parameters={"item": "prop_alliance", "categories": AGREE, "threshold": 0.3},
        wave=wave,
        design=design,
    )
    values = wave.respondents["prop_alliance"].to_numpy(dtype=object)
    valid = np.isin(values, SCALE)  # "don't know" leaves the denominator
    reference = _reference(wave, design, np.isin(values, AGREE).astype(float), valid, "proportion")
    assert outcome.estimate == pytest.approx(reference.estimate, abs=1e-10)
    assert outcome.details["se"] == pytest.approx(reference.se, rel=1e-8)
    assert outcome.ci_low == pytest.approx(reference.ci_low, rel=1e-6)
    assert outcome.ci_high == pytest.approx(reference.ci_high, rel=1e-6)
    assert outcome.n == int(valid.sum())
    # The one-sided p-value is on the logit scale, like the interval, so they agree: the
    # interval reaches below 0.3 and p is above 0.025; against 0.2 it lies wholly above.
    assert outcome.ci_low < 0.3 and outcome.verdict == "inconclusive"
    assert 0.025 < outcome.p_value < 0.5
    lower = P.run_test(
        test="proportion",
        direction="greater",
        parameters={"item": "prop_alliance", "categories": AGREE, "threshold": 0.2},
        wave=wave,
        design=design,
    )
    assert lower.ci_low > 0.2 and lower.verdict == "supported" and lower.p_value < 0.025
    assert outcome.details["wave"]["number"] == 2
    assert len(outcome.details["wave_inputs_hash"]) == 64


def test_a_mean_of_scale_positions_matches_the_analysis_apps_estimator():
    wave = _wave()
    design = _design(wave)
    outcome = P.run_test(
        test="mean",
        direction="less",
        parameters={"item": "prop_alliance", "threshold": 4.5},
        wave=wave,
        design=design,
    )
    values = wave.respondents["prop_alliance"].to_numpy(dtype=object)
    scores = np.array([SCALE.index(v) + 1 if v in SCALE else np.nan for v in values])
    reference = _reference(wave, design, scores, ~np.isnan(scores), "mean")
    assert outcome.estimate == pytest.approx(reference.estimate, abs=1e-10)
    assert outcome.ci_low == pytest.approx(reference.ci_low, rel=1e-6)
    assert outcome.ci_high == pytest.approx(reference.ci_high, rel=1e-6)
    assert outcome.verdict == "supported"
    assert "scale position" in outcome.details["scoring"]


def test_a_difference_counts_the_groups_covariance():
    wave = _wave()
    design = _design(wave)
    parameters = {
        "item": "prop_alliance",
        "categories": AGREE,
        "group_item": "role_group",
        "group_a": ["chair_or_accountable_officer"],
        "group_b": ["finance_officer_or_gp_member"],
    }
    outcome = P.run_test(
        test="difference", direction="greater", parameters=parameters, wave=wave, design=design
    )
    groups = outcome.details["groups"]
    assert outcome.estimate == pytest.approx(groups["a"]["share"] - groups["b"]["share"])
    # Members of one CCG share a cluster, so the two shares covary; the variance of the
    # difference is var A + var B − 2 cov, not the independent sum.
    covariance = outcome.details["covariance_ab"]
    assert covariance != 0
    expected_se = math.sqrt(groups["a"]["se"] ** 2 + groups["b"]["se"] ** 2 - 2 * covariance)
    assert outcome.details["se"] == pytest.approx(expected_se)
    t = (outcome.estimate - 0) / outcome.details["se"]
    from scipy import stats

    assert outcome.p_value == pytest.approx(stats.t.sf(t, outcome.details["df"]))


def test_groups_in_different_clusters_have_no_covariance():
    wave = _wave()
    respondents = wave.respondents
    # Group by a CCG-level attribute (north against the rest): no cluster holds both.
    respondents["area"] = np.where(respondents["region"] == "North", "north", "other")
    outcome = P.run_test(
        test="difference",
        direction="greater",
        parameters={
            "item": "prop_alliance",
            "categories": AGREE,
            "group_item": "area",
            "group_a": ["north"],
            "group_b": ["other"],
        },
        wave=wave,
        design=_design(wave),
    )
    groups = outcome.details["groups"]
    assert outcome.details["covariance_ab"] == pytest.approx(0, abs=1e-15)
    assert outcome.details["se"] == pytest.approx(math.hypot(groups["a"]["se"], groups["b"]["se"]))


def test_the_default_design_is_the_analysis_apps_weights_for_this_wave_alone():
    wave = _wave()
    outcome = P.run_test(
        test="proportion",
        direction="greater",
        parameters={"item": "prop_alliance", "categories": AGREE, "threshold": 0.3},
        wave=wave,
    )
    weighted = P.wave_design(wave)
    assert weighted.n == len(wave.respondents)
    again = P.run_test(
        test="proportion",
        direction="greater",
        parameters={"item": "prop_alliance", "categories": AGREE, "threshold": 0.3},
        wave=wave,
        design=weighted,
    )
    assert outcome.estimate == again.estimate
    assert "raked" in outcome.details["design"]


def test_an_item_nobody_answered_is_a_clear_error():
    wave = _wave()
    wave.respondents["prop_alliance"] = None
    with pytest.raises(P.PropositionTestError, match='gave an answer to "prop_alliance"'):
        P.run_test(
            test="proportion",
            direction="greater",
            parameters={"item": "prop_alliance", "categories": AGREE, "threshold": 0.3},
            wave=wave,
            design=_design(wave),
        )


# --------------------------------------------------------------------------- in the database

User = get_user_model()


def _version(study, number: int, form: dict) -> InstrumentVersion:
    instrument, _ = Instrument.objects.get_or_create(study=study, slug="survey", title="Survey")
    return InstrumentVersion.objects.create(
        instrument=instrument,
        version=str(number),
        file_name=f"wave{number}.md",
        file_bytes=b"",
        sha256=f"{number}" * 64,
        form_json=form,
    )


@pytest.fixture
def survey(db):
    """A study with two waves asking the same questions (the wave-2 form both times), so
    a proposition's items have answers in wave 1 too — which its test must ignore."""
    rng = np.random.default_rng(11)
    lead = User.objects.create_user(username="lead", password="a-long-test-passw0rd")
    study = study_actions.create_study(actor=lead, slug="props", title="Propositions")
    question = study.research_questions.create(number=1, short_name="Q1", text="Q1?")
    form = survey_json(WAVE_FILES[2])
    root = form["name"]
    waves = {}
    for number in (1, 2):
        waves[number] = Wave.objects.create(
            study=study,
            number=number,
            name=f"Wave {number} (fixture)",
            instrument_version=_version(study, number, form),
            frame_vintage=dt.date(2013, 4, 1),
            field_start=dt.date(2014 + 2 * (number - 1), 4, 1),
            field_end=dt.date(2014 + 2 * (number - 1), 6, 1),
        )
    agree_chance = {1: 0.3, 2: 0.75}
    for o in range(24):
        org = Organisation.objects.create(
            org_type="ccg",
            ods_code=f"{o:02d}P",
            name=f"CCG {o}",
            region_name=["North", "South"][o % 2],
            registered_patients=100_000 + 5_000 * o,
            allocation_000s=100_000 + 1_000 * o,
            open_date=dt.date(2013, 4, 1),
        )
        for j, role in enumerate(ROLES):
            participant = Participant.objects.create(
                study=study, pseudonym=f"P{o:02d}{j}", role_category=role, organisation=org
            )
            for number, wave in waves.items():
                complete = (o + j + number) % 5 != 0
                interview = Interview.objects.create(
                    wave=wave,
                    participant=participant,
                    status=Interview.Status.COMPLETE if complete else Interview.Status.FINALISED,
                    disposition="1.1" if complete else "2.112",
                )
                if not complete:
                    continue
                agree = rng.random() < agree_chance[number]
                answers = {
                    f"/{root}/about_you/role": role,
                    f"/{root}/case_study_findings/prop_alliance": (
                        "agree" if agree else "disagree"
                    ),
                }
                Answer.objects.bulk_create(
                    Answer(
                        interview=interview,
                        item_path=path,
                        value=value,
                        instrument_version=wave.instrument_version,
                        mode="telephone",
                    )
                    for path, value in answers.items()
                )
    finding = actions.create_finding(
        study=study,
        strand=Strand.INDEPTH,
        research_question=question,
        statement="In the in-depth sites clinicians and managers worked as an alliance.",
        actor=lead,
    )
    return {"study": study, "lead": lead, "question": question, "waves": waves, "root": root,
            "finding": finding}  # fmt: skip


def _draft(survey, **overrides) -> Proposition:
    values = {
        "study": survey["study"],
        "research_question": survey["question"],
        "wave": survey["waves"][2],
        "finding": survey["finding"],
        "statement": "Most members of CCGs see clinicians and managers as an alliance.",
        "test": "proportion",
        "direction": "greater",
        "parameters": {"item": "prop_alliance", "categories": AGREE, "threshold": 0.5},
        "support_rule": "More than half agree, the whole 95% interval above one half.",
        "actor": survey["lead"],
    }
    values.update(overrides)
    return actions.create_proposition(**values)


def test_a_draft_lists_its_items_and_can_be_edited(survey):
    proposition = _draft(survey)
    assert proposition.items == ["prop_alliance"]
    assert proposition.status == Proposition.Status.DRAFT
    actions.update_proposition(
        proposition=proposition,
        actor=survey["lead"],
        parameters={"item": "prop_alliance", "categories": AGREE, "threshold": 0.6},
    )
    proposition.refresh_from_db()
    assert proposition.parameters["threshold"] == 0.6
    assert AuditEvent.objects.filter(action="proposition.update").count() == 1


def test_a_proposition_must_be_testable_on_its_wave(survey):
    with pytest.raises(IntegrationError, match="not an item of the wave") as caught:
        _draft(survey, parameters={"item": "prop_nothing", "categories": AGREE, "threshold": 0.5})
    assert caught.value.field == "item"
    survey_finding = actions.create_finding(
        study=survey["study"],
        strand=Strand.WAVE1,
        research_question=survey["question"],
        statement="A survey finding.",
        actor=survey["lead"],
    )
    with pytest.raises(IntegrationError, match="restates a case-study finding"):
        _draft(survey, finding=survey_finding)
    assert not Proposition.objects.exists()


def test_the_lock_is_final_and_in_the_audit_trail_with_its_time_and_hash(survey):
    proposition = _draft(survey)
    actions.lock_proposition(proposition=proposition, actor=survey["lead"])
    proposition.refresh_from_db()
    assert proposition.status == Proposition.Status.LOCKED
    assert proposition.locked_by == survey["lead"]
    assert proposition.lock_hash == proposition.content_hash()

    event = AuditEvent.objects.get(action="proposition.lock", object_id=str(proposition.pk))
    assert event.after["lock_hash"] == proposition.lock_hash
    assert dt.datetime.fromisoformat(event.after["locked_at"]) == proposition.locked_at
    assert event.at >= proposition.locked_at
    assert event.actor == survey["lead"]
    # What existed of the testing wave when the lock was made is on the record.
    assert event.after["wave_data_at_lock"]["complete_interviews"] > 0

    stored = Proposition.objects.get(pk=proposition.pk).content_hash()
    # Not through the action…
    with pytest.raises(IntegrationError, match="cannot be edited"):
        actions.update_proposition(
            proposition=proposition, actor=survey["lead"], statement="Something else."
        )
    # …nor through the model, whatever the route.
    proposition.statement = "Something else."
    with pytest.raises(ValidationError, match="can no longer be changed"):
        proposition.save()
    proposition.refresh_from_db()
    proposition.parameters = {**proposition.parameters, "threshold": 0.1}
    with pytest.raises(ValidationError):
        proposition.save()
    proposition.refresh_from_db()
    proposition.locked_at = proposition.locked_at + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="the lock is final"):
        proposition.save()
    assert Proposition.objects.get(pk=proposition.pk).content_hash() == stored
    with pytest.raises(IntegrationError, match="cannot be locked again"):
        actions.lock_proposition(proposition=proposition, actor=survey["lead"])
    with pytest.raises(IntegrationError, match="cannot be deleted"):
        actions.delete_proposition(proposition=proposition, actor=survey["lead"])


def test_an_unlocked_proposition_cannot_be_tested(survey):
    proposition = _draft(survey)
    with pytest.raises(IntegrationError, match="Lock the proposition before testing"):
        actions.test_proposition(proposition=proposition, actor=survey["lead"])
    proposition.refresh_from_db()
    assert proposition.verdict == "" and proposition.tested_at is None
    assert not AuditEvent.objects.filter(action="proposition.test").exists()


def _set_answers(survey, number: int, value: str) -> None:
    Answer.objects.filter(
        interview__wave=survey["waves"][number], item_path__endswith="/prop_alliance"
    ).update(value=value)


def test_the_verdict_comes_from_the_testing_waves_data_only(survey):
    proposition = _draft(survey)
    actions.lock_proposition(proposition=proposition, actor=survey["lead"])
    actions.test_proposition(proposition=proposition, actor=survey["lead"])
    first = Proposition.objects.get(pk=proposition.pk)
    assert first.status == Proposition.Status.TESTED
    assert first.verdict == "supported"  # about three in four agree in wave 2
    assert first.effect > 0.6 and first.ci_low > 0.5
    assert first.test_details["wave"]["number"] == 2
    assert first.test_details["lock"]["lock_hash"] == first.lock_hash

    # Wave 1 asked the same item and mostly disagreed; turning every wave-1 answer round
    # changes nothing in the verdict, the effect or the hash of the data it was read from.
    _set_answers(survey, 1, "strongly_agree")
    actions.test_proposition(proposition=proposition, actor=survey["lead"])
    second = Proposition.objects.get(pk=proposition.pk)
    assert (second.verdict, second.effect, second.ci_low, second.ci_high, second.n_cases) == (
        first.verdict,
        first.effect,
        first.ci_low,
        first.ci_high,
        first.n_cases,
    )
    assert second.test_details["wave_inputs_hash"] == first.test_details["wave_inputs_hash"]

    # Changing wave 2's answers changes the result.
    _set_answers(survey, 2, "strongly_disagree")
    actions.test_proposition(proposition=proposition, actor=survey["lead"])
    third = Proposition.objects.get(pk=proposition.pk)
    assert third.effect == 0.0
    assert third.verdict == "not_supported"
    assert third.test_details["wave_inputs_hash"] != first.test_details["wave_inputs_hash"]
    # The locked test itself never changed, and every test is its own audit event.
    assert third.content_hash() == third.lock_hash
    events = AuditEvent.objects.filter(action="proposition.test", object_id=str(proposition.pk))
    assert [e.after["verdict"] for e in events.order_by("id")] == [
        "supported",
        "supported",
        "not_supported",
    ]


def test_testing_needs_data_in_the_wave(survey):
    proposition = _draft(survey)
    actions.lock_proposition(proposition=proposition, actor=survey["lead"])
    Interview.objects.filter(wave=survey["waves"][2]).update(status=Interview.Status.FINALISED)
    with pytest.raises(IntegrationError, match="no complete interview yet"):
        actions.test_proposition(proposition=proposition, actor=survey["lead"])
