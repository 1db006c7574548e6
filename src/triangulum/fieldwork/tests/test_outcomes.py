"""The outcome list on plain data: codes, buckets, finality, close-out rules."""

import pytest

from triangulum.fieldwork import aapor, outcomes


def test_every_outcome_maps_to_an_aapor_bucket():
    for outcome in outcomes.OUTCOMES.values():
        assert aapor.bucket_for(outcome.code) in aapor.BUCKETS
        assert aapor.bucket_for(outcome.code_at_close) in aapor.BUCKETS


def test_named_people_never_reached_stay_eligible_non_contacts():
    for key in ("no_answer", "busy", "answering_machine"):
        code = outcomes.code_at_close(last_outcome=key)
        assert aapor.bucket_for(code) == "NC", key
        assert not outcomes.outcome(key).final


def test_gatekeeper_and_respondent_refusals_are_distinct_refusals():
    gatekeeper = outcomes.outcome("gatekeeper_refusal")
    respondent = outcomes.outcome("respondent_refusal")
    assert gatekeeper.code == "2.111" and respondent.code == "2.112"
    assert aapor.bucket_for(gatekeeper.code) == aapor.bucket_for(respondent.code) == "R"


def test_a_merged_or_abolished_organisation_is_out_of_sample():
    closed = outcomes.outcome("organisation_closed")
    assert closed.code == "4.10" and closed.final
    assert aapor.bucket_for(closed.code) == "NE"


def test_stopped_interviews_are_partial_from_half_the_applicable_questions():
    assert outcomes.stopped_code(3, 6) == "1.2"
    assert outcomes.stopped_code(2, 6) == "2.12"
    assert outcomes.stopped_code(0, 0) == "2.12"


def test_close_out_codes():
    assert outcomes.code_at_close(last_outcome=None) == outcomes.NOT_ATTEMPTED
    assert outcomes.code_at_close(last_outcome="break_off", answered=5, applicable=6) == "1.2"
    assert outcomes.code_at_close(last_outcome="no_answer", answered=1, applicable=6) == "2.12"
    assert outcomes.code_at_close(last_outcome="soft_appointment") == "2.21"
    # A hard appointment means the respondent was spoken to: a contact, not a non-contact.
    assert aapor.bucket_for(outcomes.code_at_close(last_outcome="hard_appointment")) == "O"
    assert outcomes.code_at_close(last_outcome="no_answer", final=True, current_code="1.1") == "1.1"


def test_wrong_number_is_final_only_with_no_number_left():
    assert outcomes.wrong_number_code(["011", "077"], ["011"]) == ("3.90", False)
    assert outcomes.wrong_number_code(["011", "077"], ["011", "077"]) == ("3.90", True)


def test_unknown_outcome_is_refused_with_the_choices():
    with pytest.raises(outcomes.OutcomeError, match="no_answer"):
        outcomes.outcome("hung_up")
