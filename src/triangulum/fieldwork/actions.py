"""Every change to fieldwork data: instruments, waves, respondents, claims, calls, answers.

Each action takes keyword arguments, runs in one transaction and writes an audit event —
except answers: an answer is itself a timestamped record naming who gave it, so it is
not audited again (see docs/adr/0012-telephone-scheduler-and-claims.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from triangulum.audit.actions import record, snapshot
from triangulum.organisations.models import Organisation
from triangulum.studies import actions as study_actions
from triangulum.studies.models import RoleCategory

from . import outcomes, runner, scheduler
from .models import (
    Answer,
    Appointment,
    CallAttempt,
    Instrument,
    InstrumentVersion,
    Interview,
    Mode,
    Wave,
)
from .transactions import write_transaction
from .xlsform import AnswerRejected, InstrumentError, load_instrument
from .xlsform.model import Problem


class FieldworkError(ValueError):
    """A request the fieldwork rules refuse; the message says why."""


# --------------------------------------------------------------------------- instruments


def _survey_json(path: Path) -> dict:
    if path.suffix.lower() in (".xml", ".json"):
        return {}
    from pyxform.xls2json import parse_file_to_json

    return parse_file_to_json(str(path), default_name=path.stem, warnings=[])


def import_instrument_version(
    *,
    actor,
    study,
    slug: str,
    title: str,
    file_path: str | Path | None = None,
    data: bytes | None = None,
    file_name: str | None = None,
) -> InstrumentVersion:
    """Store an XLSForm as a new version of the study's instrument ``slug``.

    A form with problems raises ``InstrumentError`` (each problem with its sheet, row and
    column) and nothing is stored. The same bytes imported twice return the stored version.
    """
    if file_path is not None:
        file_path = Path(file_path)
        data = file_path.read_bytes()
        file_name = file_name or file_path.name
    if data is None or not file_name:
        raise FieldworkError("give a file path, or the file's bytes and its name")
    sha = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory(prefix="triangulum-import-") as folder:
        path = Path(folder) / Path(file_name).name
        path.write_bytes(data)
        parsed = load_instrument(path)  # raises InstrumentError listing every problem
        form_json = _survey_json(path)
    version_label = parsed.version or sha[:12]
    with transaction.atomic():
        instrument, created = Instrument.objects.get_or_create(
            study=study, slug=slug, defaults={"title": title or parsed.title or slug}
        )
        if created:
            record(
                actor=actor,
                action="instrument.create",
                obj=instrument,
                study_id=study.pk,
                after=snapshot(instrument),
            )
        existing = instrument.versions.filter(version=version_label).first()
        if existing is not None:
            if existing.sha256 == sha:
                return existing
            raise InstrumentError(
                file_name,
                [
                    Problem(
                        f"version {version_label!r} of instrument {slug!r} is already stored "
                        "with different content; change the version in the settings sheet"
                    )
                ],
            )
        stored = InstrumentVersion.objects.create(
            instrument=instrument,
            version=version_label,
            file_name=Path(file_name).name,
            file_bytes=data,
            sha256=sha,
            form_json=form_json,
            created_by=actor if _is_user(actor) else None,
        )
        record(
            actor=actor,
            action="instrument_version.import",
            obj=stored,
            study_id=study.pk,
            after={
                "instrument": slug,
                "version": version_label,
                "file_name": stored.file_name,
                "sha256": sha,
            },
        )
    return stored


def _is_user(actor) -> bool:
    return actor is not None and not isinstance(actor, str) and actor.is_authenticated


# --------------------------------------------------------------------------- waves


def create_wave(
    *,
    actor,
    study,
    number: int,
    name: str,
    instrument_version: InstrumentVersion,
    frame_vintage: dt.date,
    field_start: dt.date,
    field_end: dt.date,
    modes: list[str] | None = None,
    max_attempts: int = 8,
    calling_windows: dict | None = None,
    phase=None,
    is_simulated: bool | None = None,
) -> Wave:
    modes = list(modes or [Mode.TELEPHONE])
    unknown = [m for m in modes if m not in Mode.values]
    if unknown:
        raise FieldworkError(f"unknown mode {unknown[0]!r}; use {', '.join(Mode.values)}")
    if field_end < field_start:
        raise FieldworkError("the field period ends before it starts")
    if instrument_version.instrument.study_id != study.pk:
        raise FieldworkError("the instrument version belongs to another study")
    if max_attempts < 1:
        raise FieldworkError("the maximum number of attempts must be at least 1")
    windows = calling_windows or {}
    try:
        scheduler.window_of(Wave(calling_windows=windows))
    except (KeyError, ValueError, TypeError) as error:
        raise FieldworkError(f"calling windows not understood: {error}") from None
    with transaction.atomic():
        if study.waves.filter(number=number).exists():
            raise FieldworkError(f"{study} already has a wave {number}")
        wave = Wave.objects.create(
            study=study,
            phase=phase,
            number=number,
            name=name,
            instrument_version=instrument_version,
            frame_vintage=frame_vintage,
            field_start=field_start,
            field_end=field_end,
            modes=modes,
            max_attempts=max_attempts,
            calling_windows=windows,
            is_simulated=study.is_simulated if is_simulated is None else is_simulated,
        )
        record(actor=actor, action="wave.create", obj=wave, study_id=study.pk, after=snapshot(wave))
    return wave


# --------------------------------------------------------------------------- respondents

RESPONDENT_COLUMNS = ("organisation_code", "role", "full_name", "phone")
OPTIONAL_COLUMNS = ("phone_alt", "email", "job_title", "mode", "priority")
_PHONE_CHARS = re.compile(r"[\s().-]")


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: str

    def describe(self, source: str = "") -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{source + ': ' if source else ''}{where}: {self.message}"


class RespondentImportError(ValueError):
    def __init__(self, source: str, problems: list[RowProblem]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(p.describe(source) for p in problems))


def normalise_uk_phone(text: str) -> str | None:
    """A UK number in national form (``01632960001``), or None if it is not one."""
    compact = _PHONE_CHARS.sub("", text or "")
    if compact.startswith("+44"):
        compact = "0" + compact[3:]
    elif compact.startswith("0044"):
        compact = "0" + compact[4:]
    if compact.startswith("0(0"):
        return None
    if re.fullmatch(r"0[1-9]\d{8,9}", compact):
        return compact
    return None


def _role_value(text: str) -> str | None:
    wanted = (text or "").strip().lower()
    for value, label in RoleCategory.choices:
        if wanted in (value, label.lower()):
            return value
    return None


def _organisation(code: str, vintage: dt.date) -> tuple[Organisation | None, str | None]:
    matches = list(Organisation.objects.filter(ods_code__iexact=code.strip()))
    if not matches:
        return None, f"unknown organisation code {code!r}"
    for org in matches:
        opened = org.open_date is None or org.open_date <= vintage
        not_closed = org.close_date is None or org.close_date >= vintage
        if opened and not_closed:
            return org, None
    spans = "; ".join(f"{o.name}: {o.open_date or '…'} to {o.close_date or '…'}" for o in matches)
    return None, f"organisation {code!r} was not open on the wave's vintage {vintage} ({spans})"


def check_respondents(
    wave: Wave, text: str, source: str = ""
) -> tuple[list[dict], list[RowProblem]]:
    """Rows ready to store and every problem found (row 1 is the header)."""
    problems: list[RowProblem] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in RESPONDENT_COLUMNS if c not in header]
    if missing:
        return [], [
            RowProblem(
                1,
                "",
                f"missing column(s): {', '.join(missing)} (expected "
                f"{', '.join(RESPONDENT_COLUMNS)}; optional "
                f"{', '.join(OPTIONAL_COLUMNS)})",
            )
        ]
    rows: list[dict] = []
    seen: dict[tuple, int] = {}
    existing = {
        (name.strip().lower(), org_id)
        for name, org_id in Interview.objects.filter(wave=wave).values_list(
            "participant__contact__full_name", "participant__organisation_id"
        )
        if name
    }
    org_cache: dict[str, tuple] = {}
    allowed_modes = set(wave.modes or [Mode.TELEPHONE])
    for number, raw in enumerate(reader, start=2):
        values = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        row: dict = {"row": number}
        code = values.get("organisation_code", "")
        if not code:
            problems.append(RowProblem(number, "organisation_code", "no organisation code"))
        else:
            if code not in org_cache:
                org_cache[code] = _organisation(code, wave.frame_vintage)
            org, problem = org_cache[code]
            if problem:
                problems.append(RowProblem(number, "organisation_code", problem))
            row["organisation"] = org
        role = _role_value(values.get("role", ""))
        if role is None:
            problems.append(
                RowProblem(
                    number,
                    "role",
                    f"unknown role {values.get('role', '')!r}; "
                    f"use one of {', '.join(RoleCategory.values)}",
                )
            )
        row["role"] = role
        name = values.get("full_name", "")
        if not name:
            problems.append(RowProblem(number, "full_name", "no name"))
        row["full_name"] = name
        numbers = []
        for column in ("phone", "phone_alt"):
            given = values.get(column, "")
            if not given:
                if column == "phone":
                    problems.append(RowProblem(number, column, "no telephone number"))
                continue
            phone = normalise_uk_phone(given)
            if phone is None:
                problems.append(
                    RowProblem(
                        number,
                        column,
                        f"malformed UK telephone number "
                        f"{given!r} (expected e.g. 0113 496 0000 or "
                        "+44 113 496 0000)",
                    )
                )
            else:
                numbers.append(phone)
        row["phones"] = numbers
        email = values.get("email", "")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(RowProblem(number, "email", f"malformed e-mail address {email!r}"))
        row["email"] = email
        row["job_title"] = values.get("job_title", "")
        mode = values.get("mode", "") or (
            Mode.TELEPHONE if Mode.TELEPHONE in allowed_modes else sorted(allowed_modes)[0]
        )
        if mode not in allowed_modes:
            problems.append(
                RowProblem(
                    number,
                    "mode",
                    f"mode {mode!r} is not one of this wave's "
                    f"modes ({', '.join(sorted(allowed_modes))})",
                )
            )
        row["mode"] = mode
        priority = values.get("priority", "") or "0"
        try:
            row["priority"] = int(priority)
        except ValueError:
            problems.append(
                RowProblem(number, "priority", f"priority {priority!r} is not a whole number")
            )
        org = row.get("organisation")
        if name and org is not None:
            key = (name.lower(), org.pk)
            if key in seen:
                problems.append(
                    RowProblem(
                        number,
                        "full_name",
                        f"duplicate person: {name} at {org.ods_code} is also on row {seen[key]}",
                    )
                )
            elif key in existing:
                problems.append(
                    RowProblem(
                        number,
                        "full_name",
                        f"duplicate person: {name} at "
                        f"{org.ods_code} is already a respondent in this wave",
                    )
                )
            seen.setdefault(key, number)
        rows.append(row)
    if not rows and not problems:
        problems.append(RowProblem(2, "", "the file has no respondents"))
    return rows, problems


def import_respondents(*, actor, wave: Wave, text: str, source: str = "respondents.csv") -> int:
    """Add every row as a participant with contact details and an interview, or nothing.

    Raises ``RespondentImportError`` listing every problem by row; then nothing is stored.
    """
    rows, problems = check_respondents(wave, text, source)
    if problems:
        raise RespondentImportError(source, problems)
    study = wave.study
    with transaction.atomic():
        for row in rows:
            participant = study_actions.register_participant(
                actor=actor,
                study=study,
                role_category=row["role"],
                organisation=row["organisation"],
                is_simulated=wave.is_simulated,
            )
            study_actions.set_participant_contact(
                actor=actor,
                participant=participant,
                full_name=row["full_name"],
                job_title=row["job_title"],
                email=row["email"],
                phone=";".join(row["phones"]),
            )
            Interview.objects.create(
                wave=wave,
                participant=participant,
                mode=row["mode"],
                priority=row["priority"],
                is_simulated=wave.is_simulated,
            )
        record(
            actor=actor,
            action="wave.import_respondents",
            obj=wave,
            study_id=study.pk,
            after={"source": source, "respondents": len(rows)},
        )
    return len(rows)


def phone_numbers(interview: Interview) -> list[str]:
    contact = getattr(interview.participant, "contact", None)
    if contact is None or not contact.phone:
        return []
    return [n.strip() for n in re.split(r"[;/]", contact.phone) if n.strip()]


# --------------------------------------------------------------------------- telephone


def claim_next_interview(*, actor, wave: Wave, now: dt.datetime | None = None):
    now = now or timezone.now()
    # The claim and its audit event commit together, in one turn at the write lock.
    with write_transaction():
        interview, newly_claimed = scheduler.claim(wave, actor, now=now)
        if interview is not None and newly_claimed:
            record(
                actor=actor,
                action="interview.claim",
                obj=interview,
                study_id=wave.study_id,
                after={"claimed_at": now.isoformat()},
            )
    return interview


def _check_appointment_time(wave: Wave, due_at: dt.datetime, now: dt.datetime) -> None:
    if due_at <= now:
        raise FieldworkError("An appointment must be in the future.")
    if not scheduler.in_calling_window(wave, due_at):
        raise FieldworkError(
            "The appointment falls outside the field period or calling hours "
            f"({scheduler.window_of(wave).describe()}, {wave.field_start:%-d %b} to "
            f"{wave.field_end:%-d %b %Y})."
        )


def record_call_outcome(
    *,
    actor,
    interview: Interview,
    outcome: str,
    number_dialled: str = "",
    notes: str = "",
    appointment_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    answered: int = 0,
    applicable: int = 0,
) -> CallAttempt:
    """Record one call's outcome, update the case, and release the interviewer's claim."""
    now = now or timezone.now()
    chosen = outcomes.outcome(outcome)
    wave = interview.wave
    if chosen.key in outcomes.APPOINTMENT_OUTCOMES:
        if appointment_at is None:
            raise FieldworkError("Give the appointment's date and time.")
        _check_appointment_time(wave, appointment_at, now)
    with write_transaction():
        case = Interview.objects.select_for_update().get(pk=interview.pk)
        if case.status in (Interview.Status.COMPLETE, Interview.Status.FINALISED):
            raise FieldworkError(f"This case is already closed ({case.disposition}).")
        if _is_user(actor) and case.claimed_by_id not in (None, actor.pk):
            raise FieldworkError("Another interviewer holds this case.")
        before = snapshot(case, ["status", "disposition", "attempts", "next_call_after"])
        code, final = chosen.code, chosen.final
        if chosen.key == "wrong_number" and number_dialled:
            wrong = [*case.wrong_numbers, number_dialled]
            case.wrong_numbers = sorted(set(wrong))
            code, final = outcomes.wrong_number_code(phone_numbers(case), case.wrong_numbers)
        elif chosen.key == "wrong_number":
            code, final = "3.90", not phone_numbers(case)
        if chosen.key == "partial":
            code = outcomes.stopped_code(answered, applicable)
        call = CallAttempt.objects.create(
            interview=case,
            interviewer=actor if _is_user(actor) else None,
            started_at=case.claimed_at or now,
            ended_at=now,
            number_dialled=number_dialled,
            outcome=chosen.key,
            aapor_code=code,
            notes=notes,
            is_simulated=case.is_simulated,
        )
        case.attempts += 1
        case.disposition = code
        # Any appointment that had fallen due was taken up by this call.
        case.appointments.filter(status=Appointment.Status.PENDING, due_at__lte=now).update(
            status=Appointment.Status.KEPT
        )
        if final:
            case.status = Interview.Status.COMPLETE if code == "1.1" else Interview.Status.FINALISED
            case.next_call_after = None
            case.appointments.filter(status=Appointment.Status.PENDING).update(
                status=Appointment.Status.CANCELLED
            )
        elif chosen.key in outcomes.APPOINTMENT_OUTCOMES:
            case.appointments.filter(status=Appointment.Status.PENDING).update(
                status=Appointment.Status.CANCELLED
            )
            appointment = Appointment.objects.create(
                interview=case,
                due_at=appointment_at,
                kind=Appointment.Kind.HARD
                if chosen.key == "hard_appointment"
                else Appointment.Kind.SOFT,
                created_by=actor if _is_user(actor) else None,
                notes=notes,
            )
            case.status = Interview.Status.APPOINTMENT
            case.next_call_after = appointment_at
            # An appointment is an attempt to honour, not one more failed try.
            case.attempts = max(case.attempts - 1, 0)
            record(
                actor=actor,
                action="appointment.book",
                obj=appointment,
                study_id=wave.study_id,
                after=snapshot(appointment),
            )
        else:
            if case.status == Interview.Status.APPOINTMENT:
                case.status = (
                    Interview.Status.IN_PROGRESS
                    if case.answers.exists()
                    else Interview.Status.NOT_STARTED
                )
            case.next_call_after = now + dt.timedelta(minutes=chosen.retry_minutes)
        if notes:
            stamp = timezone.localtime(now).strftime("%d %b %Y %H:%M")
            case.notes = (case.notes + "\n" if case.notes else "") + f"[{stamp}] {notes}"
        case.claimed_by = None
        case.claimed_at = None
        case.save()
        record(
            actor=actor,
            action="call.outcome",
            obj=call,
            study_id=wave.study_id,
            before=before,
            after={
                **snapshot(case, ["status", "disposition", "attempts", "next_call_after"]),
                "outcome": chosen.key,
                "aapor_code": code,
            },
        )
    interview.refresh_from_db()
    return call


# --------------------------------------------------------------------------- answers


# The stored form's bytes and pyxform JSON: large, and not needed once the form is parsed
# (see ``parsed_instrument``), so pages that only run the form leave them unread.
BULKY_VERSION_FIELDS = ("file_bytes", "form_json")


def parsed_instrument(version: InstrumentVersion):
    """The version's form, parsed once per process (a stored version never changes)."""
    return runner.instrument_for_version(
        (version.pk, version.sha256), version.file_name, lambda: bytes(version.file_bytes)
    )


