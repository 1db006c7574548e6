"""The demo's case studies: simulated material from the pilot and in-depth sites, coded
by two simulated coders who partly disagree, with initiatives, framework matrices, memos
and a pseudonymisation scan.

Every source opens with "SIMULATED TRANSCRIPT — not a real interview" and is stored with
``is_simulated``; the people are invented (see casework/simulation.py and
docs/simulated-case-studies.md). The CCGs are the real ones the purposive selection chose.
"""

from __future__ import annotations

import dataclasses
import json
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from triangulum.audit.actions import record
from triangulum.core.demo_registry import DemoContext, DemoStep
from triangulum.organisations.models import AreaLink
from triangulum.studies import actions as study_actions
from triangulum.studies.models import Phase

from . import actions, actions_initiatives, actions_privacy, simulation
from .models import Case, Code, Coding, ReliabilityAssignment, Source

ACTOR = "triangulum demo"
# Two simulated coders: the demo's coder codes everything, the researcher double-codes a
# share of the sources for the agreement check, a little less thoroughly.
CODERS = {
    "coder": simulation.CoderProfile(recall=0.88, boundary_drift=0.15, confusion=0.08),
    "researcher": simulation.CoderProfile(recall=0.78, boundary_drift=0.3, confusion=0.14),
}
DOUBLE_CODED_SHARE = 0.4
RELIABILITY_SOURCES = 4
CHARTED_ROWS = 3
CHARTED_COLUMNS = 2
PHASE_OF = {
    "pilot": Phase.Kind.PILOT_CASE_STUDIES,
    "in_depth": Phase.Kind.IN_DEPTH_CASE_STUDIES,
}


def _sites(sample) -> list:
    return [
        unit.organisation for unit in sample.units.select_related("organisation").order_by("id")
    ]


def _register_people(study, people, orgs) -> dict:
    participants = {}
    for person in people:
        participant = study_actions.register_participant(
            actor=ACTOR,
            study=study,
            role_category=person.role_category,
            organisation=orgs[person.site_key],
            is_simulated=True,
        )
        study_actions.set_participant_contact(
            actor=ACTOR,
            participant=participant,
            full_name=person.full_name,
            job_title=person.job_title,
            email=f"{person.surname.lower()}@example.org",
            notes="Simulated demo participant: not a real person.",
        )
        participants[person.key] = participant
    return participants


def _code_by_path(study) -> dict[str, Code]:
    codes = list(Code.objects.filter(study=study, is_active=True))
    by_id = {c.id: c for c in codes}
    return {actions.code_path(c, by_id): c for c in codes}


def _bulk_codings(study, sources, sim_by_key, codes, users, rng) -> dict[str, list[int]]:
    """Both coders' codings, written in bulk (one audit event per coder)."""
    version = actions.current_codebook_version(study)
    double = {
        s.key
        for s in sim_by_key.values()
        if rng.random() < DOUBLE_CODED_SHARE or s.kind != "interview"
    }
    made: dict[str, list[int]] = {}
    for username, profile in CODERS.items():
        coder = users[username]
        rows = []
        for key, source in sources.items():
            sim = sim_by_key[key]
            if username != "coder" and key not in double:
                continue
            for span in simulation.simulate_coder(sim.text, sim.spans, profile, rng):
                code = codes[simulation.THEMES_BY_KEY[span.theme].code_path]
                rows.append(
                    Coding(
                        source=source,
                        code=code,
                        start=span.start,
                        end=span.end,
                        coder=coder,
                        codebook_version=version,
                        is_simulated=True,
                    )
                )
        Coding.objects.bulk_create(rows, batch_size=1000)
        made[username] = [c.id for c in rows if c.id is not None]
        record(
            actor=ACTOR,
            action="coding.apply_simulated",
            obj=study,
            object_label=f"simulated codings by {username}",
            study_id=study.id,
            after={"coder": coder.id, "codings": len(rows), "codebook_version": version.number},
        )
    return made


def _agreement_json(report) -> dict:
    def plain(value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, float | int | str | bool) or value is None:
            return value
        return str(value)

    return plain(report)


def _chart(study, matrices, users) -> int:
    """Chart the first rows and columns of each matrix: a summary citing its segments."""
    from .framework import matrix_cases, matrix_codes, set_cell_summary
    from .queries import segments_for_code

    charted = 0
    for matrix in matrices:
        cases = matrix_cases(matrix)[:CHARTED_ROWS]
        for code in matrix_codes(matrix)[:CHARTED_COLUMNS]:
            segments = segments_for_code(study, code)
            for case in cases:
                mine = [s for s in segments if any(ref.id == case.id for ref in s.cases)][:3]
                if not mine:
                    continue
                quotes = "; ".join(f"“{s.text[:70].strip()}…”" for s in mine[:2])
                set_cell_summary(
                    matrix=matrix,
                    case=case,
                    code=code,
                    summary=(
                        f"Simulated summary: {len(mine)} segment(s) on {code.name.lower()} "
                        f"in {case.name}. {quotes}"
                    ),
                    segment_ids=[s.coding_id for s in mine],
                    actor=users["researcher"],
                )
                charted += 1
    return charted


