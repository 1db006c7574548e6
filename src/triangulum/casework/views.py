"""Case-study pages: sources and the coding reader, the codebook, retrieval and queries,
framework matrices and agreement between coders.

Who may do what (ADR 0015):
- lead, researcher, coder: read sources, code, query; coders change only their own codings.
- lead, researcher: add sources, edit the codebook, create matrices and write cell summaries,
  compare coders.
- viewer: reads the codebook and the framework matrices (summaries and counts), nothing else.
- interviewer: no case-study pages (they collect data; analysis is kept from them).

Every POST goes through an action (``casework.actions`` or ``casework.framework``).
Offsets arrive from the browser in UTF-16 code units and are converted here, with
``casework.textoffsets``, to code points of the canonical text.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from triangulum.studies.models import Role, StudyMembership
from triangulum.studies.permissions import study_view

from . import actions, framework, queries
from .forms import (
    AgreementForm,
    CellForm,
    CodeForm,
    CodeSetForm,
    CombinationForm,
    MatrixForm,
    MatrixQueryForm,
    MemoForm,
    RetrievalForm,
    RqMatricesForm,
    SearchForm,
    SourceFilterForm,
    SourceFromTextForm,
    SourceUploadForm,
    code_choices,
)
from .models import Case, Code, Coding, FrameworkMatrix, Memo, Source
from .textoffsets import OffsetError, utf16_length, utf16_to_codepoint

CODING_ROLES = (Role.LEAD, Role.RESEARCHER, Role.CODER)
ANALYST_ROLES = (Role.LEAD, Role.RESEARCHER)
READ_SUMMARY_ROLES = (Role.LEAD, Role.RESEARCHER, Role.CODER, Role.VIEWER)

# Codes without a colour of their own get one of these (each dark enough for a bar
# beside white, and always shown with the code's name: colour is never the only signal).
DEFAULT_COLOURS = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#ff7f0e",
]
EXCERPT_LENGTH = 60

# The errors actions raise for bad input: shown to the user, nothing stored.
ACTION_ERRORS = (ValueError, ValidationError)


def _may_analyse(request) -> bool:
    return request.membership.role in ANALYST_ROLES


def code_colour(code: Code) -> str:
    return code.colour or DEFAULT_COLOURS[code.pk % len(DEFAULT_COLOURS)]


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return getattr(error, "message", None) or str(error)


def _get_source(request, source_id) -> Source:
    return get_object_or_404(Source, pk=source_id, study=request.study)


def _get_coding(request, coding_id) -> Coding:
    coding = get_object_or_404(
        Coding.objects.select_related("source", "code", "coder"),
        pk=coding_id,
        source__study=request.study,
    )
    if coding.pk not in {c.pk for c in queries.visible_codings(coding.source, request.user)}:
        raise Http404("No such coding.")
    return coding


def _coders(study):
    return [
        membership.user
        for membership in StudyMembership.objects.filter(study=study, role__in=CODING_ROLES)
        .select_related("user")
        .order_by("user__username")
    ]


# --- sources -----------------------------------------------------------------------------


@study_view(*CODING_ROLES)
def source_list(request, slug):
    study = request.study
    form = SourceFilterForm(request.GET or None, study=study)
    sources = Source.objects.filter(study=study).select_related("site", "phase")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["kind"]:
            sources = sources.filter(kind=data["kind"])
        if data["site"]:
            sources = sources.filter(site_id=data["site"])
        if data["phase"]:
            sources = sources.filter(phase_id=data["phase"])
        if data["q"]:
            sources = sources.filter(title__icontains=data["q"])
    sources = list(sources.order_by("title", "id"))
    counts = {}
    for source_id in Coding.objects.filter(source__in=sources).values_list("source_id", flat=True):
        counts[source_id] = counts.get(source_id, 0) + 1
    for source in sources:
        source.coding_count = counts.get(source.pk, 0)
    return render(
        request,
        "casework/source_list.html",
        {"sources": sources, "form": form, "may_add": _may_analyse(request)},
    )


def _create_source(request, form, *, upload: bool) -> Source:
    data = form.cleaned_data
    common = {
        "study": request.study,
        "kind": data["kind"],
        "actor": request.user,
        "site": form.site,
        "phase": data["phase"],
    }
    if upload:
        file = data["file"]
        return actions.import_source(
            file_name=file.name, data=file.read(), title=data["title"] or None, **common
        )
    return actions.create_source_from_text(title=data["title"], text=data["text"], **common)


@study_view(*ANALYST_ROLES)
def add_source(request, slug):
    study = request.study
    text_form = SourceFromTextForm(study=study, prefix="text")
    upload_form = SourceUploadForm(study=study, prefix="upload")
    status = 200
    if request.method == "POST":
        upload = "upload-kind" in request.POST
        form = (
            SourceUploadForm(request.POST, request.FILES, study=study, prefix="upload")
            if upload
            else SourceFromTextForm(request.POST, study=study, prefix="text")
        )
        if upload:
            upload_form = form
        else:
            text_form = form
        if form.is_valid():
            try:
                source = _create_source(request, form, upload=upload)
            except ACTION_ERRORS as error:
                form.add_error(None, _error_text(error))
            else:
                messages.success(
                    request, f"Added '{source.title}' with {source.turns.count()} speaker turns."
                )
                return redirect("casework:reader", slug=study.slug, source_id=source.pk)
        status = 400
    return render(
        request,
        "casework/add_source.html",
        {"text_form": text_form, "upload_form": upload_form},
        status=status,
    )


# --- the reader: text in blocks, codings in the margin ------------------------------------


@dataclass
class Piece:
    text: str
    coding_ids: list[int]


@dataclass
class Block:
    start: int
    end: int
    start16: int
    turn: object | None
    pieces: list[Piece] = field(default_factory=list)
    margin: list = field(default_factory=list)


def _block_spans(text: str, turns) -> list[tuple[int, int, object | None]]:
    """The text cut into turns and the stretches between them, without edge whitespace."""
    spans = []
    at = 0
    for turn in sorted(turns, key=lambda t: t.start):
        if turn.start > at:
            spans.append((at, turn.start, None))
        spans.append((max(turn.start, at), turn.end, turn))
        at = max(at, turn.end)
    if at < len(text):
        spans.append((at, len(text), None))
    trimmed = []
    for start, end, turn in spans:
        chunk = text[start:end]
        stripped = chunk.strip()
        if not stripped:
            continue
        lead = len(chunk) - len(chunk.lstrip())
        trimmed.append((start + lead, start + lead + len(stripped), turn))
    return trimmed


def text_blocks(text: str, turns, codings) -> list[Block]:
    """Blocks of text, each cut into pieces by the codings that cover them.

    Each block carries its start in UTF-16 code units: the browser measures a selection
    inside one block and adds that, so offsets stay exact whatever the page shows around
    the text (speaker details, the margin).
    """
    codings = sorted(codings, key=lambda c: (c.start, c.end, c.pk))
    blocks: list[Block] = []
    at16, at = 0, 0
    placed: set[int] = set()
    for start, end, turn in _block_spans(text, turns):
        at16 += utf16_length(text[at:start])
        block = Block(start=start, end=end, start16=at16, turn=turn)
        inside = [c for c in codings if c.start < end and c.end > start]
        cuts = sorted(
            {start, end}
            | {c.start for c in inside if start < c.start < end}
            | {c.end for c in inside if start < c.end < end}
        )
        for left, right in zip(cuts, cuts[1:], strict=False):
            covering = [c.pk for c in inside if c.start < right and c.end > left]
            block.pieces.append(Piece(text=text[left:right], coding_ids=covering))
        for coding in inside:
            if coding.pk not in placed:
                placed.add(coding.pk)
                block.margin.append(coding)
        blocks.append(block)
        at = start
    # A coding that lies wholly in trimmed whitespace still needs a place in the margin.
    stray = [c for c in codings if c.pk not in placed]
    if stray and blocks:
        blocks[-1].margin.extend(stray)
    return blocks


def _reader_context(request, source: Source, *, status_message: str = "", error: str = ""):
    show = request.GET.get("show") or request.POST.get("show") or "all"
    codings = [
        coding
        for coding in queries.visible_codings(source, request.user)
        if show != "mine" or coding.coder_id == request.user.pk
    ]
    by_id = {}
    for coding in Coding.objects.filter(pk__in=[c.pk for c in codings]).select_related(
        "code", "coder"
    ):
        coding.colour = code_colour(coding.code)
        coding.excerpt = excerpt(source.text[coding.start : coding.end])
        coding.is_own = coding.coder_id == request.user.pk
        coding.memo_list = []
        by_id[coding.pk] = coding
    for memo in Memo.objects.filter(coding_id__in=by_id).order_by("created_at"):
        by_id[memo.coding_id].memo_list.append(memo)
    turns = list(source.turns.select_related("participant").order_by("index"))
    blocks = text_blocks(source.text, turns, by_id.values())
    codes = [
        {"id": code.pk, "name": code.name, "path": path, "colour": code_colour(code)}
        for code, path in _code_paths(request.study)
    ]
    return {
        "source": source,
        "blocks": blocks,
        "codings": sorted(by_id.values(), key=lambda c: (c.start, c.end, c.pk)),
        "palette_codes": codes,
        "show": show,
        "status_message": status_message,
        "error": error,
        "source_memos": source.memos.order_by("-updated_at"),
        "memo_form": MemoForm(),
        "cases": source.cases.all(),
        "blind": source.reliability_assignments.filter(blind=True, coders=request.user).exists(),
        "nudges": NUDGES,
        "at": _int_or_none(request.GET.get("at")),
        "may_link_cases": _may_analyse(request),
        "case_kinds": Case.Kind.choices,
        "all_cases": Case.objects.filter(study=request.study).order_by("name"),
    }


NUDGES = [
    ("start", "-1", "Start one word earlier"),
    ("start", "1", "Start one word later"),
    ("end", "-1", "End one word earlier"),
    ("end", "1", "End one word later"),
]


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _code_paths(study):
    codes = {code.pk: code for code in Code.objects.filter(study=study, is_active=True)}
    result = []
    for code in codes.values():
        parts, current, seen = [code.name], code, {code.pk}
        while current.parent_id in codes and current.parent_id not in seen:
            current = codes[current.parent_id]
            seen.add(current.pk)
            parts.append(current.name)
        result.append((code, " › ".join(reversed(parts))))
    return sorted(result, key=lambda pair: pair[1].casefold())


@study_view(*CODING_ROLES)
def source_reader(request, slug, source_id):
    source = _get_source(request, source_id)
    context = _reader_context(request, source)
    if request.htmx and request.GET.get("partial") == "body":
        return render(request, "casework/_reader_body.html", context)
    return render(request, "casework/reader.html", context)


def _reader_response(request, source, *, message: str = "", error: str = "", status=200):
    context = _reader_context(request, source, status_message=message, error=error)
    if request.htmx:
        # htmx swaps only successful responses, so an error is sent as 200 in the body.
        return render(request, "casework/_reader_body.html", context)
    if error:
        messages.error(request, error)
    elif message:
        messages.success(request, message)
    url = reverse("casework:reader", args=[request.study.slug, source.pk])
    if context["show"] == "mine":
        url += "?show=mine"
    return redirect(url)


def _selection(request, source: Source) -> tuple[int, int]:
    """The selection's [start, end) in code points, from UTF-16 offsets, edge spaces dropped."""
    try:
        start16 = int(request.POST.get("start16", ""))
        end16 = int(request.POST.get("end16", ""))
    except ValueError:
        raise OffsetError("Select some text first (no selection was sent).") from None
    if end16 < start16:
        start16, end16 = end16, start16
    start = utf16_to_codepoint(source.text, start16)
    end = utf16_to_codepoint(source.text, end16)
    while start < end and source.text[start].isspace():
        start += 1
    while end > start and source.text[end - 1].isspace():
        end -= 1
    if start >= end:
        raise OffsetError("Select some text first: the selection is empty.")
    return start, end


