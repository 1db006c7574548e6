from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from triangulum.studies.models import Role
from triangulum.studies.permissions import study_view

from . import actions
from .document import REPORT_KINDS
from .layout import KIND_NAMES
from .models import ReportBuild
from .queries import build_file, recent_builds

# Reports quote pseudonymised interview text and give every result: for the people
# running the study, not for viewers (ADR 0005).
REPORT_ROLES = (Role.LEAD, Role.RESEARCHER)
KIND_DESCRIPTIONS = {
    "practitioner": (
        "For leaders, managers and clinicians in commissioning bodies: key findings per "
        "research question, charts, the typology of engagement and case vignettes."
    ),
    "guidance": (
        "For ICBs (formerly CCGs) and Health and Wellbeing Boards: graded recommendations "
        "linked to their evidence, and a self-assessment checklist."
    ),
    "article": (
        "Article-ready tables (sample, AAPOR dispositions and rates, Likert, regression, "
        "typology, joint displays) and the COREQ, GRAMMS and AAPOR checklists."
    ),
}


def _output_folder(study):
    return settings.MEDIA_ROOT / "reports" / study.slug


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@study_view(*REPORT_ROLES)
def index(request, slug):
    study = request.study
    preview = request.GET.get("preview", "")
    built = ReportBuild.objects.filter(study=study, pk=_int(request.GET.get("built"))).first()
    kinds = [
        {"kind": kind, "name": KIND_NAMES[kind], "description": KIND_DESCRIPTIONS[kind]}
        for kind in REPORT_KINDS
    ]
    return render(
        request,
        "reports/index.html",
        {
            "kinds": kinds,
            "formats": [(name, ReportBuild.Format(name).label) for name in actions.FORMATS],
            "preview": preview if preview in REPORT_KINDS else "",
            "preview_name": KIND_NAMES.get(preview, ""),
            "builds": recent_builds(study),
            "built": built,
        },
    )


@study_view(*REPORT_ROLES)
@xframe_options_sameorigin
def preview(request, slug, report_kind):
    if report_kind not in REPORT_KINDS:
        raise Http404(f"No report kind {report_kind!r}.")
    try:
        report = actions.default_builder()(request.study, report_kind)
    except actions.ReportError as error:
        raise Http404(str(error)) from None
    return HttpResponse(actions.render(report, "html"), content_type=actions.CONTENT_TYPES["html"])


@require_POST
@study_view(*REPORT_ROLES)
def build(request, slug):
    study = request.study
    try:
        kinds = actions.parse_kinds(request.POST.get("kind", ""))
        formats = actions.parse_formats(request.POST.get("format", ""))
        if len(kinds) != 1 or len(formats) != 1:
            raise actions.ReportError("Choose one report and one format to build.")
        actions.write_reports(
            study=study,
            kinds=kinds,
            formats=formats,
            out_dir=_output_folder(study),
            actor=request.user,
        )
    except actions.ReportError as error:
        messages.error(request, str(error))
        return redirect("reports:index", slug=study.slug)
    latest = ReportBuild.objects.filter(study=study, kind=kinds[0], format=formats[0]).first()
    messages.success(
        request,
        f"Built the {KIND_NAMES[kinds[0]].lower()} as {formats[0].upper()} "
        f"(SHA-256 {latest.output_sha256[:12]}…).",
    )
    return redirect(f"{reverse('reports:index', args=[study.slug])}?built={latest.pk}")


@study_view(*REPORT_ROLES)
def download(request, slug, build_id):
    build = get_object_or_404(ReportBuild, pk=build_id, study=request.study)
    data = build_file(build)
    if data is None:
        raise Http404(
            "This build's file is no longer there (or a build from other inputs has replaced "
            "it): build the report again."
        )
    response = HttpResponse(data, content_type=actions.CONTENT_TYPES[build.format])
    response["Content-Disposition"] = f'attachment; filename="{build.filename}"'
    return response
