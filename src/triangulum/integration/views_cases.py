"""Linked-case pages: each site's survey evidence beside its case-study evidence, the
mixed-methods matrix, quantitized codes and their cross-tabulation against survey
variables, and the QCA of the sites.

Lead, researchers and viewers read (as for the rest of integration); lead and researchers
run a QCA. Numbers built from codings link to the segments behind them (the casework
segments page, by coding ids) for the roles that may read segments (lead, researcher);
viewers see the numbers and framework summaries, not source titles or segments — as in
the case-study pages (ADR 0015). No page here shows a participant's name or contact.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify

from triangulum.casework.models import Case, Code
from triangulum.fieldwork.models import Wave
from triangulum.studies.models import Role, StudyMembership
from triangulum.studies.permissions import study_view

from . import actions_qca, cases, qca_sites
from .models import QcaRun
from .quantitize import MEASURES, merge, table_csv, table_xlsx

READ_ROLES = (Role.LEAD, Role.RESEARCHER, Role.VIEWER)
WRITE_ROLES = frozenset({Role.LEAD, Role.RESEARCHER})
# Roles that may open the casework segments page and read source titles.
SEGMENT_ROLES = frozenset({Role.LEAD, Role.RESEARCHER})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_LINKED_IDS = 2000  # the casework segments page reads at most this many ids


def _render(request, template: str, context: dict, status: int = 200):
    may_write = request.membership.role in WRITE_ROLES
    return render(request, template, {"may_write": may_write, **context}, status=status)


def _may_read_segments(request) -> bool:
    return request.membership.role in SEGMENT_ROLES


def segments_url(study, coding_ids, label: str) -> str:
    """The casework page listing exactly these codings' segments."""
    ids = ",".join(str(i) for i in list(coding_ids)[:MAX_LINKED_IDS])
    return (
        reverse("casework:segments", args=[study.slug])
        + "?"
        + urlencode({"ids": ids, "label": label})
    )


def _visible_to(request):
    # What a reader may see of codings follows the blind-coding rule for their account;
    # viewers see counts of everything, as on the framework-matrix pages.
    return request.user if _may_read_segments(request) else None


def _filename(study, stem: str, ext: str, simulated: bool) -> str:
    return f"{'simulated-' if simulated else ''}{study.slug}-{stem}.{ext}"


def _download(study, stem, header, body, fmt, *, about, simulated) -> HttpResponse:
    if simulated:
        header = [*header, "data"]
        body = [[*row, "simulated"] for row in body]
    if fmt == "csv":
        response = HttpResponse(table_csv(header, body), content_type="text/csv; charset=utf-8")
    else:
        notes = [*about, ("simulated", "yes: simulated data" if simulated else "no")]
        response = HttpResponse(
            table_xlsx(header, body, sheet=stem, about=notes), content_type=XLSX
        )
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(study, stem, fmt, simulated)}"'
    )
    return response


def _kind(request) -> str:
    kind = request.GET.get("kind", "site")
    return kind if kind in cases.CASE_KINDS else "site"


def _is_simulated(study) -> bool:
    return actions_qca._is_simulated(study)


# --- linked cases -------------------------------------------------------------------------


@study_view(*READ_ROLES)
def case_list(request, slug):
    study = request.study
    kind = _kind(request)
    rows = cases.case_list(study, kind, visible_to=_visible_to(request))
    description, membership_result = cases.typology_descriptions(study)
    waves = list(Wave.objects.filter(study=study).order_by("number"))
    return _render(
        request,
        "integration/cases_list.html",
        {
            "rows": rows,
            "kind": kind,
            "kinds": cases.CASE_KINDS,
            "waves": waves,
            "typology_description": description,
            "typology_result": membership_result,
        },
    )