@study_view(*CODING_ROLES)
@require_POST
def apply_codings(request, slug, source_id):
    source = _get_source(request, source_id)
    code_ids = request.POST.getlist("code")
    codes = list(Code.objects.filter(study=request.study, is_active=True, pk__in=code_ids))
    if not codes or len(codes) != len(set(code_ids)):
        return _reader_response(request, source, error="Choose one or more codes to apply.")
    try:
        start, end = _selection(request, source)
        with transaction.atomic():
            for code in codes:
                actions.apply_coding(
                    source=source,
                    code=code,
                    start=start,
                    end=end,
                    coder=request.user,
                    actor=request.user,
                )
    except ACTION_ERRORS as error:
        return _reader_response(request, source, error=f"Not coded: {_error_text(error)}")
    names = ", ".join(code.name for code in codes)
    return _reader_response(
        request, source, message=f"Coded '{names}' on '{excerpt(source.text[start:end], 40)}'"
    )


def _own_coding(request, coding_id) -> Coding:
    coding = _get_coding(request, coding_id)
    if coding.coder_id != request.user.pk:
        raise PermissionDenied("You may change only your own codings.")
    return coding


@study_view(*CODING_ROLES)
@require_POST
def adjust_coding(request, slug, coding_id):
    coding = _own_coding(request, coding_id)
    source = coding.source
    try:
        start, end = _selection(request, source)
        actions.adjust_coding(coding=coding, start=start, end=end, actor=request.user)
    except ACTION_ERRORS as error:
        return _reader_response(request, source, error=f"Not adjusted: {_error_text(error)}")
    return _reader_response(
        request,
        source,
        message=f"Adjusted '{coding.code.name}' to '{excerpt(source.text[start:end], 40)}'",
    )


