"""The practitioner report: what the study found, in plain language, for the leaders,
managers and clinicians of commissioning bodies. Pure: shapes an ``Evidence`` bundle.

Every figure quoted comes from a stored record (a ``Num`` with its ``Cite``); quotes are
pseudonymised segments attributed by role and pseudonym; findings are grouped by the
study's research questions.
"""

from __future__ import annotations

from .document import Bullets, Figure, Heading, Para, Quote, Section, Table
from .evidence import (
    MISSING,
    ROLE_LABELS_PLAIN,
    CodeFacts,
    Evidence,
    QuoteFacts,
    answer_share,
    count,
    dec,
    effect_format,
    latest_wave_with,
    likert_figure,
    lower_first,
    pct,
    share_agreeing,
    share_num,
)

TITLE = "Clinical leadership in commissioning: what we found"
SUBTITLE = (
    "A report for leaders, managers and clinicians in commissioning bodies — clinical "
    "commissioning groups then, integrated care boards today — and Health and Wellbeing Boards"
)

# Plain wording for the built-in study's survey items: "<share> of members …".
ITEM_PHRASES = {
    "infl_ccg": "said their CCG had quite a lot of, or very extensive, influence over the "
    "commissioning and redesign of local services",
    "infl_la": "said the local authority had quite a lot of, or very extensive, influence over "
    "local health services",
    "infl_hwb": "said the Health and Wellbeing Board had quite a lot of, or very extensive, "
    "influence over local services",
    "infl_providers": "said the main hospital and community providers had quite a lot of, or "
    "very extensive, influence",
    "infl_nhse": "rated NHS England's influence over what their CCG does as quite a lot or very "
    "extensive",
    "infl_gps": "said the GPs on the governing body had quite a lot of, or very extensive, "
    "influence over its decisions",
    "infl_managers": "said senior managers had quite a lot of, or very extensive, influence over "
    "the CCG's decisions",
    "vision_set": "said clinicians, more than managers, set their CCG's vision",
    "comm_secondary": "rated communication with hospital (secondary-care) clinicians as good or "
    "very good",
    "comm_public": "rated communication with patients and the public as good or very good",
    "clinical_centrality": "said clinical leaders were central to a significant proportion, or "
    "nearly all, of their redesigns",
    "hwb_scope": "agreed that the Health and Wellbeing Board gives clinicians real scope to "
    "shape services across health and social care",
    "benefits_achieved": "said the benefits sought had so far been achieved moderately or a lot",
}
RQ_HEADINGS = {
    1: "How clinicians are engaged and lead",
    2: "The scope for clinical leadership in redesign",
    3: "The benefits that redesign aims at",
    4: "What helps and what gets in the way",
}
# Chart per RQ: the items with this prefix (one answer scale), when the RQ has them.
RQ_CHART_PREFIX = {1: "mode_", 2: "scope_", 3: "benefits_", 4: "factor_"}
TOP_ITEMS, BOTTOM_ITEMS = 3, 2
CODES_PER_RQ = 3
SOURCE_KIND_WORDS = {
    "interview": ("interview", "interviews"),
    "group_interview": ("group interview", "group interviews"),
    "observation_notes": ("set of observation notes", "sets of observation notes"),
    "document": ("document", "documents"),
}
STATUS_WORDS = {
    "planned": "planned",
    "under_way": "under way",
    "implemented": "implemented",
    "stalled": "stalled",
    "abandoned": "abandoned",
}
VERDICT_WORDS = {
    "supported": "held across England",
    "not_supported": "did not hold across England",
    "inconclusive": "could not be settled by the national survey",
}


