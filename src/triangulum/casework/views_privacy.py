"""Pseudonymisation pages: the review queue, the key, anonymised sources and the export.

Who may do what (docs/adr/0016-pseudonymisation.md):
- lead, researcher: the review queue (each candidate shown in its context), scanning,
  accepting and rejecting, the anonymised export. Both already read the original
  transcripts in the coding reader, so the queue's context reveals nothing new to them.
- lead only: the key (originals beside their pseudonyms, across the study) and adding
  names to it by hand.
- lead, researcher, coder, viewer: anonymised sources (the form of the text that may be
  shared).
- interviewer: none (no case-study pages).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from triangulum.studies.models import Role
from triangulum.studies.permissions import study_view

from . import actions_privacy as privacy
from .models import Pseudonym, PseudonymCandidate, Source

REVIEW_ROLES = (Role.LEAD, Role.RESEARCHER)
KEY_ROLES = (Role.LEAD,)
READ_ROLES = (Role.LEAD, Role.RESEARCHER, Role.CODER, Role.VIEWER)
CONTEXT_CHARACTERS = 60
PAGE_SIZE = 50


def _context_of(candidate: PseudonymCandidate) -> dict:
    text = candidate.source.text
    before = text[max(0, candidate.start - CONTEXT_CHARACTERS) : candidate.start]
    after = text[candidate.end : candidate.end + CONTEXT_CHARACTERS]
    return {
        "before": before.split("\n")[-1],
        "match": text[candidate.start : candidate.end],
        "after": after.split("\n")[0],
    }


@study_view(*REVIEW_ROLES)
def review_queue(request, slug):
    study = request.study
    status = request.GET.get("status", PseudonymCandidate.Status.PENDING)
    if status not in PseudonymCandidate.Status.values:
        status = PseudonymCandidate.Status.PENDING
    kind = request.GET.get("kind", "")
    candidates = (
        PseudonymCandidate.objects.filter(source__study=study, status=status)
        .select_related("source", "pseudonym")
        .order_by("source__title", "source_id", "start")
    )
    if kind in Pseudonym.Kind.values:
        candidates = candidates.filter(kind=kind)
    page = Paginator(candidates, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"candidate": c, **_context_of(c)} for c in page.object_list]
    return render(
        request,
        "casework/privacy/queue.html",
        {
            "study": study,
            "membership": request.membership,
            "rows": rows,
            "page": page,
            "status": status,
            "kind": kind,
            "kinds": Pseudonym.Kind.choices,
            "statuses": PseudonymCandidate.Status.choices,
            "pending": privacy.pending_counts(study),
            "kind_labels": dict(Pseudonym.Kind.choices),
        },
    )


@study_view(*REVIEW_ROLES)
@require_POST
def scan(request, slug):
    result = privacy.scan_study(study=request.study, actor=request.user)
    messages.success(
        request,
        f"Scan finished: {result.added} new candidate(s), {result.removed} no longer found, "
        f"{result.kept} unchanged.",
    )
    return redirect("casework_privacy:queue", slug)


def _back(request, slug):
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("casework_privacy:queue", slug)


@study_view(*REVIEW_ROLES)
@require_POST
def decide(request, slug, candidate_id):
    candidate = get_object_or_404(PseudonymCandidate, pk=candidate_id, source__study=request.study)
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            replacement = (request.POST.get("replacement") or "").strip() or None
            candidate = privacy.accept_candidate(
                candidate=candidate, actor=request.user, replacement=replacement
            )
            messages.success(
                request, f"Accepted: it will read [{candidate.pseudonym.replacement}]."
            )
        elif decision == "reject":
            privacy.reject_candidate(candidate=candidate, actor=request.user)
            messages.success(request, "Rejected: the text stays as it is.")
        else:
            messages.error(request, "Choose accept or reject.")
    except privacy.PrivacyError as error:
        messages.error(
            request, f"Not saved: {error.message if hasattr(error, 'message') else error}"
        )
    return _back(request, slug)


@study_view(*REVIEW_ROLES)
@require_POST
def accept_kind(request, slug):
    kind = request.POST.get("kind", "")
    try:
        count = privacy.accept_all_of_kind(study=request.study, kind=kind, actor=request.user)
    except privacy.PrivacyError as error:
        messages.error(request, f"Not saved: {error}")
    else:
        label = dict(Pseudonym.Kind.choices).get(kind, kind)
        messages.success(request, f"Accepted {count} pending candidate(s) of kind {label}.")
    return redirect("casework_privacy:queue", slug)


@study_view(*KEY_ROLES)
def key(request, slug):
    rows = privacy.key_rows(request.study)
    return render(
        request,
        "casework/privacy/key.html",
        {
            "study": request.study,
            "membership": request.membership,
            "rows": rows,
            "groups": privacy.HAND_GROUPS,
            "kinds": Pseudonym.Kind.choices,
        },
    )


@study_view(*KEY_ROLES)
@require_POST
def add_identifier(request, slug):
    try:
        pseudonym = privacy.add_identifier(
            study=request.study,
            original=request.POST.get("original", ""),
            kind=request.POST.get("kind", Pseudonym.Kind.ORGANISATION),
            group=request.POST.get("group", "other"),
            replacement=(request.POST.get("replacement") or "").strip() or None,
            actor=request.user,
        )
    except privacy.PrivacyError as error:
        messages.error(request, f"Not added: {error}")
    else:
        messages.success(
            request, f"Added to the key as [{pseudonym.replacement}]; scan again to find it."
        )
    return redirect("casework_privacy:key", slug)


@study_view(*READ_ROLES)
def anonymised_list(request, slug):
    sources = Source.objects.filter(study=request.study).order_by("title", "id")
    counts = privacy.accepted_counts(request.study)
    label = privacy.label_anonymiser(request.study)
    return render(
        request,
        "casework/privacy/sources.html",
        {
            "study": request.study,
            "membership": request.membership,
            "rows": [
                {"source": s, "title": label(s.title), "replacements": counts.get(s.id, 0)}
                for s in sources
            ],
        },
    )


@study_view(*READ_ROLES)
def anonymised_source(request, slug, source_id):
    source = get_object_or_404(Source, pk=source_id, study=request.study)
    text, offsets = privacy.anonymised_text(source)
    label = privacy.label_anonymiser(request.study)
    pieces, cursor = [], 0
    for _, _, new_start, new_end in offsets.spans:
        pieces.append((text[cursor:new_start], False))
        pieces.append((text[new_start:new_end], True))
        cursor = new_end
    pieces.append((text[cursor:], False))
    return render(
        request,
        "casework/privacy/source.html",
        {
            "study": request.study,
            "membership": request.membership,
            "source": source,
            "title": label(source.title),
            "pieces": pieces,
            "replacements": len(offsets.spans),
            "pending": source.pseudonym_candidates.filter(
                status=PseudonymCandidate.Status.PENDING
            ).count(),
        },
    )


@study_view(*REVIEW_ROLES)
def export(request, slug):
    if request.method != "POST":
        return render(
            request,
            "casework/privacy/export.html",
            {
                "study": request.study,
                "membership": request.membership,
                "pending": sum(privacy.pending_counts(request.study).values()),
            },
        )
    with_qdpx = request.POST.get("qdpx") == "on"
    folder = Path(tempfile.mkdtemp(prefix="triangulum-anon-"))
    name = f"{slugify(request.study.slug)}-anonymised.zip"
    try:
        summary = privacy.export_anonymised(
            study=request.study,
            out=folder / name,
            actor=request.user,
            user=request.user,
            with_qdpx=with_qdpx,
        )
    except Exception as error:  # noqa: BLE001 - an export the writer refuses is reported
        shutil.rmtree(folder, ignore_errors=True)
        messages.error(request, f"The export could not be written: {error}")
        return redirect("casework_privacy:export", slug)
    data = summary.path.read_bytes()
    shutil.rmtree(folder, ignore_errors=True)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
