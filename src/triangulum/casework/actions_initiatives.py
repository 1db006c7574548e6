"""Redesign initiatives: recording them, and linking sources, codings and memos to them.

Each initiative has a case of kind "initiative" (made with ``actions.ensure_case``) so it
can be a row of a framework matrix or a matrix coding query beside sites and
participants; the case carries the sources linked to the initiative.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from triangulum.audit.actions import record, snapshot
from triangulum.organisations.models import Organisation
from triangulum.studies.models import Participant, Study

from .actions import CaseworkError, add_memo, attach_sources_to_case, ensure_case
from .models import Case, Coding, Initiative, Memo, Source

FIELDS = (
    "name",
    "description",
    "lead_organisation",
    "sectors",
    "benefits_targeted",
    "status",
    "start_date",
    "end_date",
    "is_simulated",
)


class InitiativeError(CaseworkError):
    pass


def _as_list(values, field: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [v for v in values.replace("\n", ",").split(",")]
    items = [" ".join(str(v).split()) for v in values]
    if any(len(item) > 200 for item in items):
        raise InitiativeError(f"each of {field} must be at most 200 characters.", field=field)
    return [item for item in items if item]


def _check(study: Study, values: dict, partners, leaders) -> None:
    name = values.get("name")
    if name is not None and not " ".join(name.split()):
        raise InitiativeError("an initiative needs a name.", field="name")
    status = values.get("status")
    if status is not None and status not in Initiative.Status.values:
        raise InitiativeError(
            f'"{status}" is not a status; choose one of: {", ".join(Initiative.Status.values)}.',
            field="status",
        )
    for field in ("start_date", "end_date"):
        value = values.get(field)
        if value is not None and not isinstance(value, dt.date):
            raise InitiativeError(f"{field} must be a date.", field=field)
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        raise InitiativeError("the end date is before the start date.", field="end_date")
    lead = values.get("lead_organisation")
    if "lead_organisation" in values and not isinstance(lead, Organisation):
        raise InitiativeError("an initiative needs a lead organisation.", field="lead_organisation")
    for person in leaders or ():
        if not isinstance(person, Participant) or person.study_id != study.id:
            raise InitiativeError(
                f"leader {person} is not a participant of this study.", field="leaders"
            )
    for org in partners or ():
        if not isinstance(org, Organisation):
            raise InitiativeError(
                f"partner {org} is not an organisation.", field="partner_organisations"
            )


def _after(initiative: Initiative) -> dict:
    values = snapshot(initiative, list(FIELDS))
    values["partner_organisations"] = sorted(
        initiative.partner_organisations.values_list("id", flat=True)
    )
    values["leaders"] = sorted(initiative.leaders.values_list("id", flat=True))
    return values


def _case_attributes(initiative: Initiative) -> dict:
    return {
        "lead_organisation": initiative.lead_organisation.name,
        "status": initiative.get_status_display(),
        "sectors": ", ".join(initiative.sectors),
        "simulated": initiative.is_simulated,
    }


def initiative_case(initiative: Initiative, *, actor) -> Case:
    return ensure_case(
        study=initiative.study,
        kind=Case.Kind.INITIATIVE,
        name=initiative.name
        if not _name_clash(initiative)
        else f"{initiative.name} ({initiative.lead_organisation.name})",
        actor=actor,
        organisation=initiative.lead_organisation,
        initiative=initiative,
        attributes=_case_attributes(initiative),
    )


def _name_clash(initiative: Initiative) -> bool:
    # Two sites may both run "Integrated care for frail older people": their cases need
    # distinct names, so such an initiative's case also names its lead organisation.
    return (
        Initiative.objects.filter(study=initiative.study_id, name=initiative.name)
        .exclude(pk=initiative.pk)
        .exists()
    )


def create_initiative(
    *,
    study: Study,
    name: str,
    lead_organisation: Organisation,
    actor,
    description: str = "",
    partner_organisations: Iterable[Organisation] = (),
    sectors: Iterable[str] | str = (),
    leaders: Iterable[Participant] = (),
    benefits_targeted: Iterable[str] | str = (),
    status: str = Initiative.Status.UNDER_WAY,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    simulated: bool = False,
) -> Initiative:
    """Record a redesign initiative (and its case, so it can be a matrix row)."""
    partners, leaders = list(partner_organisations), list(leaders)
    values = {
        "name": name,
        "lead_organisation": lead_organisation,
        "status": status,
        "start_date": start_date,
        "end_date": end_date,
    }
    _check(study, values, partners, leaders)
    with transaction.atomic():
        initiative = Initiative.objects.create(
            study=study,
            name=" ".join(name.split())[:300],
            description=(description or "").strip(),
            lead_organisation=lead_organisation,
            sectors=_as_list(sectors, "sectors"),
            benefits_targeted=_as_list(benefits_targeted, "benefits_targeted"),
            status=status,
            start_date=start_date,
            end_date=end_date,
            is_simulated=simulated,
        )
        initiative.partner_organisations.set(partners)
        initiative.leaders.set(leaders)
        record(
            actor=actor,
            action="initiative.create",
            obj=initiative,
            study_id=study.id,
            after=_after(initiative),
        )
        # Rename an earlier namesake's case too, so both name their lead organisation.
        for other in Initiative.objects.filter(study=study, name=initiative.name).exclude(
            pk=initiative.pk
        ):
            case = other.cases.filter(kind=Case.Kind.INITIATIVE).first()
            wanted = f"{other.name} ({other.lead_organisation.name})"
            if case is not None and case.name != wanted:
                case.name = wanted
                case.save(update_fields=["name"])
        initiative_case(initiative, actor=actor)
    return initiative


def update_initiative(*, initiative: Initiative, actor, **changes) -> Initiative:
    """Change any of the fields ``create_initiative`` takes (partners and leaders replace)."""
    allowed = set(FIELDS) - {"is_simulated"} | {"partner_organisations", "leaders"}
    unknown = set(changes) - allowed
    if unknown:
        raise InitiativeError(
            f"cannot change {', '.join(sorted(unknown))}.", field=sorted(unknown)[0]
        )
    partners = changes.pop("partner_organisations", None)
    leaders = changes.pop("leaders", None)
    merged = {"start_date": initiative.start_date, "end_date": initiative.end_date, **changes}
    _check(initiative.study, merged, partners, leaders)
    with transaction.atomic():
        before = _after(initiative)
        for field, value in changes.items():
            if field in ("sectors", "benefits_targeted"):
                value = _as_list(value, field)
            elif field == "name":
                value = " ".join(value.split())[:300]
            elif field == "description":
                value = (value or "").strip()
            setattr(initiative, field, value)
        initiative.save()
        if partners is not None:
            initiative.partner_organisations.set(partners)
        if leaders is not None:
            initiative.leaders.set(leaders)
        after = _after(initiative)
        if after != before:
            record(
                actor=actor,
                action="initiative.update",
                obj=initiative,
                study_id=initiative.study_id,
                before=before,
                after=after,
            )
            case = initiative.cases.filter(kind=Case.Kind.INITIATIVE).first()
            if case is not None and "name" in changes and case.name != initiative.name:
                case.name = initiative.name
                case.save(update_fields=["name"])
            initiative_case(initiative, actor=actor)
    return initiative


def link_sources(*, initiative: Initiative, sources: Iterable[Source], actor) -> Initiative:
    sources = list(sources)
    for source in sources:
        if source.study_id != initiative.study_id:
            raise InitiativeError(f'source "{source}" is in another study.', field="sources")
    with transaction.atomic():
        have = set(initiative.sources.values_list("id", flat=True))
        new = [s for s in sources if s.id not in have]
        if new:
            initiative.sources.add(*new)
            record(
                actor=actor,
                action="initiative.link_sources",
                obj=initiative,
                study_id=initiative.study_id,
                after={"sources": [s.id for s in new]},
            )
            attach_sources_to_case(
                case=initiative_case(initiative, actor=actor), sources=new, actor=actor
            )
    return initiative


def link_codings(*, initiative: Initiative, codings: Iterable[Coding], actor) -> Initiative:
    codings = list(codings)
    for coding in codings:
        if coding.source.study_id != initiative.study_id:
            raise InitiativeError("a coding of another study.", field="codings")
    with transaction.atomic():
        have = set(initiative.codings.values_list("id", flat=True))
        new = [c for c in codings if c.id not in have]
        if new:
            initiative.codings.add(*new)
            record(
                actor=actor,
                action="initiative.link_codings",
                obj=initiative,
                study_id=initiative.study_id,
                after={"codings": [c.id for c in new]},
            )
    return initiative


def unlink(
    *, initiative: Initiative, actor, sources: Iterable[Source] = (), codings: Iterable[Coding] = ()
) -> Initiative:
    sources, codings = list(sources), list(codings)
    with transaction.atomic():
        if sources:
            initiative.sources.remove(*sources)
        if codings:
            initiative.codings.remove(*codings)
        if sources or codings:
            record(
                actor=actor,
                action="initiative.unlink",
                obj=initiative,
                study_id=initiative.study_id,
                after={"sources": [s.id for s in sources], "codings": [c.id for c in codings]},
            )
    return initiative


def add_initiative_memo(*, initiative: Initiative, text: str, author, title: str = "") -> Memo:
    return add_memo(
        study=initiative.study, text=text, author=author, title=title, initiative=initiative
    )


def initiative_segments(initiative: Initiative, *, visible_to=None) -> list[Coding]:
    """Codings linked to the initiative directly or lying in its linked sources."""
    from .queries import visibility_filter

    codings = Coding.objects.filter(
        Q(pk__in=initiative.codings.values("pk")) | Q(source__in=initiative.sources.values("pk")),
        source__study=initiative.study_id,
    )
    if visible_to is not None:
        codings = codings.filter(visibility_filter(initiative.study, visible_to))
    return list(
        codings.select_related("code", "source", "coder").order_by("source_id", "start", "id")
    )
