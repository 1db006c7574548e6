"""The built-in study: its content, our own wording, and installing it (idempotently)."""

import datetime
import re

import pytest

from triangulum.audit.models import AuditEvent
from triangulum.studies import actions
from triangulum.studies.models import Phase, Study
from triangulum.studies.protocol import builtin_path
from triangulum.testing import shared_path

EXPECTED_KINDS = [
    Phase.Kind.PILOT_CASE_STUDIES,
    Phase.Kind.NATIONAL_SURVEY_WAVE,
    Phase.Kind.IN_DEPTH_CASE_STUDIES,
    Phase.Kind.GENERALISATION_SURVEY_WAVE,
    Phase.Kind.INTEGRATION,
    Phase.Kind.DISSEMINATION,
]


@pytest.fixture(scope="module")
def protocol():
    return actions.builtin_protocol()


def test_protocol_has_four_questions_and_six_phases_in_order(protocol):
    assert [q.number for q in protocol.research_questions] == [1, 2, 3, 4]
    assert [p.kind for p in protocol.phases] == EXPECTED_KINDS
    assert [p.order for p in protocol.phases] == [1, 2, 3, 4, 5, 6]
    for phase in protocol.phases:
        assert phase.research_questions, f"{phase.name} links no RQ"
        assert phase.produces, f"{phase.name} says nothing of what it produces"
        assert protocol.start_date <= phase.planned_start_date <= phase.planned_end_date
        assert phase.planned_end_date <= protocol.end_date


def test_protocol_carries_the_studys_facts(protocol):
    assert "NIHR" in protocol.funder
    assert protocol.funding_amount == "£475,000"
    assert protocol.host == "The Open University Business School"
    assert protocol.start_date == datetime.date(2013, 12, 1)
    assert protocol.end_date == datetime.date(2016, 11, 30)
    assert "cluster" in protocol.secondary_focus and "new arrangements" in protocol.secondary_focus
    groups = " ".join(f"{g.name} {g.description}" for g in protocol.stakeholder_groups)
    for who in (
        "GPs",
        "nurses",
        "hospital consultants",
        "Managers",
        "Health and Wellbeing Board",
        "councillors",
        "Patients and the public",
    ):
        assert who in groups
    sectors = [s.name for s in protocol.care_sectors]
    assert sectors == ["Primary care", "Acute hospital care", "Community services", "Social care"]
    assert "local authorities" in protocol.care_sectors[3].description


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9£]+", text.lower())


def _seed_sentences(text: str) -> list[str]:
    sentences = []
    for line in text.splitlines():
        sentences += [s.strip() for s in re.split(r"(?<=[.?!])\s+", line) if s.strip()]
    return sentences


def reused_wording(seed: str, ours: str) -> list[str]:
    """Seed sentences of 8+ words, and runs of 8 seed words, that appear in ``ours``."""
    ours_flat = " ".join(ours.lower().split())
    our_words = " " + " ".join(_words(ours)) + " "
    found = [
        sentence
        for sentence in _seed_sentences(seed)
        if len(sentence.split()) >= 8 and " ".join(sentence.lower().split()) in ours_flat
    ]
    # Stricter than whole sentences: no eight consecutive words of the seed at all.
    words = _words(seed)
    runs = {" ".join(words[i : i + 8]) for i in range(len(words) - 7)}
    found += sorted(run for run in runs if f" {run} " in our_words)
    return found


@pytest.fixture(scope="module")
def seed_texts():
    files = sorted(shared_path("seed").glob("*.txt"))
    assert files
    return [f.read_text(encoding="utf-8") for f in files]


def test_no_seed_sentence_or_eight_word_run_appears_in_the_protocol_file(seed_texts):
    ours = builtin_path().read_text(encoding="utf-8")
    for seed in seed_texts:
        assert sum(len(s.split()) >= 8 for s in _seed_sentences(seed)) > 10  # really read
        assert reused_wording(seed, ours) == []


def test_the_wording_check_catches_a_copied_sentence(seed_texts):
    seed = seed_texts[0]
    copied = next(s for s in _seed_sentences(seed) if len(s.split()) >= 12)
    doctored = builtin_path().read_text(encoding="utf-8") + f'\nextra = """{copied}"""\n'
    assert copied in reused_wording(seed, doctored)


@pytest.mark.django_db
def test_install_creates_the_study_and_audits_it():
    study = actions.install_builtin_study(actor="test")
    assert study.is_builtin and not study.is_simulated
    assert study.research_questions.count() == 4
    phases = list(study.phases.all())
    assert [p.kind for p in phases] == EXPECTED_KINDS
    assert all(p.research_questions.exists() for p in phases)
    assert all(p.status == Phase.Status.PLANNED for p in phases)
    event = AuditEvent.objects.get(study_id=study.id, action="study.install_builtin")
    assert event.before is None
    assert len(event.after["phases"]) == 6 and len(event.after["research_questions"]) == 4


@pytest.mark.django_db
def test_reinstall_updates_in_place_and_keeps_what_happened():
    study = actions.install_builtin_study(actor="test", simulated=True)
    pilot = study.phases.get(order=1)
    actions.set_phase_status(
        actor="test",
        phase=pilot,
        status=Phase.Status.COMPLETE,
        start_date=datetime.date(2013, 12, 2),
        end_date=datetime.date(2014, 6, 30),
    )
    # Someone edited the protocol in the database; reinstalling restores the shipped text.
    Study.objects.filter(pk=study.pk).update(title="edited")
    study.research_questions.filter(number=2).update(text="edited")
    rq_ids = list(study.research_questions.values_list("pk", flat=True))

    again = actions.install_builtin_study(actor="test")
    assert again.pk == study.pk
    assert Study.objects.filter(slug="ccg-clinical-leadership").count() == 1
    assert again.is_simulated  # once simulated, always simulated
    assert again.title != "edited"
    assert again.research_questions.get(number=2).text != "edited"
    assert list(again.research_questions.values_list("pk", flat=True)) == rq_ids
    pilot.refresh_from_db()
    assert pilot.status == Phase.Status.COMPLETE
    assert pilot.end_date == datetime.date(2014, 6, 30)
    event = AuditEvent.objects.get(study_id=study.id, action="study.reinstall_builtin")
    assert event.before["title"] == "edited" and event.after["title"] == again.title