@study_view(*READ_ROLES)
def case_detail(request, slug, case_id):
    study = request.study
    linked = cases.linked_case(study, case_id)
    if linked is None:
        raise Http404("No such site or initiative case linked to an organisation.")
    may_read_segments = _may_read_segments(request)
    survey = cases.survey_summaries(study, [linked.organisation])[linked.organisation.pk]
    evidence = cases.case_study_evidence(linked, visible_to=_visible_to(request))
    description, membership_result = cases.typology_descriptions(study)
    links = cases.analysis_links(study)
    items = []
    if survey:
        names = []
        for wave in survey:
            names += [n for n in wave.items if n not in names]
        for name in names:
            per_wave = [wave.items.get(name) for wave in survey]
            info = next(i.info for i in per_wave if i is not None)
            items.append({"name": name, "label": info.label or name, "waves": per_wave})
    code_rows = [
        {
            "row": row,
            "url": segments_url(study, row.coding_ids, f"{linked.name} × {row.code.name}")
            if may_read_segments
            else "",
            "share": f"{row.characters / evidence.characters:.1%}" if evidence.characters else "—",
        }
        for row in evidence.codes
    ]
    return _render(
        request,
        "integration/cases_detail.html",
        {
            "linked": linked,
            "survey": survey,
            "items": items,
            "typology": cases.typology_class(study, linked.organisation),
            "typology_description": description,
            "typology_result": membership_result,
            "answer_results": [
                links.get(f"wave{wave.number}_organisation_answers") for wave in survey
            ],
            "evidence": evidence,
            "code_rows": code_rows,
            "may_read_segments": may_read_segments,
        },
    )


# --- the mixed-methods matrix -------------------------------------------------------------


def _grouped_choices(variables) -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for v in variables:
        if v.group == "framework":
            group = v.label.split(" — ", 1)[0]
        elif v.group == "typology" or v.measure == "respondents":
            group = "Typology and respondents"
        else:
            group = f"Survey wave {v.wave}" + (
                ": share in the top two points" if v.measure == "share" else ": combined answers"
            )
        groups.setdefault(group, []).append((v.key, v.label))
    return list(groups.items())


class MixedMatrixForm(forms.Form):
    kind = forms.ChoiceField(choices=list(cases.CASE_KINDS.items()), required=False)
    col = forms.MultipleChoiceField(label="Columns", required=False)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["col"].choices = [(k, label) for k, label in choices]


def _default_columns(survey_vars, framework_vars) -> list[str]:
    wanted = ["typology", "w1:respondents", "w2:respondents", "w1:clinical_centrality"]
    keys = [v.key for v in survey_vars if v.key in wanted]
    keys += [v.key for v in framework_vars[:2]]
    return keys


@study_view(*READ_ROLES)
def mixed_matrix(request, slug):
    study = request.study
    survey_vars = cases.survey_variables(study)
    framework_vars = cases.framework_variables(study)
    all_vars = [*survey_vars, *framework_vars]
    form = MixedMatrixForm(request.GET or None, choices=[(v.key, v.label) for v in all_vars])
    kind, keys = "site", _default_columns(survey_vars, framework_vars)
    if form.is_bound:
        if not form.is_valid():
            return _render(
                request,
                "integration/cases_matrix.html",
                {
                    "form": form,
                    "groups": _grouped_choices(all_vars),
                    "chosen": set(),
                    "matrix": None,
                },
                status=400,
            )
        kind = form.cleaned_data["kind"] or "site"
        keys = form.cleaned_data["col"] or keys
    matrix = cases.mixed_matrix(study, kind=kind, keys=keys)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        header, body = matrix.table()
        return _download(
            study,
            "mixed-methods-matrix",
            header,
            body,
            fmt,
            about=[
                ("table", f"{cases.CASE_KINDS[kind]} × survey variables and framework columns"),
                *((c.key, c.label) for c in matrix.columns),
            ],
            simulated=_is_simulated(study),
        )
    query = urlencode([("kind", kind), *(("col", k) for k in keys)])
    return _render(
        request,
        "integration/cases_matrix.html",
        {
            "form": form,
            "groups": _grouped_choices(all_vars),
            "chosen": set(keys),
            "kind": kind,
            "kinds": cases.CASE_KINDS,
            "matrix": matrix,
            "query": query,
        },
    )


