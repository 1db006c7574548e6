from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from triangulum.studies.models import Role
from triangulum.studies.permissions import study_view

from . import actions, outcomes, queries, runner, scheduler
from . import exports as export_module
from .forms import CallOutcomeForm, RespondentsUploadForm
from .models import Interview, Mode, Wave
from .xlsform import AnswerRejected
from .xlsform.model import pick_text

CONSOLE_ROLES = (Role.LEAD, Role.INTERVIEWER)
SUPERVISOR_ROLES = (Role.LEAD, Role.RESEARCHER)
PAPER_ROLES = (Role.LEAD, Role.RESEARCHER, Role.INTERVIEWER)
LIST_ROLES = (Role.LEAD, Role.RESEARCHER, Role.INTERVIEWER)
CLOSED = (Interview.Status.COMPLETE, Interview.Status.FINALISED)


def _wave(request, number, *, with_instrument: bool = True) -> Wave:
    waves = Wave.objects.filter(study=request.study, number=number)
    if with_instrument:
        waves = waves.select_related("instrument_version__instrument").defer(
            *(f"instrument_version__{name}" for name in actions.BULKY_VERSION_FIELDS)
        )
    wave = get_object_or_404(waves)
    wave.study = request.study
    return wave


# What a questionnaire page reads of a case: loading only these keeps the page's one
# query for the case small (it runs on every question asked and answered).
QUESTIONNAIRE_FIELDS = (
    "status",
    "claimed_by",
    "claimed_at",
    "resume_at",
    "is_simulated",
    "participant__pseudonym",
    "wave__number",
    "wave__name",
    "wave__study",
    "wave__is_simulated",
    "wave__instrument_version__version",
    "wave__instrument_version__file_name",
    "wave__instrument_version__sha256",
    "wave__instrument_version__instrument__title",
)


def _case_query(request, *related: str):
    """The study's interviews with what the console pages show, in one query.

    With no extra relations, only what the questionnaire pages read is loaded.
    """
    interviews = Interview.objects.filter(wave__study=request.study).select_related(
        "wave__instrument_version__instrument", "participant", *related
    )
    if related:
        return interviews.defer(
            *(f"wave__instrument_version__{name}" for name in actions.BULKY_VERSION_FIELDS)
        )
    return interviews.only(*QUESTIONNAIRE_FIELDS)


def _held_case(request, pk, *related: str) -> Interview:
    """The case, only for the interviewer holding it (others learn nothing about it)."""
    interview = get_object_or_404(_case_query(request, *related), pk=pk)
    if not scheduler.holds(interview, request.user):
        raise Http404("This case is not yours to work: take your next case from the console.")
    interview.wave.study = request.study
    return interview


@study_view(*LIST_ROLES)
def wave_list(request, slug):
    role = request.membership.role
    return render(
        request,
        "fieldwork/waves.html",
        {
            "waves": queries.waves_for(request.study),
            "may_console": role in CONSOLE_ROLES,
            "may_supervise": role in SUPERVISOR_ROLES,
            "may_key": role in PAPER_ROLES,
        },
    )


@study_view(*CONSOLE_ROLES)
def console(request, slug, number):
    wave = _wave(request, number, with_instrument=False)
    now = timezone.now()
    return render(
        request,
        "fieldwork/console.html",
        {
            "wave": wave,
            "held": scheduler.held_by(wave, request.user, now),
            "closed_reason": scheduler.closed_reason(wave, now),
            "due": queries.due_count(wave, now),
            "window": scheduler.window_of(wave).describe(),
        },
    )


@require_POST
@study_view(*CONSOLE_ROLES)
def take_next(request, slug, number):
    wave = _wave(request, number, with_instrument=False)
    interview = actions.claim_next_interview(actor=request.user, wave=wave)
    if interview is None:
        reason = scheduler.closed_reason(wave, timezone.now())
        messages.info(request, reason or "No case is due now. Try again shortly.")
        return redirect("fieldwork:console", slug=slug, number=number)
    return redirect("fieldwork:case", slug=slug, pk=interview.pk)


