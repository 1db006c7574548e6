"""The demo's survey fieldwork: both waves of the governing-body survey, simulated.

Runs after sampling. Imports the study's two instruments (wave 1, 2014; wave 2, 2016),
creates the waves, then stores what ``simulation`` generates for the real CCGs of each
wave's frame: fictitious members (participants and their contact details), interviews,
call attempts, appointments and answers, all marked simulated. Rows go in with
``bulk_create`` (thousands of them), with one summary audit event per wave.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import DateTimeField, JSONField

from triangulum.audit.actions import record
from triangulum.core.demo_registry import DemoContext, DemoStep
from triangulum.organisations.queries import open_on
from triangulum.studies import actions as study_actions
from triangulum.studies.models import Participant, ParticipantContact, Phase

from . import actions, runner, simulation
from .aapor import bucket_for, count_dispositions, outcome_rates, proportional_e
from .instruments import CROSSWALK, INSTRUMENT_SLUG, INSTRUMENT_TITLE, WAVE_FILES
from .models import Answer, Appointment, CallAttempt, Interview, Mode, Wave
from .xlsform.model import QUESTION

ACTOR = "triangulum demo"
PHASE_OF_WAVE = {1: Phase.Kind.NATIONAL_SURVEY_WAVE, 2: Phase.Kind.GENERALISATION_SURVEY_WAVE}
# Answer sets re-checked through the engine while the demo runs (all are checked in tests).
ENGINE_CHECKS_PER_WAVE = 25
BATCH = 5000


def _ccgs(census) -> dict[str, object]:
    """The organisations of both waves' frames, by ODS code."""
    found = {unit.organisation.ods_code: unit.organisation for unit in census.units.all()}
    for organisation in open_on("ccg", simulation.WAVES[2].frame_vintage):
        found.setdefault(organisation.ods_code, organisation)
    return found


def _question_layout(instrument) -> tuple[list[str], dict[str, str]]:
    questions = [item for item in instrument.walk() if item.kind == QUESTION]
    return (
        [item.name for item in questions],
        {item.name: runner.item_path(instrument, item) for item in questions},
    )


def _next_pseudonym_number(study) -> int:
    numbers = [
        int(p[1:])
        for p in study.participants.values_list("pseudonym", flat=True)
        if p.startswith("P") and p[1:].isdigit()
    ]
    return max(numbers, default=0) + 1


def _store_participants(study, result, organisations) -> dict[str, Participant]:
    start = _next_pseudonym_number(study)
    participants = [
        Participant(
            study=study,
            pseudonym=f"P{start + index:04d}",
            role_category=member.role_category,
            organisation=organisations[member.ccg_code],
            is_simulated=True,
        )
        for index, member in enumerate(result.members)
    ]
    Participant.objects.bulk_create(participants, batch_size=BATCH)
    by_key = {m.key: p for m, p in zip(result.members, participants, strict=True)}
    ParticipantContact.objects.bulk_create(
        [
            ParticipantContact(
                participant=by_key[m.key],
                full_name=m.full_name,
                job_title=m.job_title,
                email=m.email,
                phone=m.phone,
                notes="Simulated governing-body member: not a real person.",
            )
            for m in result.members
        ],
        batch_size=BATCH,
    )
    return by_key