def item_phrase(ev: Evidence, wave: int, name: str) -> str:
    """What a share of members said about an item, in words."""
    if name in ITEM_PHRASES:
        return ITEM_PHRASES[name]
    info = ev.items.get(name)
    label = lower_first(info.label.rstrip(".?")) if info else name
    found = share_agreeing(ev, wave, name)
    agreeing = str(found[0].value(found[1], "agreeing") or "") if found else ""
    agreeing = lower_first(agreeing).lower()
    if name.startswith("mode_"):
        return f"said their CCG engages clinicians through {label} {agreeing}"
    if name.startswith("scope_"):
        return f"said commissioning gives clinicians scope to shape {label} {agreeing}"
    if name.startswith("factor_"):
        return f"said {label} had helped redesign ({agreeing})"
    if info and info.list_name == "agreement":
        return f"agreed that “{info.label.rstrip('.')}”"
    return f"answered “{agreeing}” to “{info.label if info else name}”"


def wave_year(ev: Evidence, number: int) -> str:
    wave = ev.wave(number)
    return wave.field_start[:4] if wave and wave.field_start else f"wave {number}"


def both_waves(ev: Evidence, name: str) -> list:
    """ "58% in 2014 and 60% in 2016" as inline pieces (only the waves that asked)."""
    pieces: list = []
    asked = [w.number for w in ev.waves if share_agreeing(ev, w.number, name)]
    for i, number in enumerate(asked):
        if i:
            pieces.append(" and " if i == len(asked) - 1 else ", ")
        pieces += [share_num(ev, number, name), f" in {wave_year(ev, number)}"]
    return pieces


def plural_word(n: int, words) -> str:
    """The noun for ``n`` things: ("interview", "interviews"); a plain word gets an "s"."""
    one, many = words if isinstance(words, tuple) else (words, words + "s")
    return one if n == 1 else many


def listing(pairs: list[tuple]) -> list:
    """[(Num, noun), …] as inline pieces: "1 document, 10 interviews"."""
    pieces: list = []
    for i, (num, noun) in enumerate(pairs):
        if i:
            pieces.append(", ")
        pieces += [num, f" {noun}"]
    return pieces


def build(ev: Evidence) -> tuple[str, str, tuple[Section, ...]]:
    sections = [
        _at_a_glance(ev),
        _about(ev),
        _findings(ev),
        _typology(ev),
        _vignettes(ev),
        _generalisation(ev),
        _implications(ev),
        _about_evidence(ev),
    ]
    return TITLE, SUBTITLE, tuple(s for s in sections if s is not None)


# --------------------------------------------------------------------------- at a glance


def headline(ev: Evidence, indicator: str, wave: int):
    """A stored headline share: everyone asked counted, no finite population correction
    (as the published figures were)."""
    table = ev.result("headline_estimates")
    if table is None:
        return MISSING
    for i in table.where(indicator=indicator, wave=wave, denominator="everyone asked"):
        if "no fpc" in str(table.value(i, "population")):
            return table.num(i, "share")
    return MISSING


