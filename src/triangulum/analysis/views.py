import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe

from triangulum.studies.models import Role
from triangulum.studies.permissions import study_view

from . import actions
from .models import AnalysisResult
from .queries import latest_runs, result_csv, result_xlsx
from .steps import STEPS, StepError

READ_ROLES = (Role.LEAD, Role.RESEARCHER, Role.VIEWER)
RUN_ROLES = frozenset({Role.LEAD, Role.RESEARCHER})


@study_view(*READ_ROLES)
def run_list(request, slug):
    study = request.study
    may_run = request.membership.role in RUN_ROLES
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied("Only the study's lead and researchers may run analyses.")
        step = request.POST.get("step", "")
        try:
            if step == "all":
                runs = actions.run_all(study=study, actor=request.user)
            else:
                runs = [actions.run_step(study=study, step=step, actor=request.user)]
        except StepError as error:
            messages.error(request, str(error))
        else:
            failed = [r for r in runs if r.error]
            for run in failed:
                messages.error(request, f"Step {run.step} failed: {run.error}")
            if not failed:
                messages.success(request, f"Ran {len(runs)} step(s).")
        return redirect("analysis:list", slug=study.slug)
    return render(
        request,
        "analysis/list.html",
        {"runs": latest_runs(study), "may_run": may_run, "steps": STEPS},
    )


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return (
            f"{value:.4g}"
            if abs(value) >= 1e4 or (value != 0 and abs(value) < 1e-3)
            else f"{value:.4f}".rstrip("0").rstrip(".")
        )
    return str(value)


@study_view(*READ_ROLES)
def result_detail(request, slug, result_id):
    result = get_object_or_404(
        AnalysisResult.objects.select_related("run"), pk=result_id, run__study=request.study
    )
    stem = f"{request.study.slug}-{result.run.step}-{result.name}"
    if result.kind == AnalysisResult.Kind.TABLE and request.GET.get("format") == "csv":
        response = HttpResponse(result_csv(result), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    if result.kind == AnalysisResult.Kind.TABLE and request.GET.get("format") == "xlsx":
        response = HttpResponse(
            result_xlsx(result),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
        return response
    columns = result.columns
    rows = [[_show(row.get(c)) for c in columns] for row in (result.data or [])]
    return render(
        request,
        "analysis/result.html",
        {
            "result": result,
            "run": result.run,
            "columns": columns,
            "rows": rows,
            # Our own SVG, written by analysis.svg with escaped text.
            "figure": mark_safe(result.svg) if result.kind == AnalysisResult.Kind.FIGURE else "",
            "parameters_json": json.dumps(result.run.parameters, indent=2, sort_keys=True),
        },
    )