def _insert_rows(model, rows: list[dict]) -> None:
    """Plain INSERTs for the bulkiest tables: model instances for 100,000 answers cost
    seconds the demo does not have. Timestamps and JSON are prepared by their fields, as
    the ORM would; timestamps are given (auto_now would stamp 2014's fieldwork with the
    time of the run)."""
    if not rows:
        return
    database = connections[DEFAULT_DB_ALIAS]
    names = list(rows[0])
    fields = [model._meta.get_field(name) for name in names]
    needs_preparing = [isinstance(f, DateTimeField | JSONField) for f in fields]
    table = database.ops.quote_name(model._meta.db_table)
    columns = ", ".join(database.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    plan = list(zip(names, fields, needs_preparing, strict=True))
    with database.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(
                sql,
                [
                    [
                        field.get_db_prep_save(row[name], database) if prepare else row[name]
                        for name, field, prepare in plan
                    ]
                    for row in rows[start : start + BATCH]
                ],
            )


def _check_with_engine(instrument, stored: list[dict[str, str]], wave_number: int) -> None:
    """A sample of generated answer sets must be what the engine itself would hold."""
    for answers in stored[:ENGINE_CHECKS_PER_WAVE]:
        session = runner.build_session(instrument, answers)
        problems = [issue.message for issue in session.issues()]
        if problems or runner.stored_paths(session) != answers:
            raise RuntimeError(
                f"wave {wave_number}: a simulated answer set does not fit the form: {problems}"
            )


def _store_wave(
    wave: Wave, version, instrument, simulated, participants, interviewer, seed
) -> dict:
    order, paths = _question_layout(instrument)
    cases = simulated.cases
    interviews = [
        Interview(
            wave=wave,
            participant=participants[case.member_key],
            mode=case.mode,
            status=(Interview.Status.COMPLETE if case.is_complete else Interview.Status.FINALISED),
            disposition=case.disposition,
            attempts=len(case.calls),
            resume_at=(runner.END if case.is_complete else paths.get(case.resume_at, "")),
            started_at=case.started_at,
            completed_at=case.completed_at,
            is_simulated=True,
        )
        for case in cases
    ]
    Interview.objects.bulk_create(interviews, batch_size=BATCH)
    calls, appointments, answers, checked = [], [], [], []
    interviewer_id = interviewer.pk if interviewer else None
    for case, interview in zip(cases, interviews, strict=True):
        for call in case.calls:
            calls.append(
                {
                    "interview": interview.pk,
                    "interviewer": interviewer_id,
                    "started_at": call.started_at,
                    "ended_at": call.ended_at,
                    "number_dialled": call.number_dialled,
                    "outcome": call.outcome,
                    "aapor_code": call.aapor_code,
                    "notes": call.notes,
                    "is_simulated": True,
                }
            )
        for appointment in case.appointments:
            appointments.append(
                {
                    "interview": interview.pk,
                    "due_at": appointment.due_at,
                    "kind": appointment.kind,
                    "status": appointment.status,
                    "created_by": interviewer_id,
                    "created_at": appointment.made_at,
                    "notes": "Simulated appointment",
                }
            )
        stored = simulation.answer_paths(case, paths)
        if case.is_complete:
            checked.append(stored)
        answered_at = case.completed_at or case.started_at
        answered_by = interviewer_id if case.mode == Mode.TELEPHONE else None
        answers.extend(
            {
                "interview": interview.pk,
                "item_path": path,
                "value": value,
                "instrument_version": version.pk,
                "mode": case.mode,
                "answered_at": answered_at,
                "answered_by": answered_by,
            }
            for path, value in stored.items()
        )
    _check_with_engine(instrument, checked, wave.number)
    _insert_rows(CallAttempt, calls)
    _insert_rows(Appointment, appointments)
    _insert_rows(Answer, answers)
    dispositions: dict[str, int] = {}
    for case in cases:
        dispositions[case.disposition] = dispositions.get(case.disposition, 0) + 1
    summary = {
        "interviews": len(interviews),
        "call_attempts": len(calls),
        "appointments": len(appointments),
        "answers": len(answers),
        "dispositions": dict(sorted(dispositions.items())),
        "seed": seed,
        "simulated": True,
    }
    record(
        actor=ACTOR,
        action="wave.simulate_fieldwork",
        obj=wave,
        study_id=wave.study_id,
        after=summary,
    )
    return summary


def _rates(wave: Wave) -> dict:
    dispositions = list(wave.interviews.values_list("disposition", flat=True))
    counts = count_dispositions(dispositions)
    e = proportional_e(counts)
    return {
        "wave": wave.number,
        "name": wave.name,
        "cases": len(dispositions),
        "counts": {bucket: int(n) for bucket, n in counts.items()},
        "e": e,
        "rates": outcome_rates(counts, e),
    }


def _dispositions_csv(wave: Wave) -> str:
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(
        [
            "wave",
            "pseudonym",
            "organisation_code",
            "role_category",
            "mode",
            "attempts",
            "disposition",
            "aapor_bucket",
            "simulated",
        ]
    )
    rows = wave.interviews.select_related("participant__organisation").order_by(
        "participant__pseudonym"
    )
    for interview in rows:
        participant = interview.participant
        writer.writerow(
            [
                wave.number,
                participant.pseudonym,
                participant.organisation.ods_code if participant.organisation else "",
                participant.role_category,
                interview.mode,
                interview.attempts,
                interview.disposition,
                bucket_for(interview.disposition),
                "true",
            ]
        )
    return stream.getvalue()


def _complete_phases(study, numbers=tuple(PHASE_OF_WAVE)) -> None:
    for number in numbers:
        kind = PHASE_OF_WAVE[number]
        spec = simulation.WAVES[number]
        for phase in study.phases.filter(kind=kind):
            study_actions.set_phase_status(
                actor=ACTOR,
                phase=phase,
                status=Phase.Status.COMPLETE,
                start_date=spec.field_start,
                end_date=spec.field_end,
            )


def run(ctx: DemoContext) -> None:
    """Wave 1: both instruments imported and both waves set up; wave 1's fieldwork stored.

    Wave 2's fieldwork is simulated now (one draw for the panel of members) but stored by
    ``run_wave2``, which runs after the case studies, as in the study's own timetable.
    """
    study = ctx.shared["study"]
    census = ctx.shared["samples"]["wave1_census"]
    existing = {wave.number: wave for wave in study.waves.all()}
    if set(existing) >= set(WAVE_FILES):
        ctx.shared["waves"] = {n: existing[n] for n in WAVE_FILES}
        ctx.record("Survey waves already present: fieldwork not simulated again", None)
        return

    versions = {
        number: actions.import_instrument_version(
            actor=ACTOR,
            study=study,
            slug=INSTRUMENT_SLUG,
            title=INSTRUMENT_TITLE,
            file_path=path,
        )
        for number, path in WAVE_FILES.items()
    }
    instruments = {
        number: runner.instrument_from_bytes(version.file_name, bytes(version.file_bytes))
        for number, version in versions.items()
    }
    organisations = _ccgs(census)
    ccgs = [
        simulation.CCG(code, org.name, org.open_date, org.close_date)
        for code, org in organisations.items()
    ]
    result = simulation.simulate(
        ccgs,
        seed=ctx.seed,
        item_order={n: _question_layout(i)[0] for n, i in instruments.items()},
    )
    interviewer = get_user_model().objects.filter(username="interviewer").first()

    waves: dict[int, Wave] = {}
    summaries: dict[int, dict] = {}
    with transaction.atomic():
        participants = _store_participants(study, result, organisations)
        for number, spec in simulation.WAVES.items():
            phase = study.phases.filter(kind=PHASE_OF_WAVE[number]).first()
            waves[number] = actions.create_wave(
                actor=ACTOR,
                study=study,
                number=number,
                name=f"{spec.name} (simulated)",
                instrument_version=versions[number],
                frame_vintage=spec.frame_vintage,
                field_start=spec.field_start,
                field_end=spec.field_end,
                modes=[Mode.TELEPHONE, Mode.WEB, Mode.PAPER],
                max_attempts=spec.max_attempts,
                calling_windows=simulation.CALLING_WINDOW,
                phase=phase,
                is_simulated=True,
            )
        summaries[1] = _store_wave(
            waves[1],
            versions[1],
            instruments[1],
            result.waves[1],
            participants,
            interviewer,
            result.seed,
        )
        _complete_phases(study, numbers=(1,))
    ctx.shared["fieldwork_wave2"] = {
        "waves": waves,
        "versions": versions,
        "instruments": instruments,
        "result": result,
        "participants": participants,
        "interviewer": interviewer,
        "summaries": summaries,
    }


def run_wave2(ctx: DemoContext) -> None:
    """Wave 2's fieldwork, from the draw ``run`` made; then both waves' outputs."""
    pending = ctx.shared.pop("fieldwork_wave2", None)
    if pending is None:  # already present (``run`` found both waves)
        return
    study = ctx.shared["study"]
    waves, versions, result = pending["waves"], pending["versions"], pending["result"]
    summaries = pending["summaries"]
    with transaction.atomic():
        summaries[2] = _store_wave(
            waves[2],
            versions[2],
            pending["instruments"][2],
            result.waves[2],
            pending["participants"],
            pending["interviewer"],
            result.seed,
        )
        _complete_phases(study, numbers=(2,))

    truth = {
        "simulated": True,
        "seed": ctx.seed,
        "true_values": {
            k: {str(w): v for w, v in by.items()} for k, by in simulation.TRUE_VALUES.items()
        },
        "model": result.truth,
    }
    ctx.shared["waves"] = waves
    ctx.shared["simulation_truth"] = truth
    _write_outputs(ctx, waves, summaries, truth, result)


def _write_outputs(ctx: DemoContext, waves, summaries, truth, result) -> None:
    outputs = ctx.outputs
    outputs.mkdir(parents=True, exist_ok=True)
    folder = outputs / "instruments"
    folder.mkdir(exist_ok=True)
    for path in [*WAVE_FILES.values(), CROSSWALK]:
        shutil.copyfile(path, folder / path.name)
    ctx.record("Survey instruments, waves 1 and 2 (XLSForm markdown) and their crosswalk", folder)
    members = len(result.members)
    for number, wave in waves.items():
        path = outputs / f"fieldwork_wave{number}_dispositions.csv"
        path.write_text(_dispositions_csv(wave), encoding="utf-8")
        summary = summaries[number]
        ctx.record(
            f"{wave.name}: {summary['interviews']} simulated interviews, "
            f"{summary['call_attempts']} call attempts, {summary['answers']} answers "
            "(final AAPOR dispositions)",
            path,
        )
    rates_path = outputs / "fieldwork_rates.json"
    rates = {"simulated": True, "waves": {str(n): _rates(w) for n, w in waves.items()}}
    rates_path.write_text(json.dumps(rates, indent=2), encoding="utf-8")
    ctx.record("AAPOR outcome rates of both simulated waves", rates_path)
    truth_path = outputs / "fieldwork_simulation_truth.json"
    truth_path.write_text(json.dumps(truth, indent=2, default=str), encoding="utf-8")
    ctx.record(
        f"True values of the simulation model ({members} simulated governing-body members)",
        truth_path,
    )


CASE_STUDIES_STEP = "Simulate, code and chart the case studies"
WAVE2_STEP = "Simulate survey wave 2 (fieldwork)"
# Wave 2 (2016) followed the in-depth case studies it was designed to test, so its
# fieldwork is stored after the case-study step (and after anything placed before it,
# such as the propositions locked ahead of wave 2).
STEPS = [
    DemoStep("Simulate survey wave 1 and set up wave 2 (fieldwork)", run),
    DemoStep(WAVE2_STEP, run_wave2, after=CASE_STUDIES_STEP),
]
