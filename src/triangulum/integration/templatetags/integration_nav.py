"""The integration pages' own navigation, drawn from the request so every integration
template (including the linked-cases and QCA pages) can include it without its view
passing anything."""

from functools import lru_cache

from django import template
from django.urls import NoReverseMatch, resolve, reverse

register = template.Library()

# The integration pages, in the order a reader meets them: (label, URL name).
SECTIONS = [
    ("Overview", "integration:index"),
    ("Findings register", "integration:findings"),
    ("Convergence matrix", "integration:convergence"),
    ("Propositions", "integration:propositions"),
    ("Joint displays", "integration:displays"),
    ("Linked cases", "integration:cases"),
    ("Mixed-methods matrix", "integration:mixed_matrix"),
    ("Quantitized codes", "integration:quantitized"),
    ("Cross-tabulation", "integration:crosstab"),
    ("QCA", "integration:qca"),
]
# Pages below a section (a detail page) mark that section as current.
SECTION_OF = {
    "integration:finding": "integration:findings",
    "integration:convergence_theme": "integration:convergence",
    "integration:proposition": "integration:propositions",
    "integration:new_proposition": "integration:propositions",
    "integration:edit_proposition": "integration:propositions",
    "integration:display": "integration:displays",
    "integration:new_display": "integration:displays",
    "integration:new_display_row": "integration:displays",
    "integration:display_row": "integration:displays",
    "integration:case": "integration:cases",
    "integration:qca_run": "integration:qca",
}


@lru_cache(maxsize=512)
def _section_url(name: str, slug: str) -> tuple[str, frozenset] | None:
    """A section's URL for a study and the roles its view admits (None: not built yet)."""
    try:
        url = reverse(name, args=[slug])
    except NoReverseMatch:
        return None
    return url, frozenset(getattr(resolve(url).func, "study_roles", ()))


def nav_items(request) -> list[dict]:
    study = getattr(request, "study", None)
    membership = getattr(request, "membership", None)
    if study is None or membership is None:
        return []
    here = request.resolver_match.view_name if request.resolver_match else ""
    here = SECTION_OF.get(here, here)
    items = []
    for label, name in SECTIONS:
        found = _section_url(name, study.slug)
        if found is None or membership.role not in found[1]:
            continue
        url = found[0]
        items.append({"label": label, "url": url, "current": name == here})
    return items


@register.inclusion_tag("integration/_nav_items.html", takes_context=True)
def integration_nav(context):
    request = context.get("request")
    return {"items": nav_items(request) if request is not None else []}