def instrument_for(interview_or_wave):
    wave = getattr(interview_or_wave, "wave", interview_or_wave)
    version = wave.instrument_version
    return version, parsed_instrument(version)


def stored_answers(interview: Interview) -> dict[str, str]:
    # Unordered: the model's default ordering would join the interview and wave tables.
    return {
        path: value
        for path, value in interview.answers.order_by().values_list("item_path", "value")
        if value not in (None, "")
    }


def session_for(interview: Interview):
    _, instrument = instrument_for(interview)
    return runner.build_session(instrument, stored_answers(interview))


def save_answer(*, actor, interview: Interview, path: str, value, mode: str) -> str | None:
    """Validate one answer, store it (and drop answers that no longer apply); next step.

    Raises ``AnswerRejected`` with a message fit for the respondent, storing nothing.
    """
    version, instrument = instrument_for(interview)
    session = runner.build_session(instrument, stored_answers(interview))
    item, indices = runner.parse_item_path(instrument, path)
    text = "" if value is None else value
    session.set_answer(item.key, text, indices)
    if session.answers.get((item.key, indices), "") == "" and session.is_required(
        item.key, indices
    ):
        from .xlsform.model import pick_text

        message = pick_text(item.required_message, session.language) or "An answer is required."
        raise AnswerRejected(item, message)
    now_applying = runner.stored_paths(session)
    following = runner.step_after(session, path)
    user = actor if _is_user(actor) else None
    with write_transaction():
        case = (
            Interview.objects.select_for_update()
            .only("status", "started_at", "resume_at", "mode")
            .get(pk=interview.pk)
        )
        if case.status in (Interview.Status.COMPLETE, Interview.Status.FINALISED):
            raise FieldworkError("This interview is closed; its answers can no longer change.")
        # Read under the case's lock: it keeps every other save of this interview out until
        # we commit, so these are the rows as they stand (normally the ones read above).
        held = set(case.answers.order_by().values_list("item_path", flat=True))
        if path in now_applying:
            fields = {
                "value": now_applying[path],
                "instrument_version": version,
                "mode": mode,
                "answered_by": user,
                "answered_at": timezone.now(),
            }
            if path in held:
                Answer.objects.filter(interview=case, item_path=path).update(**fields)
            else:
                Answer.objects.create(interview=case, item_path=path, **fields)
        # Answers to questions that the new answer made irrelevant are cleared, as ODK does
        # (an emptied answer too: its path is no longer among those applying).
        stale = sorted(held - set(now_applying))
        if stale:
            case.answers.filter(item_path__in=stale).delete()
        case.resume_at = following or runner.END
        if case.status in (Interview.Status.NOT_STARTED, Interview.Status.APPOINTMENT):
            case.status = Interview.Status.IN_PROGRESS
        if case.started_at is None:
            case.started_at = timezone.now()
        case.mode = mode
        case.save(update_fields=["resume_at", "status", "started_at", "mode"])
    return following