# --- quantitized codes --------------------------------------------------------------------


def _coders(study):
    users = (
        StudyMembership.objects.filter(study=study, user__codings__source__study=study)
        .select_related("user")
        .distinct()
        .order_by("user__username")
    )
    return [m.user for m in users]


class QuantitizeForm(forms.Form):
    # The initial values are the defaults a first visit (no query) is computed with.
    kind = forms.ChoiceField(choices=list(cases.CASE_KINDS.items()), required=False)
    measure = forms.ChoiceField(choices=list(MEASURES.items()), required=False)
    min_count = forms.IntegerField(
        min_value=1,
        initial=1,
        required=False,
        label="Present from (codings)",
        help_text="For presence: how many codings make a code present.",
    )
    code = forms.MultipleChoiceField(label="Codes", required=False)
    include_subcodes = forms.BooleanField(required=False, initial=True, label="Include sub-codes")
    coder = forms.ChoiceField(required=False)
    survey = forms.MultipleChoiceField(
        label="Survey variables in the download", required=False, initial=["typology"]
    )

    def __init__(self, *args, study, codes, survey_choices, coders, **kwargs):
        super().__init__(*args, **kwargs)
        paths = cases.casework_queries.code_paths(study)
        self.fields["code"].choices = [(str(c.pk), paths.get(c.pk, c.name)) for c in codes]
        self.fields["coder"].choices = [("", "All coders")] + [
            (str(u.pk), u.get_username()) for u in coders
        ]
        self.fields["survey"].choices = survey_choices


def _quantitize_options(request, form, coders):
    """The chosen options, or the defaults for a first visit."""
    options = {
        "kind": "site",
        "measure": "presence",
        "min_count": 1,
        "code_ids": [],
        "include_subcodes": True,
        "coder": None,
        "survey": ["typology"],
    }
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        options.update(
            kind=data["kind"] or "site",
            measure=data["measure"] or "presence",
            min_count=data["min_count"] or 1,
            code_ids=[int(c) for c in data["code"]],
            include_subcodes=data["include_subcodes"],
            coder=next((u for u in coders if str(u.pk) == data["coder"]), None),
            survey=data["survey"] or [],
        )
    return options


def _format_value(value, measure: str) -> str:
    if value is None:
        return "—"
    if measure == "share":
        return f"{value:.1%}"
    return str(value)