def _at_a_glance(ev: Evidence) -> Section:
    bullets = []
    waves = [w.number for w in ev.waves]
    first, last = (waves[0], waves[-1]) if waves else (None, None)
    if first is not None:
        a, b = headline(ev, "vision_set=equally", first), headline(ev, "vision_set=equally", last)
        if a != MISSING and first != last and b != MISSING:
            bullets.append(
                (
                    "A clinician–manager partnership is taking shape: the share of governing-body "
                    "members who said the vision is set equally by managers and clinicians went "
                    "from ",
                    a,
                    f" in {wave_year(ev, first)} to ",
                    b,
                    f" in {wave_year(ev, last)}.",
                )
            )
        nearly = headline(ev, "clinical_centrality=nearly_all", first)
        significant = headline(ev, "clinical_centrality=significant_proportion", first)
        if nearly != MISSING and significant != MISSING:
            bullets.append(
                (
                    "Clinical leaders are at the heart of much redesign: ",
                    nearly,
                    " said they were central to nearly all service redesigns and ",
                    significant,
                    f" to a significant proportion ({wave_year(ev, first)}).",
                )
            )
    roles = ev.result("role_shares")
    if roles is not None and last is not None:
        top = roles.first(wave=last, item="infl_ccg", role_group="Chairs and accountable officers")
        low = roles.first(wave=last, item="infl_ccg", role_group="Finance officers and GP members")
        if top is not None and low is not None:
            bullets.append(
                (
                    "Views depend on where you sit: ",
                    roles.num(top, "share_agreeing"),
                    " of chairs and accountable officers rated their CCG's influence highly, "
                    "against ",
                    roles.num(low, "share_agreeing"),
                    f" of finance officers and GP members ({wave_year(ev, last)}).",
                )
            )
    if last is not None and share_agreeing(ev, last, "infl_nhse"):
        bullets.append(
            (
                "NHS England looms large: ",
                share_num(ev, last, "infl_nhse"),
                " rated its influence over their CCG as quite a lot or very extensive "
                f"({wave_year(ev, last)}).",
            )
        )
    profiles = ev.result("typology_profiles")
    choice = ev.result("typology_model_choice")
    if profiles is not None and choice is not None:
        chosen = choice.first(chosen=True)
        if chosen is not None:
            bullets.append(
                (
                    "CCGs engage clinicians in recognisably different ways: the survey sorts "
                    "them into ",
                    choice.num(chosen, "classes", count),
                    " types of engagement (see “Types of engagement”).",
                )
            )
    if any(p.verdict for p in ev.integration.propositions):
        bullets.append(
            (
                "Of ",
                ev.integration.verdict_num(),
                " case-study findings tested nationally in the second survey, ",
                ev.integration.verdict_num("supported"),
                " held across England (see “What held across England and what did not”).",
            )
        )
    lead = (
        "This study followed how clinical commissioning groups (CCGs) in England engaged "
        "clinicians and used clinical leadership to redesign services, through two national "
        "surveys of governing-body members and case studies of individual CCGs. The main "
        "messages:",
    )
    blocks = [Para(lead, "lead")]
    if bullets:
        blocks.append(Bullets(tuple(bullets)))
    else:
        blocks.append(Para(("The survey results are not yet available for this study.",), "note"))
    return Section("At a glance", tuple(blocks))


# --------------------------------------------------------------------------- about


def _about(ev: Evidence) -> Section:
    s = ev.study
    blocks = []
    if s.aim:
        blocks.append(Para((f"The study's aim: {lower_first(s.aim)}",)))
    blocks.append(Heading(1, "How the study worked"))
    phases = [(f"{name}.",) for _order, _kind, name, _status, _produces in s.phases]
    if phases:
        blocks.append(Para(("The study ran in phases, each building on the one before:",)))
        blocks.append(Bullets(tuple(phases), ordered=True))
    who = []
    for wave in ev.waves:
        who.append(
            (
                f"{wave.name}: ",
                wave.bucket_num("I"),
                " complete interviews from ",
                wave.cases_num(),
                " governing-body members approached; response rate (AAPOR RR3) ",
                wave.rate_num("RR3", 0),
                ".",
            )
        )
    cw = ev.casework
    if cw.count("sources").value:
        who.append(
            (
                "Case studies: ",
                cw.count("sources").num(),
                " interviews, group interviews, observations and documents from ",
                cw.count("sites").num(),
                " CCGs (",
                cw.count("sites/pilot_case_studies").num(),
                " scoping sites and ",
                cw.count("sites/in_depth_case_studies").num(),
                " in-depth sites), with ",
                cw.count("speakers").num(),
                " participants speaking.",
            )
        )
    if who:
        blocks.append(Heading(1, "Who took part"))
        blocks.append(Bullets(tuple(who)))
    figure = _response_figure(ev)
    if figure is not None:
        blocks.append(figure)
    return Section("About the study", tuple(blocks))