def complete_interview(*, actor, interview: Interview, mode: str, now=None) -> Interview:
    """Close an interview as complete (1.1) once every applicable required answer is in."""
    now = now or timezone.now()
    session = session_for(interview)
    issues = session.issues()
    if issues:
        names = ", ".join(sorted({issue.item.name for issue in issues}))
        raise FieldworkError(f"The interview cannot be completed yet: {names} still need answers.")
    with write_transaction():
        case = Interview.objects.select_for_update().get(pk=interview.pk)
        # The caller's copies of the wave and respondent (for the audit label) save two reads.
        case.wave = interview.wave
        case.participant = interview.participant
        if case.status == Interview.Status.COMPLETE:
            return case
        if case.status == Interview.Status.FINALISED:
            raise FieldworkError(f"This case is already closed ({case.disposition}).")
        before = snapshot(case, ["status", "disposition", "mode"])
        if mode == Mode.TELEPHONE:
            CallAttempt.objects.create(
                interview=case,
                interviewer=actor if _is_user(actor) else None,
                started_at=case.claimed_at or now,
                ended_at=now,
                outcome="complete",
                aapor_code="1.1",
                is_simulated=case.is_simulated,
            )
            case.attempts += 1
        case.appointments.filter(status=Appointment.Status.PENDING).update(
            status=Appointment.Status.KEPT
        )
        case.status = Interview.Status.COMPLETE
        case.disposition = "1.1"
        case.mode = mode
        case.completed_at = now
        case.resume_at = runner.END
        case.claimed_by = None
        case.claimed_at = None
        case.next_call_after = None
        case.save()
        record(
            actor=actor,
            action="interview.complete",
            obj=case,
            study_id=case.wave.study_id,
            before=before,
            after=snapshot(case, ["status", "disposition", "mode", "completed_at"]),
        )
    return case


