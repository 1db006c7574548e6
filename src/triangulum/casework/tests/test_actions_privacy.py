"""Pseudonymisation on stored sources: scan, review, the key, anonymised texts and export."""

import csv
import io
import zipfile

import pytest

from triangulum.audit.models import AuditEvent
from triangulum.casework import actions_privacy as privacy
from triangulum.casework.models import Pseudonym, PseudonymCandidate
from triangulum.casework.refi import read_refi
from triangulum.casework.tests import privacy_fixtures
from triangulum.casework.tests.privacy_fixtures import PLANTED, planted_spans

labelled = privacy_fixtures.labelled

pytestmark = pytest.mark.django_db
Status = PseudonymCandidate.Status


def accept_everything(study, actor):
    for kind in Pseudonym.Kind.values:
        privacy.accept_all_of_kind(study=study, kind=kind, actor=actor)


def originals():
    return [string for spans in PLANTED["sources"].values() for string, _, _ in spans]


def test_scan_finds_every_planted_identifier_and_nothing_else(labelled):
    study, lead = labelled["study"], labelled["users"]["lead"]
    result = privacy.scan_study(study=study, actor=lead)
    for file_name, source in labelled["sources"].items():
        planted = {(s, e): kind for s, e, kind, _ in planted_spans(source.text, file_name)}
        found = {(c.start, c.end): c.kind for c in source.pseudonym_candidates.all()}
        assert found == planted
    assert result.added == sum(len(v) for v in PLANTED["sources"].values())
    # Idempotent: a second scan adds nothing and drops nothing.
    again = privacy.scan_study(study=study, actor=lead)
    assert (again.added, again.removed) == (0, 0)


def test_accepted_pseudonyms_are_consistent_across_sources_and_spellings(labelled):
    study, lead = labelled["study"], labelled["users"]["lead"]
    privacy.scan_study(study=study, actor=lead)
    accept_everything(study, lead)
    by_entity: dict[str, set[str]] = {}
    for file_name, source in labelled["sources"].items():
        candidates = {
            (c.start, c.end): c for c in source.pseudonym_candidates.select_related("pseudonym")
        }
        for start, end, kind, entity in planted_spans(source.text, file_name):
            candidate = candidates[(start, end)]
            assert candidate.status == Status.ACCEPTED
            by_entity.setdefault(entity or kind, set()).add(candidate.pseudonym.replacement)
    assert by_entity["okafor"] == {"GP member 1"}
    assert by_entity["raman"] == {"Chair 1"}
    assert by_entity["wielgosz"] == {"Manager 1"}
    assert by_entity["ashford"] == {"CCG A"}
    assert by_entity["barking"] == {"Practice 1"}
    assert by_entity["kent"] == {"Council A"}
    assert by_entity["medway"] == {"Trust A"}
    assert by_entity["email"] == {"e-mail"} and by_entity["nhs_number"] == {"NHS number"}
    okafor = labelled["people"]["okafor"]
    assert set(Pseudonym.objects.filter(participant=okafor).values_list("original", flat=True)) >= {
        "Grace Okafor",
        "Dr Okafor",
        "Okafor",
    }


def test_anonymised_text_and_codings_keep_their_words(labelled):
    study, lead = labelled["study"], labelled["users"]["lead"]
    privacy.scan_study(study=study, actor=lead)
    accept_everything(study, lead)
    interview = labelled["sources"]["labelled_interview.txt"]
    text, offsets = privacy.anonymised_text(interview)
    for string in originals():
        assert string not in text
    assert "[GP member 1]" in text and "[NHS number]" in text and "[postcode]" in text
    assert "943 476 5918" in text  # an invalid NHS number is left alone
    words = {}
    for coding in labelled["codings"]:
        s, e = offsets.segment(coding.start, coding.end)
        words[interview.text[coding.start : coding.end]] = text[s:e]
    assert words["The frailty pathway worked"] == "The frailty pathway worked"
    assert words["which is not a valid number"] == "which is not a valid number"
    assert (
        words["Dr Okafor — that's me — and Tomasz Wielgosz, our head of commissioning"]
        == "[GP member 1] — that's me — and [Manager 1], our head of commissioning"
    )
    assert words["Kent County Council sends its director"] == "[Council A] sends its director"