def _case_context(interview: Interview, form=None) -> dict:
    numbers = actions.phone_numbers(interview)
    untried = [n for n in numbers if n not in interview.wrong_numbers] or numbers
    return {
        "interview": interview,
        "wave": interview.wave,
        "participant": interview.participant,
        "contact": getattr(interview.participant, "contact", None),
        "numbers": [(n, n in interview.wrong_numbers) for n in numbers],
        "calls": queries.case_history(interview),
        "appointments": interview.appointments.order_by("due_at"),
        "form": form or CallOutcomeForm(numbers=untried),
        "answered": interview.answers.count(),
    }


@study_view(*CONSOLE_ROLES)
def case(request, slug, pk):
    interview = _held_case(request, pk, "participant__organisation", "participant__contact")
    return render(request, "fieldwork/case.html", _case_context(interview))


@require_POST
@study_view(*CONSOLE_ROLES)
def record_call(request, slug, pk):
    interview = _held_case(request, pk, "participant__organisation", "participant__contact")
    form = CallOutcomeForm(request.POST, numbers=actions.phone_numbers(interview))
    if form.is_valid():
        data = form.cleaned_data
        applicable = answered = 0
        if data["outcome"] == "partial":
            applicable, answered = runner.applicable_and_answered(actions.session_for(interview))
        try:
            call = actions.record_call_outcome(
                actor=request.user,
                interview=interview,
                outcome=data["outcome"],
                number_dialled=data.get("number_dialled") or "",
                notes=data.get("notes") or "",
                appointment_at=data.get("appointment_at"),
                answered=answered,
                applicable=applicable,
            )
        except actions.FieldworkError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Recorded for {interview.participant.pseudonym}: {outcomes.outcome(call.outcome).label} "
                f"(AAPOR {call.aapor_code}).",
            )
            return redirect("fieldwork:console", slug=slug, number=interview.wave.number)
    return render(request, "fieldwork/case.html", _case_context(interview, form), status=400)


# --------------------------------------------------------------------------- the runner


def _input_for(item) -> str:
    if item.type == "select_one":
        return "radio"
    if item.type in ("select_multiple", "rank"):
        return "checkbox"
    if item.type in ("integer", "decimal", "range"):
        return "number"
    if item.type == "date":
        return "date"
    if item.type == "acknowledge":
        return "acknowledge"
    return "text"