def close_wave(*, actor, wave: Wave) -> dict[str, int]:
    """End fieldwork: give every open case its final AAPOR code (see ``outcomes``)."""
    counts: dict[str, int] = {}
    with transaction.atomic():
        open_cases = Interview.objects.select_for_update().filter(
            wave=wave, status__in=scheduler.OPEN_STATUSES
        )
        for case in open_cases:
            last = case.calls.order_by("-started_at", "-id").first()
            session = session_for(case)
            applicable, answered = runner.applicable_and_answered(session)
            code = outcomes.code_at_close(
                last_outcome=last.outcome if last else None,
                answered=answered,
                applicable=applicable,
            )
            case.disposition = code
            case.status = Interview.Status.FINALISED
            case.claimed_by = None
            case.claimed_at = None
            case.save(update_fields=["disposition", "status", "claimed_by", "claimed_at"])
            case.appointments.filter(status=Appointment.Status.PENDING).update(
                status=Appointment.Status.MISSED
            )
            counts[code] = counts.get(code, 0) + 1
        record(
            actor=actor,
            action="wave.close",
            obj=wave,
            study_id=wave.study_id,
            after={"finalised": counts},
        )
    return counts


def record_export(*, actor, wave: Wave, kind: str, rows: int) -> None:
    with transaction.atomic():
        record(
            actor=actor,
            action="wave.export",
            obj=wave,
            study_id=wave.study_id,
            after={"kind": kind, "rows": rows},
        )
