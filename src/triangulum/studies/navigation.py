"""The study's navigation bar: each entry names the roles that see it.

Later capabilities add their pages here by URL name, so the bar grows with the study
without this app importing theirs.
"""

from django.urls import NoReverseMatch, reverse

from .models import Role

ALL = tuple(Role.values)

# (label, URL name taking the study slug, roles that see the entry)
NAV_ITEMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("Study home", "studies:home", ALL),
    ("Frame", "organisations:frame", ALL),
    ("Samples", "sampling:list", ALL),
    ("Survey", "fieldwork:index", (Role.LEAD, Role.RESEARCHER, Role.INTERVIEWER)),
    ("Case studies", "casework:sources", (Role.LEAD, Role.RESEARCHER, Role.CODER)),
    ("Codebook", "casework:codebook", (Role.LEAD, Role.RESEARCHER, Role.CODER, Role.VIEWER)),
    (
        "Framework matrices",
        "casework:frameworks",
        (Role.LEAD, Role.RESEARCHER, Role.CODER, Role.VIEWER),
    ),
    (
        "Initiatives",
        "casework_initiatives:list",
        (Role.LEAD, Role.RESEARCHER, Role.CODER, Role.VIEWER),
    ),
    ("Pseudonymisation", "casework_privacy:queue", (Role.LEAD, Role.RESEARCHER)),
    ("Analysis", "analysis:list", (Role.LEAD, Role.RESEARCHER, Role.VIEWER)),
    ("Integration", "integration:index", (Role.LEAD, Role.RESEARCHER, Role.VIEWER)),
    ("Reports", "reports:index", (Role.LEAD, Role.RESEARCHER)),
    ("Participants", "studies:participants", (Role.LEAD, Role.RESEARCHER, Role.INTERVIEWER)),
    ("Members", "studies:members", (Role.LEAD,)),
    ("Audit trail", "studies:audit", (Role.LEAD,)),
]


def nav_for(request) -> list[dict]:
    study = getattr(request, "study", None)
    membership = getattr(request, "membership", None)
    if study is None or membership is None:
        return []
    items = []
    for label, url_name, roles in NAV_ITEMS:
        if membership.role not in roles:
            continue
        try:
            url = reverse(url_name, args=[study.slug])
        except NoReverseMatch:
            continue  # a page not built yet
        items.append({"label": label, "url": url, "current": request.path == url})
    return items