def _response_figure(ev: Evidence) -> Figure | None:
    from .figures import bars

    labels, values, cites = [], [], []
    for wave in ev.waves:
        for rate, words in (("RR3", "response rate (RR3)"), ("COOP1", "cooperation rate (COOP1)")):
            value = wave.rates.get(rate)
            if value is None:
                continue
            labels.append(f"Wave {wave.number} ({wave_year(ev, wave.number)}): {words}")
            values.append(value)
            cites.append(f"wave {wave.number} {rate}")
    if not values:
        return None
    title = "Survey response and cooperation rates"
    return Figure(
        caption="Response and cooperation rates of the national surveys (AAPOR Standard "
        "Definitions).",
        svg=bars(labels, values, title=title),
        alt=title
        + ": "
        + "; ".join(f"{label} {pct(v)}" for label, v in zip(labels, values, strict=True))
        + ".",
        cite=ev.waves[0].rate_num("RR3").cite if ev.waves[0].rates.get("RR3") else None,
        key="response-rates",
    )


# --------------------------------------------------------------------------- findings by RQ


def _findings(ev: Evidence) -> Section:
    subsections = []
    for number, short_name, text in ev.study.rqs:
        subsections.append(_rq_section(ev, number, short_name, text))
    blocks = (
        Para(
            (
                "The findings are arranged by the study's four research questions. For each, "
                "the national surveys say how common something is; the case studies say how and "
                "why it happens.",
            )
        ),
    )
    return Section("Key findings", blocks, tuple(subsections))


def survey_items(ev: Evidence, rq: int) -> list[tuple[str, int, float]]:
    """(item, latest wave, share) for the RQ's items with a stored share, highest first."""
    found = []
    for info in ev.items_for_rq(rq):
        wave = latest_wave_with(ev, info.name)
        if wave is None:
            continue
        table, row = share_agreeing(ev, wave, info.name)
        value = table.value(row, "share")
        if isinstance(value, int | float):
            found.append((info.name, wave, float(value)))
    return sorted(found, key=lambda t: (-t[2], t[0]))


def top_codes(ev: Evidence, rq: int, limit: int = CODES_PER_RQ) -> list[CodeFacts]:
    codes = [
        c for c in ev.casework.codes if rq in c.rqs and c.parent_path and c.segments and c.quotes
    ]
    return sorted(codes, key=lambda c: (-c.sites, -c.segments, c.path))[:limit]


def quote_block(quote: QuoteFacts) -> Quote:
    return Quote(quote.text, quote.attribution, quote.cite())


def _rq_section(ev: Evidence, rq: int, short_name: str, text: str) -> Section:
    blocks: list = [Para((f"RQ{rq}. {text}",), "note")]
    items = survey_items(ev, rq)
    if items:
        blocks.append(Heading(1, "What the national surveys show"))
        chosen = items[:TOP_ITEMS] + [
            i for i in items[-BOTTOM_ITEMS:] if i not in items[:TOP_ITEMS]
        ]
        lines = []
        for name, _wave, _share in chosen:
            lines.append(
                tuple(["Members ", item_phrase(ev, _wave, name), ": ", *both_waves(ev, name), "."])
            )
        blocks.append(Bullets(tuple(lines)))
        if rq == 4:
            blocks += _blockers(ev)
        prefix = RQ_CHART_PREFIX.get(rq)
        chart_items = [n for n, _w, _s in items if prefix and n.startswith(prefix)]
        if chart_items:
            wave = max(w for n, w, _s in items if n in chart_items)
            ordered = [n for n in (i.name for i in ev.items_for_rq(rq)) if n in chart_items]
            figure = likert_figure(
                ev,
                wave,
                ordered,
                f"RQ{rq}: {RQ_HEADINGS.get(rq, short_name)} ({wave_year(ev, wave)})",
                f"Answers of governing-body members ({wave_year(ev, wave)}), shares of those "
                "giving a substantive answer; weighted.",
            )
            if figure is not None:
                blocks.append(figure)
    else:
        blocks.append(Para(("No survey results for this question are stored yet.",), "note"))
    codes = top_codes(ev, rq)
    if codes:
        blocks.append(Heading(1, "What people told us"))
        for code in codes:
            blocks.append(
                Para(
                    (
                        f"{code.name}: raised in ",
                        code.segments_num(),
                        " passages from ",
                        code.sources_num(),
                        " interviews, observations and documents, at ",
                        code.sites_num(),
                        " sites. ",
                        code.definition,
                    )
                )
            )
            blocks.append(quote_block(code.quotes[0]))
    if rq == 3:
        blocks += _benefits(ev)
    findings = [f for f in ev.integration.findings if f.rq == rq]
    if findings:
        blocks.append(Heading(1, "Findings agreed by the research team"))
        blocks.append(Bullets(tuple((finding_text(f),) for f in findings)))
    return Section(f"RQ{rq}: {RQ_HEADINGS.get(rq, short_name)}", tuple(blocks))