_WORD = re.compile(r"\w+")


def nudged_span(text: str, start: int, end: int, edge: str, direction: int) -> tuple[int, int]:
    """Move one edge of ``[start, end)`` to the next word boundary in ``direction``."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if edge == "start":
        starts = [s for s, _ in words]
        if direction > 0:
            candidates = [s for s in starts if s > start]
            start = candidates[0] if candidates else start
        else:
            candidates = [s for s in starts if s < start]
            start = candidates[-1] if candidates else 0
    else:
        ends = [e for _, e in words]
        if direction > 0:
            candidates = [e for e in ends if e > end]
            end = candidates[0] if candidates else len(text)
        else:
            candidates = [e for e in ends if e < end]
            end = candidates[-1] if candidates else end
    return start, end


@study_view(*CODING_ROLES)
@require_POST
def nudge_coding(request, slug, coding_id):
    coding = _own_coding(request, coding_id)
    source = coding.source
    edge = request.POST.get("edge")
    direction = request.POST.get("direction")
    if edge not in {"start", "end"} or direction not in {"-1", "1"}:
        return _reader_response(request, source, error="Unknown nudge: give an edge and a way.")
    start, end = nudged_span(source.text, coding.start, coding.end, edge, int(direction))
    if start >= end:
        return _reader_response(request, source, error="Not adjusted: the segment would be empty.")
    try:
        actions.adjust_coding(coding=coding, start=start, end=end, actor=request.user)
    except ACTION_ERRORS as error:
        return _reader_response(request, source, error=f"Not adjusted: {_error_text(error)}")
    return _reader_response(
        request,
        source,
        message=f"'{coding.code.name}' now covers '{excerpt(source.text[start:end], 40)}'",
    )


@study_view(*CODING_ROLES)
@require_POST
def delete_coding(request, slug, coding_id):
    coding = _own_coding(request, coding_id)
    source, name = coding.source, coding.code.name
    text = excerpt(source.text[coding.start : coding.end], 40)
    try:
        actions.delete_coding(coding=coding, actor=request.user)
    except ACTION_ERRORS as error:
        return _reader_response(request, source, error=f"Not deleted: {_error_text(error)}")
    return _reader_response(request, source, message=f"Removed '{name}' from '{text}'")


MEMO_TARGETS = ("source", "code", "coding", "case")


@study_view(*CODING_ROLES)
@require_POST
def add_memo(request, slug):
    study = request.study
    target = request.POST.get("target")
    target_id = request.POST.get("target_id")
    if target not in MEMO_TARGETS:
        raise Http404("Unknown memo target.")
    if target == "source":
        obj = _get_source(request, target_id)
        back = reverse("casework:reader", args=[study.slug, obj.pk])
    elif target == "coding":
        obj = _get_coding(request, target_id)
        back = reverse("casework:reader", args=[study.slug, obj.source_id])
    elif target == "code":
        obj = get_object_or_404(Code, pk=target_id, study=study)
        back = reverse("casework:codebook", args=[study.slug]) + f"#code-{obj.pk}"
    else:
        obj = get_object_or_404(Case, pk=target_id, study=study)
        back = reverse("casework:case", args=[study.slug, obj.pk])
    form = MemoForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A memo needs some text.")
        return redirect(back)
    try:
        actions.add_memo(
            study=study,
            text=form.cleaned_data["text"],
            title=form.cleaned_data["title"],
            author=request.user,
            **{target: obj},
        )
    except ACTION_ERRORS as error:
        messages.error(request, f"Memo not saved: {_error_text(error)}")
        return redirect(back)
    if request.htmx and target in {"source", "coding"}:
        source = obj if target == "source" else obj.source
        return _reader_response(request, source, message=f"Memo saved on the {target}.")
    messages.success(request, f"Memo saved on the {target}.")
    return redirect(back)


@study_view(*ANALYST_ROLES)
@require_POST
def link_case(request, slug, source_id):
    study = request.study
    source = _get_source(request, source_id)
    back = reverse("casework:reader", args=[study.slug, source.pk])
    kind = request.POST.get("kind", "")
    name = request.POST.get("name", "")
    try:
        with transaction.atomic():
            extra = {}
            if kind == Case.Kind.SITE and source.site_id:
                extra["organisation"] = source.site
            case = actions.ensure_case(
                study=study, kind=kind, name=name, actor=request.user, **extra
            )
            actions.attach_sources_to_case(case=case, sources=[source], actor=request.user)
    except ACTION_ERRORS as error:
        messages.error(request, f"Not linked: {_error_text(error)}")
    else:
        messages.success(request, f"Linked this source to the case '{case.name}'.")
    return redirect(back)


@study_view(*CODING_ROLES)
def case_detail(request, slug, case_id):
    case = get_object_or_404(Case, pk=case_id, study=request.study)
    return render(
        request,
        "casework/case.html",
        {
            "case": case,
            "sources": case.sources.order_by("title"),
            "memos": case.memos.order_by("-updated_at"),
            "memo_form": MemoForm(),
        },
    )


# --- codebook ----------------------------------------------------------------------------


def _code_tree(study):
    codes = list(
        Code.objects.filter(study=study)
        .prefetch_related("research_questions")
        .order_by("order", "name")
    )
    counts = {}
    for code_id in Coding.objects.filter(code__study=study).values_list("code_id", flat=True):
        counts[code_id] = counts.get(code_id, 0) + 1
    children: dict[int | None, list[Code]] = {}
    for code in codes:
        code.colour_shown = code_colour(code)
        code.coding_count = counts.get(code.pk, 0)
        children.setdefault(code.parent_id, []).append(code)
    for code in codes:
        code.child_list = children.get(code.pk, [])
    return children.get(None, [])


@study_view(*READ_SUMMARY_ROLES)
def codebook(request, slug):
    study = request.study
    version = actions.current_codebook_version(study)
    return render(
        request,
        "casework/codebook.html",
        {
            "roots": _code_tree(study),
            "version": version,
            "may_edit": _may_analyse(request),
            "memo_form": MemoForm(),
            "may_memo": request.membership.role in CODING_ROLES,
        },
    )


@study_view(*ANALYST_ROLES)
def code_create(request, slug):
    study = request.study
    # A colour input always sends a colour; offer the next of the default set, not black.
    initial = {"colour": DEFAULT_COLOURS[Code.objects.filter(study=study).count() % 10]}
    form = CodeForm(request.POST or None, study=study, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            code = actions.create_code(
                study=study,
                name=data["name"],
                actor=request.user,
                parent=data["parent"],
                definition=data["definition"],
                inclusion=data["inclusion"],
                exclusion=data["exclusion"],
                example=data["example"],
                colour=data["colour"],
                research_questions=data["research_questions"],
            )
        except ACTION_ERRORS as error:
            form.add_action_error(error)
        else:
            messages.success(request, f"Added the code '{code.name}'.")
            return redirect(reverse("casework:codebook", args=[study.slug]) + f"#code-{code.pk}")
    return render(
        request,
        "casework/code_form.html",
        {"form": form, "code": None},
        status=400 if form.errors else 200,
    )


@study_view(*ANALYST_ROLES)
def code_edit(request, slug, code_id):
    study = request.study
    code = get_object_or_404(Code, pk=code_id, study=study, is_active=True)
    initial = {
        "name": code.name,
        "parent": str(code.parent_id or ""),
        "definition": code.definition,
        "inclusion": code.inclusion,
        "exclusion": code.exclusion,
        "example": code.example,
        "colour": code.colour,
        "research_questions": [str(q.pk) for q in code.research_questions.all()],
    }
    form = CodeForm(request.POST or None, study=study, exclude_code=code, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                actions.update_code(
                    code=code,
                    actor=request.user,
                    research_questions=data["research_questions"],
                    **{name: data[name] for name in ("name", *actions.CODE_FIELDS)},
                )
                if data["parent"] != code.parent:
                    actions.move_code(code=code, parent=data["parent"], actor=request.user)
        except ACTION_ERRORS as error:
            form.add_action_error(error)
        else:
            messages.success(request, f"Saved the code '{data['name']}'.")
            return redirect(reverse("casework:codebook", args=[study.slug]) + f"#code-{code.pk}")
    merge_targets = [(pk, label) for pk, label in code_choices(study) if pk != str(code.pk)]
    return render(
        request,
        "casework/code_form.html",
        {"form": form, "code": code, "merge_targets": merge_targets},
        status=400 if form.errors else 200,
    )


@study_view(*ANALYST_ROLES)
@require_POST
def code_merge(request, slug, code_id):
    study = request.study
    code = get_object_or_404(Code, pk=code_id, study=study, is_active=True)
    target = Code.objects.filter(study=study, pk=request.POST.get("target")).first()
    if target is None:
        messages.error(request, "Choose the code to merge into.")
        return redirect("casework:code_edit", slug=study.slug, code_id=code.pk)
    try:
        actions.merge_codes(source_code=code, target_code=target, actor=request.user)
    except ACTION_ERRORS as error:
        messages.error(request, f"Not merged: {_error_text(error)}")
        return redirect("casework:code_edit", slug=study.slug, code_id=code.pk)
    messages.success(request, f"Merged '{code.name}' into '{target.name}', with its codings.")
    return redirect(reverse("casework:codebook", args=[study.slug]) + f"#code-{target.pk}")


@study_view(*ANALYST_ROLES)
@require_POST
def code_split(request, slug, code_id):
    """Split a code into named sub-codes; its codings stay with it to be recoded."""
    study = request.study
    code = get_object_or_404(Code, pk=code_id, study=study, is_active=True)
    names = [line.strip() for line in request.POST.get("names", "").splitlines() if line.strip()]
    if not names:
        messages.error(request, "Give the new sub-codes' names, one a line.")
        return redirect("casework:code_edit", slug=study.slug, code_id=code.pk)
    try:
        made = actions.split_code(
            code=code, parts=[actions.SplitPart(name=name) for name in names], actor=request.user
        )
    except ACTION_ERRORS as error:
        messages.error(request, f"Not split: {_error_text(error)}")
        return redirect("casework:code_edit", slug=study.slug, code_id=code.pk)
    messages.success(request, f"Split '{code.name}' into {', '.join(c.name for c in made)}.")
    return redirect(reverse("casework:codebook", args=[study.slug]) + f"#code-{code.pk}")


@study_view(*READ_SUMMARY_ROLES)
def codebook_export(request, slug, fmt):
    from .codebook.csvio import write_codebook_csv
    from .codebook.qdc import codebook_qdc_bytes

    study = request.study
    records = queries.codebook_records(study)
    if fmt == "csv":
        content = write_codebook_csv(records).encode("utf-8")
        media = "text/csv; charset=utf-8"
    elif fmt == "qdc":
        content = codebook_qdc_bytes(records, name=f"{study} codebook")
        media = "application/xml"
    else:
        raise Http404("Unknown codebook format: use csv or qdc.")
    response = HttpResponse(content, content_type=media)
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-codebook.{fmt}"'
    return response


# --- retrieval and queries ---------------------------------------------------------------


def _segment_rows(request, segments) -> list[dict]:
    """``queries.Segment`` records ready to show: colour, link to the text."""
    segments = list(segments)
    colours = {
        code.pk: code_colour(code)
        for code in Code.objects.filter(pk__in={s.code_id for s in segments})
    }
    slug = request.study.slug
    return [
        {
            "segment": segment,
            "colour": colours.get(segment.code_id, DEFAULT_COLOURS[0]),
            "url": reverse("casework:reader", args=[slug, segment.source_id])
            + f"#coding-{segment.coding_id}",
        }
        for segment in segments
    ]


def _coder_by_id(study, value):
    return next((user for user in _coders(study) if str(user.pk) == str(value)), None)


# Segments a retrieval page shows at once; all of them are in its CSV download.
RETRIEVAL_PAGE_SIZE = 50
SEGMENT_CSV_COLUMNS = (
    "source",
    "cases",
    "speakers",
    "start",
    "end",
    "code",
    "coder",
    "text",
)


def _requested_page(value: str | None) -> tuple[int, str]:
    """The 1-based page asked for in ``?page=``, and a notice when it is not a page number
    (the first page is shown instead)."""
    if value is None or value == "":
        return 1, ""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        shown = value if len(value) <= 20 else value[:19] + "…"
        return 1, f"“{shown}” is not a page number (1, 2, 3 …): showing the first page."
    return number, ""


def _query_url(request, **changes) -> str:
    """This page's address with ``changes`` to its query (None removes a parameter), the
    other parameters (the form's filters) kept as they came."""
    query = request.GET.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = str(value)
    return request.path + "?" + query.urlencode()


def _pager(request, found: queries.SegmentPage, number: int, pages: int) -> dict:
    """What the page says about where it is, and its links to the other pages."""

    def link(to: int) -> str | None:
        return _query_url(request, page=to, format=None) if to != number else None

    return {
        "number": number,
        "pages": pages,
        "first_index": f"{found.offset + 1:,}",
        "last_index": f"{found.offset + len(found.segments):,}",
        "total": f"{found.total:,}",
        "first_url": link(1),
        "previous_url": link(number - 1) if number > 1 else None,
        "next_url": link(number + 1) if number < pages else None,
        "last_url": link(pages),
        "csv_url": _query_url(request, page=None, format="csv"),
    }


def _segments_csv(study, code: Code, segments) -> HttpResponse:
    """All the segments of a retrieval as CSV, one row each, in the page's order. Rows from
    a simulated source or coding say so in a last column, ``data``."""
    simulated_sources = set(
        Source.objects.filter(
            study=study, is_simulated=True, pk__in={s.source_id for s in segments}
        ).values_list("id", flat=True)
    )
    simulated_codings = set(
        # (The codes are the study's, so their codings are too: no join with the sources.)
        Coding.objects.filter(
            code_id__in={s.code_id for s in segments}, is_simulated=True
        ).values_list("id", flat=True)
    )
    any_simulated = bool(simulated_sources or simulated_codings)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*SEGMENT_CSV_COLUMNS, *(("data",) if any_simulated else ())])
    for segment in segments:
        row = [
            segment.source_title,
            "; ".join(f"{case.name} ({case.kind})" for case in segment.cases),
            "; ".join(segment.speakers),
            segment.start,
            segment.end,
            segment.code_name,
            segment.coder_name,
            segment.text,
        ]
        if any_simulated:
            simulated = (
                segment.source_id in simulated_sources or segment.coding_id in simulated_codings
            )
            row.append("simulated" if simulated else "")
        writer.writerow(row)
    response = HttpResponse(
        buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    name = slugify(code.name)[:60] or f"code-{code.pk}"
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-segments-{name}.csv"'
    return response


@study_view(*CODING_ROLES)
def retrieval(request, slug):
    """Segments coded with a code, a page of RETRIEVAL_PAGE_SIZE at a time (``?page=``,
    from 1), or all of them as CSV (``?format=csv``); blind mode applies to both."""
    study = request.study
    form = RetrievalForm(request.GET or None, study=study, coders=_coders(study))
    context = {"form": form, "rows": None, "code": None, "pager": None, "page_notice": ""}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        code = get_object_or_404(Code, pk=data["code"], study=study)
        filters = form.case_filters()
        if "phase" in filters:
            filters["phase"] = get_object_or_404(study.phases, pk=filters["phase"])
        query = {
            "include_subcodes": data["include_subcodes"],
            "case_filters": filters or None,
            "coder": _coder_by_id(study, data["coder"]) if data["coder"] else None,
            "visible_to": request.user,
        }
        try:
            if request.GET.get("format") == "csv":
                segments = queries.segments_for_code(study, code, limit=None, **query)
                return _segments_csv(study, code, segments)
            number, notice = _requested_page(request.GET.get("page"))
            size = RETRIEVAL_PAGE_SIZE
            found = queries.segment_page(
                study, code, limit=size, offset=(number - 1) * size, **query
            )
            pages = max(1, -(-found.total // size))
            if number > pages:
                notice = (
                    f"There {'is' if pages == 1 else 'are'} only {pages} "
                    f"page{'' if pages == 1 else 's'} of segments: showing the last."
                )
                number = pages
                found = queries.segment_page(
                    study, code, limit=size, offset=(number - 1) * size, **query
                )
        except ACTION_ERRORS as error:
            form.add_error(None, _error_text(error))
        else:
            context.update(
                rows=_segment_rows(request, found.segments),
                code=code,
                total=found.total,
                pager=_pager(request, found, number, pages),
                page_notice=notice,
                list_start=found.offset + 1,
            )
    return render(request, "casework/retrieval.html", context)


@study_view(*CODING_ROLES)
def search(request, slug):
    form = SearchForm(request.GET or None)
    hits = None
    if form.is_bound and form.is_valid():
        hits = []
        for hit in queries.search_text(request.study, form.cleaned_data["q"]):
            inside = hit.start - hit.snippet_start
            length = hit.end - hit.start
            hits.append(
                {
                    "hit": hit,
                    "before": hit.snippet[:inside],
                    "match": hit.snippet[inside : inside + length],
                    "after": hit.snippet[inside + length :],
                    "url": reverse("casework:reader", args=[request.study.slug, hit.source_id])
                    + f"?at={hit.start}#at",
                }
            )
    return render(request, "casework/search.html", {"form": form, "hits": hits})


@study_view(*CODING_ROLES)
def combinations(request, slug):
    study = request.study
    form = CombinationForm(request.GET or None, study=study)
    rows = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        code_a = get_object_or_404(Code, pk=data["code_a"], study=study)
        code_b = get_object_or_404(Code, pk=data["code_b"], study=study)
        operator, _, unit = data["operator"].partition("_")
        try:
            segments = queries.combine_codes(
                study,
                code_a,
                code_b,
                operator,
                within=data["distance"] or 0,
                unit=unit or "characters",
                visible_to=request.user,
            )
        except ACTION_ERRORS as error:
            form.add_error(None, _error_text(error))
        else:
            rows = _segment_rows(request, segments)
    return render(request, "casework/combinations.html", {"form": form, "rows": rows})


@study_view(*CODING_ROLES)
def matrix_query(request, slug):
    study = request.study
    form = MatrixQueryForm(request.GET or None, study=study)
    table = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            result = queries.matrix_coding(
                study,
                data["codes"],
                data["rows"],
                case_kind=data["case_kind"] or None,
                attribute=data["attribute"] or None,
                count=data["count"],
                visible_to=request.user,
            )
        except ACTION_ERRORS as error:
            form.add_error(None, _error_text(error))
        else:
            table = {
                "columns": result.columns,
                "count": result.count,
                "rows": [
                    {
                        "label": row.label,
                        "cells": [
                            {
                                "code": code,
                                "count": result.cell(row.key, code).count,
                                "url": _segments_url(
                                    study,
                                    result.cell(row.key, code).coding_ids,
                                    f"{row.label} × {code.name}",
                                ),
                            }
                            for code in result.columns
                        ],
                    }
                    for row in result.rows
                ],
            }
    return render(request, "casework/matrix_query.html", {"form": form, "table": table})


def _segments_url(study, coding_ids, label: str) -> str:
    query = urlencode({"ids": ",".join(map(str, coding_ids)), "label": label})
    return reverse("casework:segments", args=[study.slug]) + "?" + query


@study_view(*CODING_ROLES)
def segments(request, slug):
    """The segments behind a query cell (coding ids in ?ids=), limited to those visible."""
    try:
        ids = [int(value) for value in request.GET.get("ids", "").split(",") if value][:2000]
    except ValueError:
        raise Http404("Bad segment list.") from None
    found = queries.segments_by_ids(request.study, ids, visible_to=request.user)
    context = {"rows": _segment_rows(request, found), "heading": request.GET.get("label", "")}
    if request.htmx:
        return render(request, "casework/_segments.html", context)
    return render(request, "casework/segments.html", context)


@study_view(*CODING_ROLES)
def cooccurrence(request, slug):
    study = request.study
    form = CodeSetForm(request.GET or None, study=study)
    table = None
    if form.is_bound and form.is_valid():
        result = queries.cooccurrence(study, form.cleaned_data["codes"], visible_to=request.user)
        table = {
            "codes": result.codes,
            "warnings": result.warnings,
            "rows": [
                {
                    "code": a,
                    "frequency": result.frequencies.get(a.pk, 0),
                    "cells": [
                        {"same": a.pk == b.pk, "pair": result.pair(a, b)} for b in result.codes
                    ],
                }
                for a in result.codes
            ],
        }
    return render(request, "casework/cooccurrence.html", {"form": form, "table": table})


# --- framework matrices ------------------------------------------------------------------


@study_view(*READ_SUMMARY_ROLES)
def framework_list(request, slug):
    study = request.study
    may_edit = _may_analyse(request)
    form = MatrixForm(study=study) if may_edit else None
    rq_form = RqMatricesForm(prefix="rq") if may_edit else None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Only the lead and researchers may create matrices.")
        if request.POST.get("what") == "rq":
            rq_form = RqMatricesForm(request.POST, prefix="rq")
            if rq_form.is_valid():
                made = framework.create_rq_matrices(
                    study=study, case_kind=rq_form.cleaned_data["case_kind"], actor=request.user
                )
                messages.success(
                    request,
                    f"Created {len(made)} matrices."
                    if made
                    else "No new matrices: each RQ with codes has one already.",
                )
                return redirect("casework:frameworks", slug=study.slug)
        else:
            form = MatrixForm(request.POST, study=study)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    matrix = framework.create_matrix(
                        study=study,
                        name=data["name"],
                        research_question=data["research_question"],
                        case_kind=data["case_kind"],
                        codes=data["codes"],
                        cases=Case.objects.filter(study=study, kind=data["case_kind"]),
                        actor=request.user,
                    )
                except framework.FrameworkError as error:
                    form.add_action_error(error)
                else:
                    messages.success(request, f"Created the matrix '{matrix.name}'.")
                    return redirect("casework:framework", slug=study.slug, matrix_id=matrix.pk)
    matrices = FrameworkMatrix.objects.filter(study=study).select_related("research_question")
    return render(
        request,
        "casework/framework_list.html",
        {"matrices": matrices, "form": form, "rq_form": rq_form},
        status=400 if form is not None and form.errors else 200,
    )


@study_view(*READ_SUMMARY_ROLES)
def framework_detail(request, slug, matrix_id):
    matrix = get_object_or_404(FrameworkMatrix, pk=matrix_id, study=request.study)
    export = request.GET.get("format")
    if export in {"xlsx", "docx"}:
        return _framework_export(matrix, export)
    may_read_segments = request.membership.role in CODING_ROLES
    return render(
        request,
        "casework/framework_detail.html",
        {
            "view": framework.matrix_view(
                matrix, visible_to=request.user if may_read_segments else None
            ),
            "matrix": matrix,
            "may_edit": _may_analyse(request),
            "may_read_segments": may_read_segments,
        },
    )


def _framework_export(matrix, export: str) -> HttpResponse:
    if export == "xlsx":
        content = framework.matrix_xlsx(matrix)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        content = framework.matrix_docx(matrix)
        media = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    response = HttpResponse(content, content_type=media)
    name = slugify(matrix.name)[:60] or f"matrix-{matrix.pk}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{export}"'
    return response


@study_view(*READ_SUMMARY_ROLES)
def framework_cell(request, slug, matrix_id, case_id, code_id):
    """One cell: its summary, and (for the analysis team) the segments it may rest on."""
    study = request.study
    matrix = get_object_or_404(FrameworkMatrix, pk=matrix_id, study=study)
    case = get_object_or_404(matrix.cases, pk=case_id)
    code = get_object_or_404(matrix.codes, pk=code_id)
    may_edit = _may_analyse(request)
    may_read_segments = request.membership.role in CODING_ROLES
    error = ""
    saved = False
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Only the lead and researchers may write cell summaries.")
        _, offered = framework.cell_candidates(matrix, case, code, visible_to=request.user)
        form = CellForm(
            request.POST, segment_choices=[item["segment"].coding_id for item in offered]
        )
        if form.is_valid():
            try:
                framework.set_cell_summary(
                    matrix=matrix,
                    case=case,
                    code=code,
                    summary=form.cleaned_data["summary"],
                    segment_ids=[int(v) for v in form.cleaned_data["segments"]],
                    actor=request.user,
                )
            except framework.FrameworkError as failure:
                error = failure.message
            else:
                saved = True
        else:
            error = " ".join(e for errors in form.errors.values() for e in errors)
        if not request.htmx:
            if error:
                messages.error(request, error)
            else:
                messages.success(request, f"Saved the summary for {case} × {code}.")
            return redirect(
                reverse("casework:framework_cell", args=[study.slug, matrix.pk, case.pk, code.pk])
            )
    cell, candidates = framework.cell_candidates(
        matrix, case, code, visible_to=request.user if may_read_segments else None
    )
    rows = _segment_rows(request, [item["segment"] for item in candidates])
    for row, item in zip(rows, candidates, strict=True):
        row["is_linked"] = item["is_linked"]
    context = {
        "matrix": matrix,
        "case": case,
        "code": code,
        "cell": cell,
        "rows": rows if may_read_segments else [],
        "linked_count": sum(1 for item in candidates if item["is_linked"]),
        "may_edit": may_edit,
        "may_read_segments": may_read_segments,
        "error": error,
        "saved": saved,
    }
    if request.htmx:
        return render(request, "casework/_framework_cell.html", context)
    return render(request, "casework/framework_cell.html", context)


# --- agreement ---------------------------------------------------------------------------


@study_view(*ANALYST_ROLES)
def agreement(request, slug):
    study = request.study
    coders = _coders(study)
    form = AgreementForm(request.GET or None, study=study, coders=coders)
    report = None
    chosen = []
    if form.is_bound and form.is_valid():
        chosen = [u for u in coders if str(u.pk) in form.cleaned_data["coders"]]
        codes = list(Code.objects.filter(study=study, pk__in=form.cleaned_data["codes"])) or None
        try:
            report = queries.agreement_for_study(study, chosen, codes=codes)
        except ACTION_ERRORS as error:
            form.add_error(None, _error_text(error))
    sources = (
        Source.objects.filter(study=study, pk__in=report.sources).order_by("title")
        if report
        else []
    )
    return render(
        request,
        "casework/agreement.html",
        {
            "form": form,
            "report": report,
            "labels": queries.CodeAgreement.LABELS,
            "chosen": chosen,
            "sources": sources,
            "coder_query": "&".join(f"coder={u.pk}" for u in chosen),
        },
    )


@study_view(*ANALYST_ROLES)
def agreement_differences(request, slug, source_id):
    """Where the chosen coders differ on one source, code by code, each linked to the text."""
    study = request.study
    source = _get_source(request, source_id)
    chosen = [u for u in _coders(study) if str(u.pk) in request.GET.getlist("coder")]
    if len(chosen) < 2:
        return render(
            request,
            "casework/agreement_differences.html",
            {"source": source, "error": "Pick two or more coders to see where they differ."},
            status=400,
        )
    names = {user.pk: user.get_username() for user in chosen}
    code_ids = set(
        Coding.objects.filter(source=source, coder__in=chosen).values_list("code_id", flat=True)
    )
    reader = reverse("casework:reader", args=[study.slug, source.pk])
    differences = []
    for code in Code.objects.filter(pk__in=code_ids).order_by("name"):
        for start, end, coded_by in queries.differences(source, chosen, code):
            differences.append(
                {
                    "code": code,
                    "colour": code_colour(code),
                    "start": start,
                    "end": end,
                    "coded_by": [names[pk] for pk in coded_by],
                    "not_by": [names[u.pk] for u in chosen if u.pk not in coded_by],
                    "text": excerpt(source.text[start:end], 160),
                    "url": f"{reader}?at={start}#at",
                }
            )
    return render(
        request,
        "casework/agreement_differences.html",
        {"source": source, "coders": chosen, "differences": differences},
    )