def test_export_holds_no_original_and_keeps_codings_on_their_words(labelled, tmp_path):
    study, lead = labelled["study"], labelled["users"]["lead"]
    privacy.scan_study(study=study, actor=lead)
    accept_everything(study, lead)
    summary = privacy.export_anonymised(study=study, out=tmp_path / "anon.zip", actor=lead)
    assert (summary.sources, summary.codings) == (2, len(PLANTED["coded_phrases"]))
    assert summary.replacements == sum(len(v) for v in PLANTED["sources"].values())
    with zipfile.ZipFile(summary.path) as archive:
        names = archive.namelist()
        blobs = {name: archive.read(name) for name in names}
        assert {"codings.csv", "replacements.csv", "sources.csv", "project.qdpx"} <= set(names)
        texts = {n: b.decode("utf-8") for n, b in blobs.items() if n.endswith((".txt", ".csv"))}
    (tmp_path / "project.qdpx").write_bytes(blobs["project.qdpx"])
    project = read_refi(tmp_path / "project.qdpx")
    with zipfile.ZipFile(tmp_path / "project.qdpx") as inner:
        inner_text = "\n".join(inner.read(n).decode("utf-8", "replace") for n in inner.namelist())
    for string in originals() + ["Okafor", "Raman", "Wielgosz", "Ashford"]:
        for name, content in texts.items():
            assert string not in content, f"{string!r} in {name}"
        assert string not in inner_text
    rows = list(csv.DictReader(io.StringIO(texts["codings.csv"])))
    interview_id = labelled["sources"]["labelled_interview.txt"].id
    source_text = texts[f"sources/source-{interview_id:05d}.txt"]
    for row in rows:
        assert source_text[int(row["start"]) : int(row["end"])] == row["text"]
    assert "The frailty pathway worked" in {row["text"] for row in rows}
    # The REFI project carries the anonymised text with its selections on the same words.
    [qdpx_source] = [s for s in project.sources if s.text == source_text]
    selected = {source_text[sel.start : sel.end] for sel in qdpx_source.selections}
    assert selected == {row["text"] for row in rows}


def test_audit_trail_records_decisions_without_originals(labelled):
    study, lead = labelled["study"], labelled["users"]["lead"]
    privacy.scan_study(study=study, actor=lead)
    candidate = PseudonymCandidate.objects.filter(source__study=study, kind="participant").first()
    privacy.accept_candidate(candidate=candidate, actor=labelled["users"]["researcher"])
    other = PseudonymCandidate.objects.filter(source__study=study, kind="phone").first()
    privacy.reject_candidate(candidate=other, actor=lead)
    events = AuditEvent.objects.filter(study_id=study.id, action__startswith="pseudonym")
    actions = {e.action for e in events}
    assert {
        "pseudonym_candidate.accept",
        "pseudonym_candidate.reject",
        "pseudonym.create",
    } <= actions
    accept = events.get(action="pseudonym_candidate.accept")
    assert accept.after["pseudonym"] == "GP member 1" and accept.after["candidate"] == candidate.id
    assert accept.actor_label == "researcher"
    dump = str([(e.before, e.after, e.object_label) for e in events])
    assert candidate.text not in dump and other.text not in dump
    other.refresh_from_db()
    assert other.status == Status.REJECTED and other.pseudonym is None
    text, _ = privacy.anonymised_text(other.source)
    assert other.text in text


def test_replacement_can_be_overridden_and_bad_input_is_refused(labelled):
    study, lead = labelled["study"], labelled["users"]["lead"]
    privacy.scan_study(study=study, actor=lead)
    candidate = PseudonymCandidate.objects.filter(source__study=study, kind="organisation").first()
    privacy.accept_candidate(candidate=candidate, actor=lead, replacement="[Site 1]")
    candidate.refresh_from_db()
    assert candidate.pseudonym.replacement == "Site 1"
    with pytest.raises(privacy.PrivacyError, match="not a kind"):
        privacy.accept_all_of_kind(study=study, kind="shoe size", actor=lead)
    with pytest.raises(privacy.PrivacyError, match="group"):
        privacy.add_identifier(study=study, original="St Elsewhere", actor=lead, group="hospital")
    assert not Pseudonym.objects.filter(original="St Elsewhere").exists()


def test_a_name_added_to_the_key_is_found_by_the_next_scan(labelled):
    study, lead = labelled["study"], labelled["users"]["lead"]
    privacy.scan_study(study=study, actor=lead)
    privacy.add_identifier(
        study=study,
        original="Old Mill",
        actor=lead,
        kind="place",
        group="other",
        replacement="a clinic",
    )
    result = privacy.scan_study(study=study, actor=lead)
    assert result.added == 1
    found = PseudonymCandidate.objects.get(source__study=study, text="Old Mill")
    privacy.accept_candidate(candidate=found, actor=lead)
    found.refresh_from_db()
    assert found.pseudonym.replacement == "a clinic"


def test_people_of_the_case_studies_are_numbered_before_the_rest_of_the_register(labelled):
    from triangulum.casework import actions
    from triangulum.studies import actions as study_actions

    study, lead = labelled["study"], labelled["users"]["lead"]
    interviewee = study_actions.register_participant(
        actor=lead, study=study, role_category="gp_member"
    )
    study_actions.set_participant_contact(
        actor=lead, participant=interviewee, full_name="Dr Zephyrine Quillfeather"
    )
    # Okafor was registered first, but only the newcomer is a case of the case studies.
    actions.ensure_case(
        study=study,
        kind="participant",
        name=interviewee.pseudonym,
        actor=lead,
        participant=interviewee,
    )
    labels = {p.key: p.label for p in privacy.register_for(study).people}
    assert labels[interviewee.id] == "GP member 1"
    assert labels[labelled["people"]["okafor"].id] == "GP member 2"