def finding_text(finding) -> str:
    """A finding with its strand, unless its statement already opens with it ("Wave 2: …")."""
    if finding.statement.lower().startswith(("wave ", finding.strand_label.lower())):
        return finding.statement
    return f"{finding.strand_label}: {finding.statement}"


def _blockers(ev: Evidence) -> list:
    """The factors most often said to have hindered redesign ("hindered a lot")."""
    factors = [i for i in ev.items.values() if i.name.startswith("factor_") and i.scale]
    if not factors:
        return []
    scored = []
    for info in factors:
        wave = latest_wave_with(ev, info.name)
        if wave is None:
            continue
        num = answer_share(ev, wave, info.name, info.scale[0])
        if num != MISSING:
            scored.append((-num.value, info.name, wave, num))
    scored.sort(key=lambda t: (t[0], t[1]))
    if not scored:
        return []
    lines = tuple(
        (
            f"{ev.items[name].label}: ",
            num,
            f" said it hindered redesign a lot ({wave_year(ev, wave)}).",
        )
        for _v, name, wave, num in scored[:3]
    )
    return [Para(("The factors most often said to have held redesign back:",)), Bullets(lines)]


def _benefits(ev: Evidence) -> list:
    cw = ev.casework
    if not cw.benefits:
        return []
    lines = tuple(
        (
            f"{benefit.capitalize()}: ",
            cw.count(f"initiatives/benefit/{benefit}").num(),
            " of the ",
            cw.count("initiatives").num(),
            " redesign initiatives followed.",
        )
        for benefit, _n in cw.benefits
    )
    return [
        Heading(1, "Benefits the redesigns aimed at"),
        Para(("In the case-study sites, the redesign initiatives set out to achieve:",)),
        Bullets(lines),
    ]


# --------------------------------------------------------------------------- typology


def class_rows(ev: Evidence) -> dict[int, list[int]]:
    profiles = ev.result("typology_profiles")
    out: dict[int, list[int]] = {}
    if profiles is None:
        return out
    for i, row in enumerate(profiles.rows):
        out.setdefault(int(row["typology_class"]), []).append(i)
    return out


def top_column(profiles, row: int) -> str:
    """The column holding the probability of the scale's top answer ("p_a_lot")."""
    columns = [c for c in profiles.rows[row] if c.startswith("p_")]
    return columns[-1]


def class_name(ev: Evidence, cls: int, rows: list[int]) -> str:
    profiles = ev.result("typology_profiles")
    tops = [(profiles.value(r, top_column(profiles, r)) or 0.0, r) for r in rows]
    mean_top = sum(v for v, _ in tops) / len(tops)
    best = max(tops)[1]
    mode = ev.items.get(profiles.value(best, "item"))
    mode_label = lower_first(mode.label) if mode else str(profiles.value(best, "item"))
    if mean_top >= 0.5:
        return "Broad engagement through many routes"
    if mean_top >= 0.25:
        return f"Engagement led by {mode_label}"
    return "Limited engagement beyond formal roles"


def _class_count(ev: Evidence, fallback: int) -> tuple:
    choice = ev.result("typology_model_choice")
    row = choice.first(chosen=True) if choice is not None else None
    if row is None:
        return (count(fallback),)
    return (choice.num(row, "classes", count),)


