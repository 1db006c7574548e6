"""The frame browser and organisation pages, inside a study.

These pages sit under ``studies/<slug>/`` and use the studies app's access rule, the
one place where this app reaches to its right: whether someone may see a frame is a
question of study membership.
"""

from django.core.paginator import Paginator
from django.db.models import Count, Min, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode

from triangulum.studies.permissions import ALL_ROLES, study_view

from . import queries
from .forms import DEFAULT_VINTAGE, FrameFilterForm
from .models import Organisation, OrganisationType

PAGE_SIZE = 50

# Column headings of the frame table that can be sorted, by ?sort= key.
SORTABLE_COLUMNS = [
    ("name", "Name", False),
    ("code", "ODS code", False),
    ("region", "Region", False),
    ("registered_patients", "Registered patients", True),
    ("practices", "Practices", True),
]

PLURAL_LABELS = {
    OrganisationType.CCG: "CCGs",
    OrganisationType.ICB: "ICBs",
    OrganisationType.SUB_ICB: "Sub-ICB locations",
    OrganisationType.HWB: "Health and Wellbeing Boards",
    OrganisationType.PRACTICE: "GP practices",
}

ATTRIBUTE_LABELS = {
    "full_name": "Full name",
    "name_2021": "Name in 2021",
    "ccg_name": "Name as a CCG",
    "la_type": "Local authority type",
    "sub_icb_locations": "Sub-ICB locations",
    "qof_list_size_2013_14": "QOF list size 2013/14",
    "region_2020_code": "NHS England region from 2020 (code)",
    "region_2020_name": "NHS England region from 2020",
    "ons_area_team_2013_code": "ONS NHS area team 2013 (code)",
    "ons_area_team_2013_name": "ONS NHS area team 2013",
    "ons_commissioning_region_2013_code": "ONS commissioning region 2013 (code)",
    "ons_commissioning_region_2013_name": "ONS commissioning region 2013",
}


def _query_string(params, **changes) -> str:
    merged = {key: value for key, value in params.items() if key not in changes}
    merged.update({key: value for key, value in changes.items() if value not in (None, "")})
    return "?" + urlencode(merged)


def _sort_headers(params, current: str) -> list[dict]:
    headers = []
    for key, label, numeric in SORTABLE_COLUMNS:
        state = "ascending" if current == key else "descending" if current == f"-{key}" else None
        next_sort = f"-{key}" if state == "ascending" else key
        headers.append(
            {
                "label": label,
                "numeric": numeric,
                "aria_sort": state,
                "url": _query_string(params, sort=next_sort, page=None, format=None),
            }
        )
    return headers


@study_view(*ALL_ROLES)
def frame(request, slug):
    form = FrameFilterForm(request.GET)
    context = {"form": form}
    if not form.is_valid():
        context["invalid"] = True
        return _render_frame(request, context)

    filters = form.cleaned_data
    organisations = queries.frame(
        filters["type"],
        vintage=filters["vintage"],
        region=filters["region"] or None,
        min_patients=filters["min_patients"],
        max_patients=filters["max_patients"],
        search=filters["q"] or None,
        order_by=filters["sort"] or "name",
    )
    if request.GET.get("format") == "csv":
        vintage = filters["vintage"].isoformat() if filters["vintage"] else "all"
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="frame_{filters["type"]}_{vintage}.csv"'
        )
        queries.write_csv(organisations.select_related(None), response)
        return response

    params = {key: value for key, value in form.data.items() if key != "format"}
    page = Paginator(organisations.select_related("parent"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    totals = organisations.aggregate(patients=Sum("registered_patients"))
    context.update(
        filters=filters,
        type_label=PLURAL_LABELS[filters["type"]],
        page=page,
        count=page.paginator.count,
        total_patients=totals["patients"],
        headers=_sort_headers(params, filters["sort"] or "name"),
        csv_url=_query_string(params, format="csv", page=None),
        previous_url=_query_string(params, page=page.previous_page_number())
        if page.has_previous()
        else None,
        next_url=_query_string(params, page=page.next_page_number()) if page.has_next() else None,
    )
    if page.paginator.count == 0 and filters["vintage"]:
        # The commonest empty frame: a vintage outside the type's lifetime (ICBs in 2013).
        first_open = Organisation.objects.filter(org_type=filters["type"]).aggregate(
            first=Min("open_date")
        )["first"]
        if first_open and first_open > filters["vintage"]:
            default = DEFAULT_VINTAGE[filters["type"]]
            context["suggestion"] = {
                "first_open": first_open,
                "url": _query_string(params, vintage=default.isoformat(), page=None),
                "vintage": default,
            }
    return _render_frame(request, context)


def _render_frame(request, context):
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "organisations/_frame_results.html", {**context, "partial": True})
    return render(request, "organisations/frame.html", context)


@study_view(*ALL_ROLES)
def detail(request, slug, org_type, code):
    organisation = get_object_or_404(
        Organisation.objects.select_related("parent"), org_type=org_type, ods_code=code
    )
    children = organisation.children.all()
    practices = None
    if organisation.org_type == OrganisationType.CCG:
        practices = children.filter(org_type=OrganisationType.PRACTICE).aggregate(
            count=Count("pk"), patients=Sum("registered_patients")
        )
    sub_icbs = (
        children.filter(org_type=OrganisationType.SUB_ICB).order_by("ods_code")
        if organisation.org_type == OrganisationType.ICB
        else None
    )
    if organisation.org_type == OrganisationType.HWB:
        links, link_role = queries.commissioners_for(organisation), "commissioner"
    else:
        links, link_role = queries.hwbs_for(organisation), "hwb"
    steps = queries.lineage(organisation)
    attributes = [
        (
            ATTRIBUTE_LABELS.get(key, key.replace("_", " ").capitalize()),
            f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value,
        )
        for key, value in organisation.attributes.items()
        if value not in (None, "")
    ]
    return render(
        request,
        "organisations/detail.html",
        {
            "organisation": organisation,
            "type_plural": PLURAL_LABELS[organisation.org_type],
            "attributes": attributes,
            "practices": practices,
            "sub_icbs": sub_icbs,
            "links": links,
            "link_role": link_role,
            "lineage": steps,
        },
    )
