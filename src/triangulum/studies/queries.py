"""Read-side shaping of studies for pages, the command line and the demo."""

from collections.abc import Callable

from .models import Phase, Study
from .protocol import Group, PhaseSpec, Protocol, ResearchQuestionSpec

# What each phase has produced so far: phase id -> [(label, url)].
PhaseContents = dict[int, list[tuple[str, str]]]

# Apps to the right of studies (sampling, fieldwork, casework, ...) cannot be imported
# here; they add what a phase produced by registering a provider from their
# AppConfig.ready(): ``register_phase_contents(lambda study: {phase_id: [(label, url)]})``.
_PHASE_CONTENT_PROVIDERS: list[Callable[[Study], PhaseContents]] = []


def register_phase_contents(provider: Callable[[Study], PhaseContents]):
    if provider not in _PHASE_CONTENT_PROVIDERS:
        _PHASE_CONTENT_PROVIDERS.append(provider)
    return provider


def phase_contents(study: Study) -> PhaseContents:
    """What each phase of ``study`` has produced so far, as links; empty lists where nothing."""
    contents: PhaseContents = {pk: [] for pk in study.phases.values_list("pk", flat=True)}
    for provider in _PHASE_CONTENT_PROVIDERS:
        for phase_id, items in provider(study).items():
            if phase_id in contents:
                contents[phase_id].extend(items)
    return contents


def phases_with_contents(study: Study) -> list[tuple[Phase, list[tuple[str, str]]]]:
    contents = phase_contents(study)
    phases = study.phases.prefetch_related("research_questions")
    return [(phase, contents.get(phase.pk, [])) for phase in phases]


def _groups(values: list) -> tuple[Group, ...]:
    return tuple(
        Group(name=str(v.get("name", "")), description=str(v.get("description", "")))
        for v in values
        if isinstance(v, dict)
    )


def protocol_of(study: Study, *, with_status: bool = False) -> Protocol:
    """The study as it stands in the database, as a plain ``Protocol``."""
    return Protocol(
        slug=study.slug,
        title=study.title,
        short_title=study.short_title,
        funder=study.funder,
        funding_amount=study.funding_amount,
        host=study.host,
        start_date=study.start_date,
        end_date=study.end_date,
        aim=study.aim,
        secondary_focus=study.secondary_focus,
        research_questions=tuple(
            ResearchQuestionSpec(number=q.number, short_name=q.short_name, text=q.text)
            for q in study.research_questions.all()
        ),
        phases=tuple(
            PhaseSpec(
                order=p.order,
                kind=p.kind,
                name=p.name,
                description=p.description,
                produces=p.produces,
                planned_start_date=p.planned_start_date,
                planned_end_date=p.planned_end_date,
                research_questions=tuple(sorted(q.number for q in p.research_questions.all())),
                status=p.get_status_display() if with_status else "",
            )
            for p in study.phases.prefetch_related("research_questions")
        ),
        stakeholder_groups=_groups(study.stakeholder_groups),
        care_sectors=_groups(study.care_sectors),
    )


def participants_for(study: Study, *, with_contacts: bool):
    """The participant register; contact details are joined only when the caller may see them."""
    participants = study.participants.select_related("organisation").order_by("pseudonym")
    if with_contacts:
        participants = participants.select_related("contact")
    return participants
