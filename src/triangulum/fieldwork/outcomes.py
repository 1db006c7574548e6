"""Call outcomes an interviewer can record, and the AAPOR codes they map to.

Pure: no Django import. The sample is a list of named people (governing-body members of
organisations), so unlike a random-digit-dial sample each person is known to exist and to
be eligible, unless their organisation no longer exists or they have left the role. So a
case never reached by telephone ends as an eligible non-contact (2.20), not as "unknown
eligibility" (3.13) — see docs/adr/0012-telephone-scheduler-and-claims.md.

Each outcome says whether it ends the case (``final``), how long to wait before the next
call (``retry_minutes``), whether someone was spoken to (``contact``), the code the case
carries now (``code``) and the code it ends with if fieldwork closes while the case still
stands at this outcome (``code_at_close``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Share of the questions that applied which must be answered for a stopped interview to
# count as a partial (1.2) rather than a break-off (2.12).
PARTIAL_THRESHOLD = 0.5
# A case at this code has never been dialled (AAPOR 3.11 "not attempted").
NOT_ATTEMPTED = "3.11"


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    code: str
    final: bool
    retry_minutes: int
    contact: bool
    code_at_close: str
    # Offered to the interviewer after a call (some are set by the system instead).
    offered: bool = True
    explanation: str = ""

    @property
    def temporary(self) -> bool:
        return not self.final


_HOUR = 60
_DAY = 24 * 60

OUTCOMES: dict[str, Outcome] = {
    o.key: o
    for o in (
        Outcome(
            "no_answer",
            "No answer",
            "2.20",
            False,
            3 * _HOUR,
            False,
            "2.20",
            explanation="rang out; the named person exists, so a non-contact stays eligible",
        ),
        Outcome("busy", "Engaged (busy)", "2.20", False, 15, False, "2.20"),
        Outcome(
            "answering_machine",
            "Answering machine or voicemail",
            "2.221",
            False,
            4 * _HOUR,
            False,
            "2.221",
        ),
        Outcome(
            "soft_appointment",
            "Soft appointment (try around a time)",
            "2.21",
            False,
            0,
            True,
            "2.21",
            explanation="usually agreed with a secretary or gatekeeper",
        ),
        Outcome(
            "hard_appointment",
            "Hard appointment (agreed with the respondent)",
            "2.36",
            False,
            0,
            True,
            "2.36",
        ),
        Outcome(
            "gatekeeper_refusal",
            "Refusal by a gatekeeper (PA, secretary, office)",
            "2.111",
            True,
            0,
            True,
            "2.111",
            explanation="organisation-level refusal, the list-survey form of AAPOR's "
            "household-level refusal",
        ),
        Outcome("respondent_refusal", "Refusal by the respondent", "2.112", True, 0, True, "2.112"),
        Outcome(
            "break_off",
            "Break-off (stopped; may resume)",
            "2.12",
            False,
            _DAY,
            True,
            "2.12",
            explanation="ends as a partial (1.2) if enough was answered",
        ),
        Outcome(
            "away", "Respondent away for the whole field period", "2.21", True, 0, True, "2.21"
        ),
        Outcome("language", "Language or hearing barrier", "2.33", True, 0, True, "2.33"),
        Outcome(
            "other_eligible", "Other reason (eligible, no interview)", "2.36", True, 0, True, "2.36"
        ),
        Outcome(
            "organisation_closed",
            "Organisation merged or abolished (out of sample)",
            "4.10",
            True,
            0,
            True,
            "4.10",
        ),
        Outcome(
            "left_role",
            "No longer holds the sampled role (not eligible)",
            "4.70",
            True,
            0,
            True,
            "4.70",
        ),
        Outcome(
            "wrong_number",
            "Wrong or unobtainable number",
            "3.90",
            False,
            0,
            False,
            "3.90",
            explanation="the next number is tried; with none left the case ends as 3.90",
        ),
        Outcome(
            "partial",
            "Partial interview (stopped for good)",
            "1.2",
            True,
            0,
            True,
            "1.2",
            offered=False,
        ),
        Outcome("complete", "Complete interview", "1.1", True, 0, True, "1.1", offered=False),
    )
}

OFFERED = [o for o in OUTCOMES.values() if o.offered]
APPOINTMENT_OUTCOMES = ("soft_appointment", "hard_appointment")


class OutcomeError(ValueError):
    pass


def outcome(key: str) -> Outcome:
    try:
        return OUTCOMES[key]
    except KeyError:
        raise OutcomeError(
            f"unknown call outcome {key!r}; choose one of {', '.join(OUTCOMES)}"
        ) from None


def stopped_code(answered: int, applicable: int) -> str:
    """1.2 (partial) or 2.12 (break-off) for an interview that stopped part-way."""
    if applicable > 0 and answered / applicable >= PARTIAL_THRESHOLD:
        return "1.2"
    return "2.12"


def wrong_number_code(numbers: Iterable[str], wrong: Iterable[str]) -> tuple[str, bool]:
    """(code, final) after a wrong number: temporary while another number is left."""
    left = [n for n in numbers if n and n not in set(wrong)]
    if left:
        return "3.90", False
    return "3.90", True


def code_at_close(
    *,
    last_outcome: str | None,
    answered: int = 0,
    applicable: int = 0,
    final: bool = False,
    current_code: str = "",
) -> str:
    """The final AAPOR code of a case when fieldwork closes (or, live, if it closed now).

    A case never dialled is "not attempted" (3.11); a final case keeps its code; a
    break-off becomes partial or stays 2.12 by how much was answered.
    """
    if final and current_code:
        return current_code
    if not last_outcome:
        return stopped_code(answered, applicable) if answered else NOT_ATTEMPTED
    if last_outcome == "break_off" or answered:
        return stopped_code(answered, applicable)
    return outcome(last_outcome).code_at_close