def _run(request, interview: Interview, *, mode: str, base_url: str, template: str, extra: dict):
    """Ask one question at a time; save each answer before answering the request."""
    version, instrument = actions.instrument_for(interview)
    error = None
    closed = interview.status in CLOSED
    # The session is rebuilt from the stored answers only where it is used: a save and a
    # completion rebuild their own (see actions), so a successful one never needs it here.
    session = None

    def stored_session():
        return runner.build_session(instrument, actions.stored_answers(interview))

    if request.method == "POST" and not closed:
        path = request.POST.get("path", "")
        if request.POST.get("action") == "back":
            session = stored_session()
            previous = runner.step_before(session, path or None)
            return redirect(_at(base_url, previous or path))
        if request.POST.get("action") == "complete":
            try:
                actions.complete_interview(actor=request.user, interview=interview, mode=mode)
            except actions.FieldworkError as problem:
                error = str(problem)
            else:
                if not extra.get("public"):
                    messages.success(
                        request,
                        f"Interview with {interview.participant.pseudonym} completed (AAPOR 1.1).",
                    )
                return redirect(extra.get("done_url") or base_url)
        else:
            item_type = None
            try:
                item, _ = runner.parse_item_path(instrument, path)
                item_type = item.type
            except KeyError:
                raise Http404("No such question in this interview.") from None
            values = request.POST.getlist("value")
            value = (
                " ".join(values)
                if item_type in ("select_multiple", "rank")
                else (values[0] if values else "")
            )
            try:
                following = actions.save_answer(
                    actor=request.user, interview=interview, path=path, value=value, mode=mode
                )
            except AnswerRejected as rejected:
                error = rejected.message
                session = stored_session()
                extra = {**extra, "given": values}
                at = path
            except actions.FieldworkError as problem:
                error = str(problem)
                session = stored_session()
                at = path
            else:
                return redirect(_at(base_url, following or runner.END))
    if session is None:
        session = stored_session()
    if error is None or request.POST.get("action") == "complete":
        asked = request.GET.get("at")
        if asked == runner.END:
            at = None
        elif asked and runner.position(session, asked) is not None:
            at = asked
        else:
            at = runner.resume_point(session, interview.resume_at)
    listed = runner.steps(session)
    context = {
        **extra,
        "interview": interview,
        "wave": interview.wave,
        "version": version,
        "closed": closed,
        "error": error,
        "base_url": base_url,
        "total": len(listed),
        "answered_count": sum(1 for i, ix in listed if session.answers.get((i.key, ix), "")),
    }
    if at is None or closed:
        context["issues"] = [
            {
                "label": session.label(i.item.key, i.instance) or i.item.name,
                "message": i.message,
                "url": _at(base_url, runner.item_path(instrument, i.item, i.instance)),
            }
            for i in session.issues()
        ]
        context["review"] = [
            {
                "label": session.label(i.key, ix) or i.name,
                "value": _display(i, session.answers.get((i.key, ix), "")),
                "url": _at(base_url, runner.item_path(instrument, i, ix)),
            }
            for i, ix in listed
        ]
        context["finished"] = True
    else:
        item, indices = runner.parse_item_path(instrument, at)
        current = session.answers.get((item.key, indices), "")
        given = extra.get("given") if error else None
        chosen = set(given if given is not None else current.split())
        context.update(
            {
                "finished": False,
                "path": at,
                "number": (runner.position(session, at) or 0) + 1,
                "label": session.label(item.key, indices),
                "hint": pick_text(item.hints, session.language),
                "input": _input_for(item),
                "item": item,
                "required": session.is_required(item.key, indices),
                "value": (given[0] if given else "") if error else current,
                "choices": [
                    {
                        "name": c.name,
                        "label": c.label(session.language),
                        "checked": c.name in chosen,
                    }
                    for c in session.choices_for(item.key, indices)
                ],
                "has_back": runner.step_before(session, at) is not None,
            }
        )
    return render(request, template, context, status=400 if error else 200)


def _display(item, text: str) -> str:
    if not text:
        return "—"
    if item.choices:
        labels = {c.name: c.label() for c in item.choices}
        return "; ".join(labels.get(part, part) for part in text.split())
    return text


def _at(base_url: str, path: str | None) -> str:
    return base_url + ("?" + urlencode({"at": path}) if path else "")


@never_cache
@study_view(*CONSOLE_ROLES)
def ask(request, slug, pk):
    interview = _held_case(request, pk)
    base_url = reverse("fieldwork:ask", args=[slug, pk])
    return _run(
        request,
        interview,
        mode=Mode.TELEPHONE,
        base_url=base_url,
        template="fieldwork/ask.html",
        extra={
            "case_url": reverse("fieldwork:case", args=[slug, pk]),
            "done_url": reverse("fieldwork:console", args=[slug, interview.wave.number]),
        },
    )


# --------------------------------------------------------------------------- paper


@study_view(*PAPER_ROLES)
def paper_list(request, slug, number):
    wave = _wave(request, number)
    query = request.GET.get("q", "").strip()
    found = None
    if query:
        found = (
            Interview.objects.filter(wave=wave, participant__pseudonym__iexact=query)
            .select_related("participant__organisation")
            .first()
        )
        if found is None:
            messages.error(request, f"No respondent {query!r} in {wave}.")
    return render(request, "fieldwork/paper.html", {"wave": wave, "query": query, "found": found})