def _typology(ev: Evidence) -> Section | None:
    from .figures import bars

    profiles = ev.result("typology_profiles")
    if profiles is None:
        return Section(
            "Types of engagement",
            (
                Para(
                    ("The typology of engagement has not been estimated for this study yet.",),
                    "note",
                ),
            ),
        )
    classes = class_rows(ev)
    blocks: list = [
        Para(
            (
                "Grouping CCGs by how much they engage clinicians through each route — "
                "governing-body roles, clinical leads, localities, networks, hospital and "
                "community clinicians, and patients and the public — gives ",
                *_class_count(ev, len(classes)),
                " recognisable types. Each CCG's type comes from its members' combined answers.",
            )
        )
    ]
    labels = []
    values = []
    for cls, rows in sorted(classes.items()):
        labels.append(f"Type {cls}: {class_name(ev, cls, rows)}")
        values.append(profiles.value(rows[0], "class_share"))
    blocks.append(
        Figure(
            caption="Share of CCGs of each type of engagement (latent class model).",
            svg=bars(labels, values, title="CCGs by type of engagement"),
            alt="CCGs by type of engagement: "
            + "; ".join(f"{label} {pct(v)}" for label, v in zip(labels, values, strict=True))
            + ".",
            cite=profiles.cite(0, "class_share"),
            key="typology-sizes",
        )
    )
    membership = ev.result("typology_membership")
    subsections = []
    for cls, rows in sorted(classes.items()):
        described = sorted(
            rows, key=lambda r: (-(profiles.value(r, top_column(profiles, r)) or 0.0), r)
        )
        strongest, weakest = described[:2], described[-2:]

        def mode(r):
            info = ev.items.get(profiles.value(r, "item"))
            return lower_first(info.label) if info else str(profiles.value(r, "item"))

        text: list = [
            "CCGs of this type make up ",
            profiles.num(rows[0], "class_share"),
            " of those classified (",
            ev.typology_count_num(cls),
            " CCGs). They engage clinicians most through ",
        ]
        for i, r in enumerate(strongest):
            if i:
                text.append(" and ")
            text += [mode(r), " (", profiles.num(r, top_column(profiles, r)), " “a lot”)"]
        text.append("; least through ")
        for i, r in enumerate(weakest):
            if i:
                text.append(" and ")
            text += [mode(r), " (", profiles.num(r, top_column(profiles, r)), ")"]
        text.append(".")
        blocks_c: list = [Para(tuple(text))]
        if membership is not None:
            sites = [
                s.label
                for s in ev.casework.sites
                if s.typology_row is not None
                and membership.value(s.typology_row, "typology_class") == cls
                and s.phase_kind == "in_depth_case_studies"
            ]
            if sites:
                blocks_c.append(
                    Para(
                        (
                            "In-depth case-study sites of this type: "
                            + ", ".join(sorted(sites))
                            + " (see the case vignettes).",
                        )
                    )
                )
        subsections.append(Section(f"Type {cls}: {class_name(ev, cls, rows)}", tuple(blocks_c)))
    stability = ev.result("typology_stability")
    if stability is not None and stability.rows:
        blocks.append(
            Para(
                (
                    "How firm are the types? Re-estimating them on resampled CCGs reproduced the "
                    "same grouping with an average adjusted Rand index of ",
                    stability.num(0, "mean_ari", dec),
                    " (1 would be identical every time), so treat the boundaries between types "
                    "as indicative.",
                ),
                "note",
            )
        )
    return Section("Types of engagement", tuple(blocks), tuple(subsections))


# --------------------------------------------------------------------------- vignettes


