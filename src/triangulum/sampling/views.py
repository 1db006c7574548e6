import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify

from triangulum.studies.models import Role
from triangulum.studies.permissions import ALL_ROLES, study_view

from . import actions
from .designs import DesignError
from .forms import DrawSampleForm
from .models import Sample
from .queries import sample_csv, sample_units, samples_for_study

DRAWING_ROLES = frozenset({Role.LEAD, Role.RESEARCHER})


def _draw(form: DrawSampleForm, study, user) -> Sample:
    data = form.cleaned_data
    common = {
        "study": study,
        "org_type": data["org_type"],
        "vintage": data["vintage"],
        "region": data["region"] or None,
        "name": data["name"] or None,
        "actor": user,
    }
    if data["method"] == Sample.Method.CENSUS:
        return actions.draw_census(**common)
    if data["method"] == Sample.Method.STRATIFIED:
        return actions.draw_stratified(
            **common,
            seed=data["seed"],
            strata=data["strata"],
            n_total=data["n"],
            allocation=data["allocation"],
        )
    return actions.select_purposive(
        **common,
        seed=data["seed"],
        n=data["n"],
        attributes=[name.strip() for name in data["attributes"].split(",") if name.strip()],
    )


@study_view(*ALL_ROLES)
def sample_list(request, slug):
    study = request.study
    may_draw = request.membership.role in DRAWING_ROLES
    form = None
    if request.method == "POST":
        if not may_draw:
            raise PermissionDenied("Only the study's lead and researchers may draw samples.")
        form = DrawSampleForm(request.POST)
        if form.is_valid():
            try:
                sample = _draw(form, study, request.user)
            except DesignError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, f"Drew '{sample.name}': {sample.units.count()} organisations."
                )
                return redirect("sampling:detail", slug=study.slug, sample_id=sample.pk)
    elif may_draw:
        form = DrawSampleForm()
    samples = samples_for_study(study)
    return render(
        request,
        "sampling/list.html",
        {"samples": samples, "form": form},
        status=400 if form is not None and form.errors else 200,
    )


@study_view(*ALL_ROLES)
def sample_detail(request, slug, sample_id):
    sample = get_object_or_404(Sample, pk=sample_id, study=request.study)
    if request.GET.get("format") == "csv":
        response = HttpResponse(sample_csv(sample), content_type="text/csv; charset=utf-8")
        filename = f"sample-{sample.pk}-{slugify(sample.name)[:60]}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    units = list(sample_units(sample))
    weight_total = sum(unit.base_weight for unit in units) if sample.is_probability_sample else None
    return render(
        request,
        "sampling/detail.html",
        {
            "sample": sample,
            "units": units,
            "weight_total": weight_total,
            "parameters_json": json.dumps(sample.parameters, indent=2, sort_keys=True),
        },
    )