def run(ctx: DemoContext) -> None:
    study = ctx.shared["study"]
    if study.sources.filter(is_simulated=True).exists():
        ctx.record("Case studies: simulated material already present (kept as it was)")
        return
    samples = ctx.shared["samples"]
    User = get_user_model()
    users = {name: User.objects.get(username=name) for name in ("lead", "researcher", "coder")}
    rng = random.Random(ctx.seed)

    actions.install_builtin_codebook(study=study, actor=ACTOR)
    codes = _code_by_path(study)
    pilot, in_depth = _sites(samples["pilot_sites"]), _sites(samples["in_depth_sites"])
    orgs = {o.id: o for o in [*pilot, *in_depth]}
    areas: dict[int, str] = {}
    for link in (
        AreaLink.objects.filter(commissioner__in=in_depth)
        .select_related("hwb")
        .order_by("commissioner_id", F("share_of_commissioner").desc(nulls_last=True), "hwb__name")
    ):
        areas.setdefault(link.commissioner_id, link.hwb.name)
    material = simulation.generate(
        [simulation.Site(o.id, o.name) for o in pilot],
        [simulation.Site(o.id, o.name, areas.get(o.id, "")) for o in in_depth],
        seed=ctx.seed,
    )
    phases = {kind: study.phases.filter(kind=kind).first() for kind in PHASE_OF.values()}

    with transaction.atomic():
        participants = _register_people(study, material.people, orgs)
        sources: dict[str, Source] = {}
        sim_by_key = {s.key: s for s in material.sources}
        for sim in material.sources:
            sources[sim.key] = actions.create_source_from_text(
                study=study,
                title=sim.title,
                text=sim.text,
                kind=sim.kind,
                actor=ACTOR,
                site=orgs[sim.site_key],
                phase=phases[PHASE_OF[sim.phase]],
                simulated=True,
                speaker_map={
                    label: participants[key] for label, key in sim.speakers.items() if key
                },
            )
        for org in orgs.values():
            actions.ensure_case(
                study=study,
                kind=Case.Kind.SITE,
                name=org.name,
                actor=ACTOR,
                organisation=org,
                attributes={
                    "region": org.region_name,
                    "site type": "in-depth" if org in in_depth else "pilot",
                },
            )
        for person in material.people:
            participant = participants[person.key]
            actions.ensure_case(
                study=study,
                kind=Case.Kind.PARTICIPANT,
                name=participant.pseudonym,
                actor=ACTOR,
                participant=participant,
                organisation=orgs[person.site_key],
                attributes={"role": participant.get_role_category_display()},
            )
        councils = {}
        for link in AreaLink.objects.filter(commissioner__in=in_depth).select_related("hwb"):
            councils.setdefault(link.commissioner_id, []).append(link.hwb)
        initiatives = {}
        for sim in material.initiatives:
            initiative = actions_initiatives.create_initiative(
                study=study,
                name=sim.name,
                lead_organisation=orgs[sim.site_key],
                actor=ACTOR,
                description=sim.description + " Partners: " + ", ".join(sim.partners) + ".",
                partner_organisations=councils.get(sim.site_key, []),
                sectors=sim.sectors,
                leaders=[participants[k] for k in sim.leader_keys],
                benefits_targeted=sim.benefits,
                status=sim.status,
                start_date=sim.start_date,
                simulated=True,
            )
            initiatives[sim.key] = initiative
            for partner in sim.partners:
                actions_privacy.add_identifier(
                    study=study, original=partner, actor=ACTOR, group="trust"
                )
        linked: dict[str, list[Source]] = {}
        for sim in material.sources:
            for key in sim.initiative_keys:
                linked.setdefault(key, []).append(sources[sim.key])
        for key, its_sources in linked.items():
            actions_initiatives.link_sources(
                initiative=initiatives[key], sources=its_sources, actor=ACTOR
            )

        made = _bulk_codings(study, sources, sim_by_key, codes, users, rng)
        # Both coders on a few in-depth interviews, blind: neither sees the other's codings.
        double_coded = sorted(
            {
                c.source_id
                for c in Coding.objects.filter(source__study=study, coder=users["researcher"])
            }
        )
        for source_id in double_coded[:RELIABILITY_SOURCES]:
            assignment = ReliabilityAssignment.objects.create(
                study=study, source_id=source_id, blind=True
            )
            assignment.coders.set([users["coder"], users["researcher"]])
            record(
                actor=ACTOR,
                action="reliability.assign",
                obj=assignment,
                study_id=study.id,
                after={"source": source_id, "coders": ["coder", "researcher"], "blind": True},
            )

        matrices = []
        charted = 0
        try:
            from . import framework
        except ImportError:  # pragma: no cover - C2's framework module ships with casework
            framework = None
        if framework is not None:
            matrices = framework.create_rq_matrices(
                study=study, case_kind=Case.Kind.SITE, actor=users["researcher"]
            )
            benefit_codes = [codes[path] for path in codes if path.startswith("RQ3 Benefits/")]
            matrices.append(
                framework.create_matrix(
                    study=study,
                    name="Initiatives × benefits targeted (RQ3)",
                    research_question=study.research_questions.filter(number=3).first(),
                    case_kind=Case.Kind.INITIATIVE,
                    codes=benefit_codes,
                    cases=list(Case.objects.filter(study=study, kind=Case.Kind.INITIATIVE)),
                    actor=users["researcher"],
                )
            )
            charted = _chart(study, matrices, users)

        first_source = sources[material.sources[0].key]
        actions.add_memo(
            study=study,
            author=users["researcher"],
            title="Scoping: who leads? (simulated)",
            text="Across the pilot sites the chairs describe leadership as collaborative; "
            "the accountable officers stress the managers' part. Check in the in-depth sites.",
            source=first_source,
        )
        actions.add_memo(
            study=study,
            author=users["coder"],
            title="Boundary of 'Managerial support' (simulated)",
            text="Statements about the clinician–manager alliance go under Emerging themes, "
            "not Managerial support, unless a manager's practical help is described.",
            code=codes["RQ4 Enablers and blockers/Managerial support"],
        )
        for initiative in list(initiatives.values())[:2]:
            actions_initiatives.add_initiative_memo(
                initiative=initiative,
                author=users["lead"],
                text=f"Simulated memo: follow the {initiative.name.lower()} through its "
                "business case, the board minutes and the partners' accounts.",
            )

        scan = actions_privacy.scan_study(study=study, actor=ACTOR)
        # The lead accepts the people and the numbers; the organisations wait in the
        # review queue, as they would after a first pass.
        register = actions_privacy.register_for(study)
        for kind in ("email", "phone", "postcode", "participant"):
            actions_privacy.accept_all_of_kind(
                study=study, kind=kind, actor=users["lead"], register=register
            )

    report = None
    try:
        from .queries import agreement_for_sources

        # The reliability check: both coders on the sources set aside for it.
        checked = list(
            ReliabilityAssignment.objects.filter(study=study).values_list("source_id", flat=True)
        )
        report = agreement_for_sources(study, checked, [users["coder"], users["researcher"]])
    except Exception as error:  # noqa: BLE001 - the demo reports and goes on
        ctx.record(f"Case studies: agreement not computed ({error})")
    ctx.outputs.mkdir(parents=True, exist_ok=True)
    if report is not None:
        path = ctx.outputs / "casework_agreement.json"
        path.write_text(
            json.dumps(_agreement_json(report), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        ctx.record("Agreement between the two simulated coders (JSON)", path)
    from .codebook.csvio import write_codebook_csv
    from .queries import codebook_records

    path = ctx.outputs / "casework_codebook.csv"
    path.write_text(write_codebook_csv(codebook_records(study)), encoding="utf-8", newline="")
    ctx.record("Case-study codebook (CSV)", path)
    export = actions_privacy.export_anonymised(
        study=study, out=ctx.outputs / "casework_anonymised.zip", actor=ACTOR, with_qdpx=False
    )
    ctx.record(
        f"Anonymised case-study texts and codings ({export.replacements} replacements)",
        export.path,
    )
    ctx.record(
        f"Case studies (simulated): {len(material.sources)} sources from {len(pilot)} pilot and "
        f"{len(in_depth)} in-depth sites, {len(material.people)} simulated participants, "
        f"{sum(len(v) for v in made.values())} codings by two simulated coders, "
        f"{len(initiatives)} initiatives, {len(matrices)} framework matrices "
        f"({charted} cells charted), {scan.added} pseudonymisation candidates"
    )
    ctx.shared["casework"] = {
        "sources": sources,
        "participants": participants,
        "initiatives": initiatives,
        "matrices": matrices,
        "coders": ["coder", "researcher"],
        "agreement": report,
    }


STEPS = [DemoStep("Simulate, code and chart the case studies", run)]