def _vignettes(ev: Evidence) -> Section:
    sites = [s for s in ev.casework.sites if s.phase_kind == "in_depth_case_studies"]
    if not sites:
        return Section(
            "Case vignettes",
            (Para(("No in-depth case-study material is stored for this study yet.",), "note"),),
        )
    membership = ev.result("typology_membership")
    subsections = []
    for site in sites:
        blocks: list = []
        intro: list = [f"{site.label} is one of the in-depth case-study sites. The material: "]
        intro += listing(
            [
                (site.sources_num(k), plural_word(n, SOURCE_KIND_WORDS.get(k, k)))
                for k, n in site.source_kinds
            ]
        )
        intro.append(".")
        if site.speakers_by_role:
            intro.append(" People who spoke: ")
            intro += listing(
                [
                    (site.speakers_num(r), plural_word(n, ROLE_LABELS_PLAIN.get(r, r)))
                    for r, n in site.speakers_by_role
                ]
            )
            intro.append(".")
        if membership is not None and site.typology_row is not None:
            intro += [
                " In the national survey its members' answers place it in type ",
                membership.num(site.typology_row, "typology_class", count),
                " of the engagement typology.",
            ]
        blocks.append(Para(tuple(intro)))
        if site.initiatives:
            blocks.append(
                Bullets(
                    tuple(
                        (
                            f"{i.name} ({STATUS_WORDS.get(i.status, i.status)}): across "
                            f"{', '.join(i.sectors) or 'one sector'}; aiming at "
                            f"{', '.join(i.benefits) or 'benefits not recorded'}.",
                        )
                        for i in site.initiatives
                    )
                )
            )
        for quote in site.quotes:
            blocks.append(quote_block(quote))
        subsections.append(Section(f"{site.label}", tuple(blocks)))
    intro = Para(
        (
            "Short portraits of the in-depth sites. Sites and people are pseudonymised: a "
            "site is named by its study pseudonym, a person by role and pseudonym.",
        )
    )
    return Section("Case vignettes", (intro,), tuple(subsections))


# --------------------------------------------------------------------------- generalisation


def _generalisation(ev: Evidence) -> Section:
    title = "What held across England and what did not"
    tested = [p for p in ev.integration.propositions if p.verdict]
    if tested:
        groups = {"supported": [], "not_supported": [], "inconclusive": []}
        for p in tested:
            groups.setdefault(p.verdict, []).append(p)
        blocks: list = [
            Para(
                (
                    "Findings from the case studies were written down as propositions and locked "
                    "before the second national survey was analysed; the survey then tested each "
                    "one across England.",
                )
            )
        ]
        for verdict, heading in (
            ("supported", "Held across England"),
            ("not_supported", "Did not hold across England"),
            ("inconclusive", "Not settled by the survey"),
        ):
            if not groups.get(verdict):
                continue
            blocks.append(Heading(1, heading))
            blocks.append(
                Bullets(
                    tuple(
                        (
                            f"{p.statement} Estimate ",
                            p.num("effect", effect_format(p.test)),
                            " (95% interval ",
                            p.num("ci_low", effect_format(p.test)),
                            " to ",
                            p.num("ci_high", effect_format(p.test)),
                            f"; RQ{p.rq}).",
                        )
                        for p in groups[verdict]
                    )
                )
            )
        return Section(title, tuple(blocks))
    blocks = [
        Para(
            (
                "The formal test of the case-study findings — propositions locked before the "
                "second survey and given a verdict from it — is not yet available for this study. "
                "This section will list them once the research team has recorded the verdicts.",
            ),
            "callout",
        )
    ]
    props = [i for i in ev.items.values() if i.name.startswith("prop_")]
    lines = []
    for info in props:
        wave = latest_wave_with(ev, info.name)
        if wave is None:
            continue
        table, row = share_agreeing(ev, wave, info.name)
        low, high = table.value(row, "ci_low"), table.value(row, "ci_high")
        if not isinstance(low, float) or not isinstance(high, float):
            continue
        reading = (
            "most members agreed"
            if low > 0.5
            else "most did not agree"
            if high < 0.5
            else "members were divided"
        )
        lines.append(
            (
                f"“{info.label.rstrip('.')}” — {reading}: ",
                table.num(row, "share"),
                " agreed (95% interval ",
                table.num(row, "ci_low"),
                " to ",
                table.num(row, "ci_high"),
                f"; {wave_year(ev, wave)}).",
            )
        )
    if lines:
        blocks.append(
            Para(
                (
                    "Meanwhile, the second survey asked members directly about the case-study "
                    "findings. An indicative reading — a majority agreeing when the whole 95% "
                    "interval is above one half, not agreeing when it is below:",
                )
            )
        )
        blocks.append(Bullets(tuple(lines)))
    return Section(title, tuple(blocks))