@never_cache
@study_view(*PAPER_ROLES)
def paper_ask(request, slug, pk):
    interview = get_object_or_404(_case_query(request), pk=pk)
    interview.wave.study = request.study
    if interview.claimed_by_id and scheduler.holds(interview, interview.claimed_by):
        raise PermissionDenied("An interviewer is working this case by telephone right now.")
    base_url = reverse("fieldwork:paper_ask", args=[slug, pk])
    return _run(
        request,
        interview,
        mode=Mode.PAPER,
        base_url=base_url,
        template="fieldwork/ask.html",
        extra={
            "paper": True,
            "case_url": reverse("fieldwork:paper", args=[slug, interview.wave.number]),
            "done_url": reverse("fieldwork:paper", args=[slug, interview.wave.number]),
        },
    )


# --------------------------------------------------------------------------- web


@never_cache
def respond(request, token):
    interview = (
        Interview.objects.select_related("wave__instrument_version__instrument", "wave__study")
        .defer(*(f"wave__instrument_version__{name}" for name in actions.BULKY_VERSION_FIELDS))
        .filter(web_token=token)
        .first()
    )
    if interview is None or Mode.WEB not in (interview.wave.modes or []):
        raise Http404("This link is not valid.")
    if interview.claimed_by_id and scheduler.holds(interview, interview.claimed_by):
        return render(request, "fieldwork/respond_busy.html", {"wave": interview.wave})
    base_url = reverse("fieldwork_public:respond", args=[token])
    return _run(
        request,
        interview,
        mode=Mode.WEB,
        base_url=base_url,
        template="fieldwork/respond.html",
        extra={"public": True, "simulated": interview.is_simulated},
    )


# Reached without an account, through the respondent's unguessable token only.
respond.public = True


# --------------------------------------------------------------------------- supervisor


@study_view(*SUPERVISOR_ROLES)
def dashboard(request, slug, number):
    wave = _wave(request, number)
    return render(
        request,
        "fieldwork/dashboard.html",
        {
            "wave": wave,
            "summary": queries.wave_summary(wave),
            "rates": queries.rates(wave),
            "progress": queries.progress(wave),
            "appointments": queries.todays_appointments(wave),
            "maxed": queries.at_max_attempts(wave),
            "productivity": queries.productivity(wave),
        },
    )


@study_view(*SUPERVISOR_ROLES)
def exports(request, slug, number):
    wave = _wave(request, number)
    return render(request, "fieldwork/exports.html", {"wave": wave, "kinds": export_module.KINDS})


@study_view(*SUPERVISOR_ROLES)
def export_file(request, slug, number, kind):
    wave = _wave(request, number)
    if kind not in export_module.KINDS:
        raise Http404("No such export.")
    content, rows = export_module.build(wave, kind)
    actions.record_export(actor=request.user, wave=wave, kind=kind, rows=rows)
    spec = export_module.KINDS[kind]
    response = HttpResponse(content, content_type=spec["content_type"])
    name = f"{wave.study.slug}-wave{wave.number}-{kind}.{spec['extension']}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@study_view(Role.LEAD)
def respondents(request, slug, number):
    wave = _wave(request, number)
    problems = []
    form = RespondentsUploadForm()
    if request.method == "POST":
        form = RespondentsUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                problems = ["The file is not UTF-8 text (save it as CSV UTF-8)."]
            else:
                try:
                    count = actions.import_respondents(
                        actor=request.user, wave=wave, text=text, source=upload.name
                    )
                except actions.RespondentImportError as error:
                    problems = [p.describe() for p in error.problems]
                else:
                    messages.success(request, f"Imported {count} respondents into {wave}.")
                    return redirect("fieldwork:dashboard", slug=slug, number=number)
    return render(
        request,
        "fieldwork/respondents.html",
        {
            "wave": wave,
            "form": form,
            "problems": problems,
            "columns": actions.RESPONDENT_COLUMNS,
            "optional": actions.OPTIONAL_COLUMNS,
        },
        status=400 if problems else 200,
    )