@study_view(*READ_ROLES)
def quantitized(request, slug):
    study = request.study
    coded = cases.coded_codes(study)
    coders = _coders(study)
    survey_vars = cases.survey_variables(study)
    form = QuantitizeForm(
        request.GET or None,
        study=study,
        codes=coded,
        survey_choices=[(v.key, v.label) for v in survey_vars],
        coders=coders,
    )
    if form.is_bound and not form.is_valid():
        return _render(
            request,
            "integration/cases_quantitized.html",
            {"form": form, "view": None},
            status=400,
        )
    options = _quantitize_options(request, form, coders)
    chosen = [c for c in coded if c.pk in options["code_ids"]] or coded
    view = cases.quantitized_matrix(
        study,
        kind=options["kind"],
        codes=chosen,
        measure=options["measure"],
        min_count=options["min_count"],
        coder=options["coder"],
        include_subcodes=options["include_subcodes"],
        visible_to=_visible_to(request),
    )
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        survey = cases.survey_table(study, view.cases, options["survey"])
        header, body = merge(
            view.matrix,
            survey,
            column_names={c.pk: view.paths.get(c.pk, c.name) for c in view.codes},
            survey_columns=options["survey"],
            row_names={lc.id: lc.name for lc in view.cases},
        )
        header.insert(1, "organisation_code")
        for row, lc in zip(body, view.cases, strict=True):
            row.insert(1, lc.organisation.ods_code)
        return _download(
            study,
            f"quantitized-{options['measure']}",
            header,
            body,
            fmt,
            about=[
                ("measure", MEASURES[options["measure"]]),
                ("present from (codings)", options["min_count"]),
                ("sub-codes included", "yes" if options["include_subcodes"] else "no"),
                ("coder", options["coder"].get_username() if options["coder"] else "all coders"),
                ("codings visible to", request.user.get_username()),
            ],
            simulated=_is_simulated(study),
        )
    may_read_segments = _may_read_segments(request)
    rows = []
    for lc in view.cases:
        cells = []
        for code in view.codes:
            cell = view.cell(lc.id, code.pk)
            value = view.matrix.value(lc.id, code.pk)
            cells.append(
                {
                    "code": code,
                    "text": _format_value(value, options["measure"]),
                    "count": cell.count,
                    "url": segments_url(study, cell.coding_ids, f"{lc.name} × {code.name}")
                    if may_read_segments and cell.coding_ids
                    else "",
                }
            )
        rows.append({"linked": lc, "cells": cells, "text_length": view.text_lengths[lc.id]})
    query = request.GET.copy()
    query.pop("format", None)
    return _render(
        request,
        "integration/cases_quantitized.html",
        {
            "form": form,
            "view": view,
            "rows": rows,
            "options": options,
            "measure_label": MEASURES[options["measure"]],
            "may_read_segments": may_read_segments,
            "query": query.urlencode(),
        },
    )


class CrossTabForm(forms.Form):
    code = forms.ChoiceField(label="Code")
    variable = forms.ChoiceField(label="Survey variable")
    kind = forms.ChoiceField(choices=list(cases.CASE_KINDS.items()), required=False)
    min_count = forms.IntegerField(
        min_value=1, initial=1, required=False, label="Present from (codings)"
    )
    include_subcodes = forms.BooleanField(required=False, initial=True, label="Include sub-codes")
    coder = forms.ChoiceField(required=False)

    def __init__(self, *args, study, codes, variables, coders, **kwargs):
        super().__init__(*args, **kwargs)
        paths = cases.casework_queries.code_paths(study)
        self.fields["code"].choices = [(str(c.pk), paths.get(c.pk, c.name)) for c in codes]
        self.fields["variable"].choices = [(v.key, v.label) for v in variables]
        self.fields["coder"].choices = [("", "All coders")] + [
            (str(u.pk), u.get_username()) for u in coders
        ]


@study_view(*READ_ROLES)
def crosstab(request, slug):
    study = request.study
    coded = cases.coded_codes(study)
    coders = _coders(study)
    variables = [
        v for v in cases.survey_variables(study) if v.group == "typology" or v.measure == "answer"
    ]
    form = CrossTabForm(
        request.GET or None, study=study, codes=coded, variables=variables, coders=coders
    )
    context = {"form": form, "result": None}
    if not form.is_bound:
        return _render(request, "integration/cases_crosstab.html", context)
    if not form.is_valid():
        return _render(request, "integration/cases_crosstab.html", context, status=400)
    data = form.cleaned_data
    code = get_object_or_404(Code, pk=int(data["code"]), study=study)
    result = cases.crosstab(
        study,
        code=code,
        variable_key=data["variable"],
        kind=data["kind"] or "site",
        min_count=data["min_count"] or 1,
        coder=next((u for u in coders if str(u.pk) == data["coder"]), None),
        include_subcodes=data["include_subcodes"],
        visible_to=_visible_to(request),
    )
    may_read_segments = _may_read_segments(request)
    table = result.table
    columns = [
        (0, "Not coded" if result.min_count == 1 else f"Fewer than {result.min_count}"),
        (1, "Coded" if result.min_count == 1 else f"{result.min_count} or more codings"),
    ]
    labels = dict(result.categories)
    rows = []
    for value in table.row_values:
        cells = []
        for column, column_label in columns:
            members = table.cases.get((value, column), [])
            ids = [i for case_id in members for i in result.codings[case_id]]
            cells.append(
                {
                    "count": len(members),
                    "cases": [result.cases[c] for c in members],
                    "url": segments_url(
                        study, ids, f"{code.name}: {labels.get(value, value)} × {column_label}"
                    )
                    if may_read_segments and ids
                    else "",
                    "column_label": column_label,
                }
            )
        rows.append(
            {
                "label": labels.get(value, str(value)),
                "cells": cells,
                "total": table.row_total(value),
            }
        )
    context.update(
        result=result,
        columns=columns,
        rows=rows,
        column_totals=[table.column_total(c) for c, _ in columns],
        missing=[result.cases[c] for c in table.missing],
        may_read_segments=may_read_segments,
    )
    return _render(request, "integration/cases_crosstab.html", context)