# --------------------------------------------------------------------------- implications


def _implications(ev: Evidence) -> Section:
    blocks: list = [
        Para(
            (
                "The companion guidance document turns these findings into graded "
                "recommendations for integrated care boards and Health and Wellbeing Boards, "
                "with a self-assessment checklist. In brief:",
            )
        )
    ]
    lines = []
    last = ev.waves[-1].number if ev.waves else None
    if last is not None and share_agreeing(ev, last, "mode_clinical_leads"):
        lines.append(
            (
                "Leadership needs more than seats on the board: clinical leads for programmes "
                "were a main route of engagement (",
                share_num(ev, last, "mode_clinical_leads"),
                " of members said they were used moderately or a lot).",
            )
        )
    if last is not None and share_agreeing(ev, last, "prop_grassroots"):
        lines.append(
            (
                "Reach the grassroots: only ",
                share_num(ev, last, "prop_grassroots"),
                " agreed that most GPs in member practices were actively engaged.",
            )
        )
    if last is not None and share_agreeing(ev, last, "prop_pipeline"):
        lines.append(
            (
                "Grow the next generation: ",
                share_num(ev, last, "prop_pipeline"),
                " agreed their area had enough clinicians ready to become future clinical leaders.",
            )
        )
    alliance = ev.casework.code("Emerging themes/Clinician–manager alliance")
    if alliance is not None and alliance.segments:
        lines.append(
            (
                "Invest in the clinician–manager alliance: it came up at ",
                alliance.sites_num(),
                " case-study sites as what made redesign work.",
            )
        )
    if lines:
        blocks.append(Bullets(tuple(lines)))
    return Section("What this means in practice", tuple(blocks))


# --------------------------------------------------------------------------- about the evidence


def _about_evidence(ev: Evidence) -> Section:
    blocks: list = [
        Para(
            (
                "Every figure in this report is read from the study's stored results and carries "
                "a reference to the table, cell or record it came from; the appendix lists the "
                "data snapshots, code version, parameters and seeds. Survey percentages are "
                "weighted to the governing-body membership of all CCGs and count substantive "
                "answers (“don't know” and “not applicable” left out) unless stated otherwise.",
            )
        )
    ]
    p = ev.casework.pseudonyms
    if p:
        blocks.append(
            Para(
                (
                    "Quotations come from the pseudonymised case-study material. People are named "
                    "by role and study pseudonym, organisations by pseudonym; identifiers still "
                    "awaiting review by the research team are withheld here as well.",
                )
            )
        )
    if ev.simulated:
        blocks.append(
            Para(
                (
                    "Simulated data: this report was built from the demonstration study, whose "
                    "survey answers, case-study material and codings were generated by "
                    "Triangulum's simulation ("
                    + ", ".join(ev.simulated_sources)
                    + "). None of it describes real people or real findings.",
                ),
                "callout",
            )
        )
    tables = []
    rows = []
    for wave in ev.waves:
        rows.append(
            (
                wave.name,
                f"{wave.field_start} to {wave.field_end}",
                ", ".join(wave.modes),
                wave.bucket_num("I"),
                wave.rate_num("RR3", 1),
            )
        )
    if rows:
        tables.append(
            Table(
                caption="The national surveys at a glance.",
                columns=(
                    "Survey",
                    "Fieldwork",
                    "Modes",
                    "Complete interviews",
                    "Response rate (RR3)",
                ),
                rows=tuple(rows),
                key="surveys-at-a-glance",
            )
        )
    return Section("About the evidence", tuple(blocks + tables))