# --- QCA of the sites ---------------------------------------------------------------------


class QcaRunForm(forms.Form):
    name = forms.CharField(max_length=200)
    unit = forms.ChoiceField(choices=list(qca_sites.UNITS.items()))
    set_type = forms.ChoiceField(choices=[("crisp", "Crisp sets"), ("fuzzy", "Fuzzy sets")])
    outcome = forms.CharField(max_length=40, help_text="The outcome set's name.")
    conditions = forms.CharField(
        max_length=400, help_text="Condition set names, separated by commas."
    )
    calibration = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        help_text="JSON: one entry per set (the outcome and each condition); see the example.",
    )
    incl_cut = forms.FloatField(
        min_value=0, max_value=1, initial=0.8, label="Consistency threshold (incl. cut)"
    )
    n_cut = forms.IntegerField(min_value=1, initial=1, label="Frequency threshold (n cut)")
    remainders = forms.ChoiceField(choices=list(qca_sites.REMAINDERS.items()), initial="both")

    def clean_calibration(self):
        try:
            value = json.loads(self.cleaned_data["calibration"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Give a JSON object with one entry per set.")
        return value

    def clean_conditions(self):
        return [c.strip() for c in self.cleaned_data["conditions"].split(",") if c.strip()]


def _example(study) -> dict:
    analyses = qca_sites.demo_calibrations(study)
    if analyses:
        example = analyses[-1]
        return {
            "name": example["name"].removeprefix("Simulated: "),
            "unit": "site",
            "set_type": example["set_type"],
            "outcome": example["outcome"],
            "conditions": ", ".join(example["conditions"]),
            "calibration": json.dumps(example["calibration"], indent=2, ensure_ascii=False),
            "incl_cut": example["incl_cut"],
            "n_cut": example["n_cut"],
            "remainders": "both",
        }
    return {"unit": "site", "set_type": "crisp", "incl_cut": 0.8, "n_cut": 1, "remainders": "both"}


@study_view(*READ_ROLES)
def qca_list(request, slug):
    study = request.study
    may_write = request.membership.role in WRITE_ROLES
    form = QcaRunForm(initial=_example(study)) if may_write else None
    status = 200
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied("Only the lead and researchers may run a QCA.")
        form = QcaRunForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = actions_qca.run_qca(
                    study=study,
                    name=data["name"],
                    unit=data["unit"],
                    set_type=data["set_type"],
                    outcome=data["outcome"].strip(),
                    conditions=data["conditions"],
                    calibration=data["calibration"],
                    incl_cut=data["incl_cut"],
                    n_cut=data["n_cut"],
                    remainders=data["remainders"],
                    actor=request.user,
                )
            except actions_qca.QcaRunError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Stored the QCA '{run.name}'.")
                return redirect("integration:qca_run", slug=study.slug, qca_run_id=run.pk)
        status = 400
    runs = QcaRun.objects.filter(study=study).select_related("created_by")
    codes = cases.coded_codes(study)
    paths = cases.casework_queries.code_paths(study)
    return _render(
        request,
        "integration/qca_list.html",
        {
            "runs": runs,
            "form": form,
            "sources": qca_sites.SOURCES,
            "methods": qca_sites.METHODS,
            "codes": [(c.pk, paths.get(c.pk, c.name)) for c in codes],
        },
        status=status,
    )


def _set_description(spec: dict, code_names: dict[int, str]) -> str:
    source = spec.get("source")
    if source == "typology":
        what = "Typology class"
    elif source in qca_sites.SURVEY_SOURCES:
        what = f"Wave {spec.get('wave')}, {spec.get('item')}"
        if source == "survey_share":
            what += f": share answering {' or '.join(spec.get('categories', []))}"
        else:
            what += ": combined answer"
    else:
        code = code_names.get(spec.get("code"), f"code {spec.get('code')}")
        what = f"Share of text coded {code}" if source == "code_share" else f"Codings of {code}"
    method = spec.get("method")
    if method == "members":
        how = f"1 if {', '.join(spec.get('members', []))}"
    elif method == "threshold":
        how = f"1 if ≥ {spec.get('threshold'):g}"
    else:
        exclusion, crossover, inclusion = spec.get("anchors", [None, None, None])
        how = (
            f"direct: out {exclusion:g}, crossover {crossover:g}, in {inclusion:g} "
            f"(±{spec.get('anchor_log_odds', 3):g} log-odds)"
        )
    return f"{what}; {how}"


def _raw_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


@study_view(*READ_ROLES)
def qca_detail(request, slug, qca_run_id):
    study = request.study
    run = get_object_or_404(QcaRun, pk=qca_run_id, study=study)
    names = [*run.conditions, run.outcome]
    if request.GET.get("format") == "csv":
        text = qca_sites.memberships_csv(run.memberships, columns=names, simulated=run.is_simulated)
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        stem = slugify(run.name)[:60] or f"qca-{run.pk}"
        filename = f"{'simulated-' if run.is_simulated and not stem.startswith('simulated') else ''}{stem}-memberships.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    sets = run.calibration.get("sets", {})
    code_ids = [s.get("code") for s in sets.values() if s.get("code")]
    code_names = dict(Code.objects.filter(study=study, pk__in=code_ids).values_list("id", "name"))
    raw = run.calibration.get("raw", {})
    by_case = {row["case"]: row for row in run.memberships}
    case_links = run.calibration.get("cases", {})
    calibration_rows = []
    for case in sorted(set().union(*(set(v) for v in raw.values())) if raw else by_case):
        link = case_links.get(case, {})
        calibration_rows.append(
            {
                "case": case,
                "case_id": link.get("case_id"),
                "kept": case in by_case,
                "cells": [
                    {
                        "raw": _raw_text(raw.get(name, {}).get(case)),
                        "membership": by_case[case][name] if case in by_case else None,
                    }
                    for name in names
                ],
            }
        )
    results = run.results or {}
    existing_case_ids = set(
        Case.objects.filter(
            study=study, pk__in=[v.get("case_id") for v in case_links.values()]
        ).values_list("id", flat=True)
    )
    return _render(
        request,
        "integration/qca_detail.html",
        {
            "run": run,
            "names": names,
            "sets": [
                {
                    "name": n,
                    "spec": sets.get(n, {}),
                    "text": _set_description(sets.get(n, {}), code_names),
                }
                for n in names
            ],
            "calibration_rows": calibration_rows,
            "excluded": run.calibration.get("excluded", []),
            "truth_table": results.get("truth_table", []),
            "solutions": results.get("solutions", {}),
            "necessity": results.get("necessity", []),
            "remainder_rows": results.get("remainder_rows"),
            "unassigned": results.get("unassigned_cases", []),
            "existing_case_ids": existing_case_ids,
            "calibration_json": json.dumps(sets, indent=2, ensure_ascii=False),
        },
    )
