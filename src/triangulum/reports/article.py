"""The article pack: the tables an academic article (and its supplement) needs, read from
the study's stored results, with the reporting checklists filled from its records.
Pure: shapes an ``Evidence`` bundle.

Tables: design and samples; Table 1 (respondents against the frame); AAPOR dispositions
and outcome rates; weights; Likert items (share in the top two points, full
distributions); scale reliability; ordinal regression and design-adjusted tests by role;
change between waves; the typology (model choice, class profiles, sizes, stability); the
case studies (sources, participants, codebook, agreement); integration (convergence
matrix, propositions and their verdicts, joint displays); COREQ, GRAMMS and AAPOR.
"""

from __future__ import annotations

from .checklists import (
    CASES,
    DESIGN,
    INTEGRATION,
    LIKERT,
    OUTCOMES,
    ROLES,
    SAMPLE,
    TYPOLOGY,
    all_checklists,
)
from .document import Figure, Heading, Para, Section, Table
from .evidence import (
    MISSING,
    Evidence,
    ResultTable,
    count,
    dec,
    effect_format,
    likert_figure,
    pct,
    pvalue,
    short_label,
)

TITLE = "Article pack: tables, figures and reporting checklists"
SUBTITLE = "Ready-to-use tables for academic articles, each number traceable to its stored result"

BUCKET_LABELS = {
    "I": "Complete interview (1.1)",
    "P": "Partial interview (1.2)",
    "R": "Refusal and break-off (2.1)",
    "NC": "Non-contact (2.2)",
    "O": "Other eligible, no interview (2.3)",
    "UH": "Unknown if eligible: household/unit (3.1)",
    "UO": "Unknown eligibility, other (3.2–3.9)",
    "NE": "Not eligible (4)",
}
BUCKETS = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")
RATES = (
    ("RR1", "Response rate 1: completes over all cases of known and unknown eligibility"),
    ("RR2", "Response rate 2: as RR1, partials counted as interviews"),
    ("RR3", "Response rate 3: as RR1, unknown cases discounted by e"),
    ("RR4", "Response rate 4: as RR3, partials counted as interviews"),
    ("RR5", "Response rate 5: completes over eligible cases of known eligibility"),
    ("RR6", "Response rate 6: as RR5, partials counted"),
    ("COOP1", "Cooperation rate 1: completes over contacted eligible cases"),
    ("COOP2", "Cooperation rate 2: as COOP1, partials counted"),
    ("COOP3", "Cooperation rate 3: completes over those able to take part"),
    ("COOP4", "Cooperation rate 4: as COOP3, partials counted"),
    ("REF1", "Refusal rate 1"),
    ("REF2", "Refusal rate 2 (unknowns discounted by e)"),
    ("REF3", "Refusal rate 3 (known eligibility only)"),
    ("CON1", "Contact rate 1"),
    ("CON2", "Contact rate 2 (unknowns discounted by e)"),
    ("CON3", "Contact rate 3 (known eligibility only)"),
)
VARIABLE_LABELS = {
    "region": "Region",
    "size_band": "CCG size (registered patients)",
    "role_group": "Role",
}
ROLE_GROUPS = {
    "chair_or_accountable_officer": "Chairs and accountable officers",
    "finance_officer_or_gp_member": "Finance officers and GP members",
    "other_member": "Other members",
}
STRAND_LABELS = {
    "pilot": "Pilot case studies",
    "wave1": "Survey wave 1",
    "indepth": "In-depth case studies",
    "wave2": "Survey wave 2",
}


def _wave_short(ev: Evidence, wave) -> str:
    year = wave.field_start[:4]
    return f"wave {wave.number}" + (f" ({year})" if year else "")


def p1(value: float) -> str:
    return pct(value, 1)


def build(ev: Evidence) -> tuple[str, str, tuple[Section, ...]]:
    sections = [
        _about(ev),
        _design(ev),
        _sample(ev),
        _outcomes(ev),
        _likert(ev),
        _roles(ev),
        _waves(ev),
        _typology(ev),
        _cases(ev),
        _integration(ev),
        _checklists(ev),
    ]
    return TITLE, SUBTITLE, tuple(s for s in sections if s is not None)


def _absent(title: str, what: str) -> Section:
    return Section(title, (Para((f"{what} not yet available for this study.",), "note"),))


# --------------------------------------------------------------------------- about


def _about(ev: Evidence) -> Section:
    blocks: list = [
        Para(
            (
                "The tables below are built from the study's stored analysis results and "
                "records. Each number cites the stored table and cell (or record) it was read "
                "from; the provenance appendix gives the data snapshots, code versions, "
                "parameters and seeds, so the pack can be rebuilt and checked. Percentages are "
                "given to one decimal place; survey estimates are weighted and their intervals "
                "allow for members being clustered in CCGs.",
            )
        )
    ]
    if ev.simulated:
        blocks.append(
            Para(
                (
                    "Simulated data: every table here comes from the demonstration study's "
                    "simulated records (" + ", ".join(ev.simulated_sources) + ") and must not be "
                    "published as findings.",
                ),
                "callout",
            )
        )
    return Section("About this pack", tuple(blocks))


# --------------------------------------------------------------------------- design


def _design(ev: Evidence) -> Section:
    s = ev.study
    blocks: list = []
    facts = [
        f"{label}: {value}"
        for label, value in (
            ("Funder", f"{s.funder}{' (' + s.funding_amount + ')' if s.funding_amount else ''}"),
            ("Host", s.host),
            ("Dates", f"{s.start_date} to {s.end_date}" if s.start_date else ""),
        )
        if value and value.strip(" ()")
    ]
    if facts:
        blocks.append(Para(("; ".join(facts) + ".",)))
    if s.rqs:
        blocks.append(
            Table(
                caption="Research questions.",
                columns=("RQ", "Short name", "Question"),
                rows=tuple((f"RQ{n}", short, text) for n, short, text in s.rqs),
                key="research-questions",
            )
        )
    if s.phases:
        blocks.append(
            Table(
                caption="Phases of the design, in order.",
                columns=("Order", "Phase", "Status", "What it produces"),
                rows=tuple(
                    (str(order), name, status.replace("_", " "), produces or MISSING)
                    for order, _kind, name, status, produces in s.phases
                ),
                key="phases",
            )
        )
    if ev.samples:
        blocks.append(
            Table(
                caption="Samples: method, size, frame and seed.",
                columns=("Sample", "Phase", "Method", "Units", "Frame size", "Seed"),
                rows=tuple(
                    (
                        sample.name,
                        sample.phase_name or MISSING,
                        sample.method,
                        sample.units_num(),
                        sample.frame_num(),
                        str(sample.seed) if sample.seed is not None else "none",
                    )
                    for sample in ev.samples
                ),
                key="samples",
            )
        )
    if ev.waves:
        blocks.append(
            Table(
                caption="Survey waves: fieldwork, modes, instruments and cases.",
                columns=(
                    "Wave",
                    "Fieldwork",
                    "Frame date",
                    "Modes",
                    "Instrument",
                    "Languages",
                    "Cases",
                ),
                rows=tuple(
                    (
                        w.name,
                        f"{w.field_start} to {w.field_end}",
                        w.frame_vintage,
                        ", ".join(w.modes),
                        f"{w.instrument_title} (version {w.instrument_version})",
                        ", ".join(w.languages) or "not declared",
                        w.cases_num(),
                    )
                    for w in ev.waves
                ),
                key="waves",
            )
        )
        modes = sorted({m for w in ev.waves for m, _n in w.completes_by_mode})
        if modes:
            blocks.append(
                Table(
                    caption="Complete interviews by mode of data collection.",
                    columns=("Mode", *(f"Wave {w.number}" for w in ev.waves)),
                    rows=tuple((m, *(w.mode_num(m) for w in ev.waves)) for m in modes),
                    key="modes",
                )
            )
    return Section(DESIGN, tuple(blocks))


# --------------------------------------------------------------------------- sample and frame


def _sample(ev: Evidence) -> Section:
    blocks: list = []
    for wave in ev.waves:
        table = ev.result(f"wave{wave.number}_respondents_vs_frame")
        if table is None:
            continue
        frame = ev.frames.get(wave.frame_vintage)
        rows = []
        for i, row in enumerate(table.rows):
            variable = str(row.get("variable", ""))
            level = str(row.get("level", ""))
            ccgs = frame.region_num(level) if frame is not None and variable == "region" else ""
            rows.append(
                (
                    VARIABLE_LABELS.get(variable, variable),
                    ROLE_GROUPS.get(level, level),
                    ccgs,
                    table.num(i, "frame_n", count),
                    table.num(i, "frame_share", p1),
                    table.num(i, "respondents_n", count),
                    table.num(i, "respondent_share", p1),
                    table.num(i, "weighted_share", p1),
                )
            )
        notes = [
            "Frame: all eligible governing-body members of the CCGs open on "
            f"{wave.frame_vintage}; respondents: complete interviews.",
        ]
        if frame is not None:
            notes.append(f"CCGs in the frame: {frame.total}.")
        blocks.append(
            Table(
                caption=f"Sample characteristics against the frame (an article's Table 1), "
                f"{_wave_short(ev, wave)}.",
                columns=(
                    "Characteristic",
                    "Category",
                    "CCGs in frame",
                    "Members in frame",
                    "Frame %",
                    "Respondents",
                    "Respondents %",
                    "Weighted %",
                ),
                rows=tuple(rows),
                notes=tuple(notes),
                cite=table.cite(),
                key=f"table1-wave{wave.number}",
            )
        )
    weights = [(w, ev.result(f"wave{w.number}_weights")) for w in ev.waves]
    weights = [(w, t) for w, t in weights if t is not None and t.rows]
    if weights:
        blocks.append(
            Table(
                caption="Non-response weights: class adjustment, raking to the frame, trimming.",
                columns=(
                    "Wave",
                    "Respondents",
                    "Eligible",
                    "Response rate",
                    "Sum of weights",
                    "Largest weight",
                    "Design effect (Kish)",
                    "Effective n",
                ),
                rows=tuple(
                    (
                        f"Wave {w.number}",
                        t.num(0, "respondents", count),
                        t.num(0, "eligible", count),
                        t.num(0, "response_rate", p1),
                        t.num(0, "sum_of_weights", count),
                        _largest(t),
                        t.num(0, "kish_deff", lambda v: dec(v, 3)),
                        t.num(0, "effective_n", count),
                    )
                    for w, t in weights
                ),
                notes=(
                    "Response rate here: complete interviews over eligible members (weighting "
                    "base); the AAPOR rates follow in the next section.",
                ),
                key="weights",
            )
        )
    if not blocks:
        return _absent(SAMPLE, "Table 1 (respondents against the frame) is")
    return Section(SAMPLE, tuple(blocks))


def _largest(table: ResultTable):
    return (
        table.num(0, "max", lambda v: dec(v, 2)) if table.value(0, "max") is not None else MISSING
    )


# --------------------------------------------------------------------------- outcomes


def _outcomes(ev: Evidence) -> Section:
    if not ev.waves:
        return _absent(OUTCOMES, "Survey dispositions are")
    columns = ("Final disposition", *(f"Wave {w.number}" for w in ev.waves))
    buckets = Table(
        caption="AAPOR final dispositions of all cases, by group of codes.",
        columns=columns,
        rows=tuple((BUCKET_LABELS[b], *(w.bucket_num(b) for w in ev.waves)) for b in BUCKETS)
        + (("All cases", *(w.cases_num() for w in ev.waves)),),
        notes=(
            "Dispositions as at the close of fieldwork (AAPOR Standard Definitions, telephone codes).",
        ),
        key="dispositions",
    )
    codes = sorted({code for w in ev.waves for code, _n in w.codes}, key=_code_order)
    labels = {}
    for w in ev.waves:
        labels.update(w.code_labels)
    detailed = Table(
        caption="AAPOR final disposition codes in detail.",
        columns=("Code", *(f"Wave {w.number}" for w in ev.waves)),
        rows=tuple(
            (labels.get(code, code), *(w.code_num(code) for w in ev.waves)) for code in codes
        ),
        key="disposition-codes",
    )
    rates = Table(
        caption="AAPOR outcome rates.",
        columns=("Rate", *(f"Wave {w.number}" for w in ev.waves)),
        rows=tuple((label, *(w.rate_num(name) for w in ev.waves)) for name, label in RATES)
        + (("e: estimated eligible share of unknown cases", *(w.e_num() for w in ev.waves)),),
        notes=tuple(
            f"Wave {w.number}: e estimated by {w.e_method or 'no'} allocation "
            "(eligible share among cases of known eligibility)."
            for w in ev.waves
        ),
        key="rates",
    )
    return Section(OUTCOMES, (buckets, detailed, rates))


def _code_order(code: str):
    parts = []
    for piece in code.replace(".", " ").split():
        parts.append((0, int(piece), "") if piece.isdigit() else (1, 0, piece))
    return parts


# --------------------------------------------------------------------------- Likert


def _likert(ev: Evidence) -> Section:
    blocks: list = []
    subsections = []
    for wave in ev.waves:
        table = ev.result(f"wave{wave.number}_share_agreeing")
        if table is None:
            continue
        rows = tuple(
            (
                str(row.get("item")),
                short_label(str(row.get("label", "")), 90),
                str(row.get("agreeing", "")),
                table.num(i, "n_substantive", count),
                table.num(i, "share", p1),
                table.num(i, "ci_low", p1),
                table.num(i, "ci_high", p1),
            )
            for i, row in enumerate(table.rows)
        )
        blocks.append(
            Table(
                caption=f"Share of members in the top two points of each item, {_wave_short(ev, wave)}.",
                columns=(
                    "Item",
                    "Question",
                    "Top two points",
                    "n",
                    "Share",
                    "95% CI low",
                    "95% CI high",
                ),
                rows=rows,
                notes=(
                    "Weighted shares of substantive answers; “don't know” and “not applicable” "
                    "are counted apart and kept out of every denominator. Logit intervals; "
                    "design: members clustered in CCGs.",
                ),
                cite=table.cite(),
                key=f"agree-wave{wave.number}",
            )
        )
        subsections.append(_distributions(ev, wave))
    modes = [i.name for i in ev.items.values() if i.name.startswith("mode_")]
    if modes and ev.waves:
        figure = likert_figure(
            ev,
            ev.waves[-1].number,
            modes,
            f"Engagement of clinicians by route, wave {ev.waves[-1].number}",
            "Answers on the engagement-mode items, shares of substantive answers, weighted.",
        )
        if figure is not None:
            blocks.append(figure)
    reliability = ev.result("scale_reliability")
    if reliability is not None and reliability.rows:
        blocks.append(
            Table(
                caption="Reliability of the multi-item scales: Cronbach's alpha with Feldt's 95% interval.",
                columns=(
                    "Wave",
                    "Scale",
                    "Items",
                    "Alpha",
                    "95% CI low",
                    "95% CI high",
                    "Complete cases",
                    "Dropped",
                ),
                rows=tuple(
                    (
                        str(row.get("wave")),
                        str(row.get("scale", "")).replace("_", " "),
                        reliability.num(i, "items", count),
                        reliability.num(i, "alpha", dec),
                        reliability.num(i, "ci_low", dec),
                        reliability.num(i, "ci_high", dec),
                        reliability.num(i, "n_complete", count),
                        reliability.num(i, "n_dropped", count),
                    )
                    for i, row in enumerate(reliability.rows)
                ),
                key="reliability",
            )
        )
    if not blocks:
        return _absent(LIKERT, "Likert tables are")
    return Section(LIKERT, tuple(blocks), tuple(s for s in subsections if s is not None))


def _distributions(ev: Evidence, wave) -> Section | None:
    table = ev.result(f"wave{wave.number}_distributions")
    if table is None:
        return None
    by_list: dict[str, list[str]] = {}
    for row in table.rows:
        name = str(row.get("item"))
        info = ev.items.get(name)
        if info is None:
            continue
        group = by_list.setdefault(info.list_name or name, [])
        if name not in group:
            group.append(name)
    agree = ev.result(f"wave{wave.number}_share_agreeing")
    blocks = []
    for list_name, names in by_list.items():
        scale = ev.items[names[0]].scale
        labels = ev.items[names[0]].scale_labels
        rows = []
        for name in names:
            cells = []
            for answer in scale:
                i = table.first(item=name, answer=answer)
                cells.append(table.num(i, "share", p1))
            for code in ("dont_know", "not_applicable"):
                i = table.first(item=name, answer=code)
                cells.append(table.num(i, "n", count))
            n_row = (
                agree.num(agree.first(item=name), "n_substantive", count)
                if agree is not None
                else MISSING
            )
            rows.append((short_label(ev.items[name].label, 70), *cells, n_row))
        blocks.append(
            Table(
                caption=f"Answers to the {list_name.replace('_', ' ')} items, {_wave_short(ev, wave)}.",
                columns=("Item", *labels, "Don't know (n)", "Not applicable (n)", "Substantive n"),
                rows=tuple(rows),
                notes=("Weighted percentages of substantive answers; counts unweighted.",),
                cite=table.cite(),
                key=f"dist-wave{wave.number}-{list_name}",
            )
        )
    return Section(f"Full distributions, wave {wave.number}", tuple(blocks))


# --------------------------------------------------------------------------- roles


def _roles(ev: Evidence) -> Section:
    blocks: list = []
    odds = ev.result("role_odds_ratios")
    if odds is not None and odds.rows:
        rows = tuple(
            (
                str(row.get("wave")),
                str(row.get("outcome", "")),
                ROLE_GROUPS.get(str(row.get("group")), str(row.get("group", ""))),
                odds.num(i, "n_group", count),
                odds.num(i, "odds_ratio", dec),
                odds.num(i, "ci_low", dec),
                odds.num(i, "ci_high", dec),
                odds.num(i, "p_value", pvalue),
            )
            for i, row in enumerate(odds.rows)
            if "odds_ratio" in row
        )
        reference = next((str(r.get("reference")) for r in odds.rows if r.get("reference")), "")
        blocks.append(
            Table(
                caption="Proportional-odds (ordered logit) regression of each outcome on role group: "
                "odds ratios of a higher answer.",
                columns=(
                    "Wave",
                    "Outcome",
                    "Role group",
                    "n",
                    "Odds ratio",
                    "95% CI low",
                    "95% CI high",
                    "p",
                ),
                rows=rows,
                notes=(
                    f"Reference group: {ROLE_GROUPS.get(reference, reference)}. Wald intervals; "
                    "unweighted model. Above 1: higher answers than the reference group.",
                ),
                cite=odds.cite(),
                key="ordinal-regression",
            )
        )
    tests = ev.result("role_tests")
    if tests is not None and tests.rows:
        blocks.append(
            Table(
                caption="Do answers differ by role? Rao–Scott design-adjusted tests.",
                columns=(
                    "Wave",
                    "Item",
                    "Groups",
                    "Rao–Scott χ²",
                    "df",
                    "F",
                    "p (F)",
                    "Mean deff",
                    "n",
                ),
                rows=tuple(
                    (
                        str(row.get("wave")),
                        str(row.get("item")),
                        tests.num(i, "groups", count),
                        tests.num(i, "rao_scott_x2", dec),
                        tests.num(i, "df", count),
                        tests.num(i, "rao_scott_f", dec),
                        tests.num(i, "f_p_value", pvalue),
                        tests.num(i, "mean_design_effect", dec),
                        tests.num(i, "n", count),
                    )
                    for i, row in enumerate(tests.rows)
                    if "rao_scott_x2" in row
                ),
                cite=tests.cite(),
                key="role-tests",
            )
        )
    shares = ev.result("role_shares")
    if shares is not None and shares.rows:
        blocks.append(
            Table(
                caption="Share in the top two points by role group (weighted, 95% intervals).",
                columns=("Wave", "Item", "Role group", "n", "Share", "95% CI low", "95% CI high"),
                rows=tuple(
                    (
                        str(row.get("wave")),
                        str(row.get("item")),
                        str(row.get("role_group")),
                        shares.num(i, "n", count),
                        shares.num(i, "share_agreeing", p1),
                        shares.num(i, "ci_low", p1),
                        shares.num(i, "ci_high", p1),
                    )
                    for i, row in enumerate(shares.rows)
                ),
                cite=shares.cite(),
                key="role-shares",
            )
        )
    if not blocks:
        return _absent(ROLES, "Comparisons by role are")
    return Section(ROLES, tuple(blocks))


# --------------------------------------------------------------------------- waves


def _waves(ev: Evidence) -> Section | None:
    cross = ev.result("waves_cross_section")
    if cross is None:
        return (
            None if len(ev.waves) < 2 else _absent("Change between waves", "The wave comparison is")
        )
    first, second = ev.waves[0].number, ev.waves[-1].number
    blocks: list = [
        Table(
            caption=f"Share in the top two points, wave {first} against wave {second}.",
            columns=(
                "Item",
                f"Wave {first}",
                f"Wave {second}",
                "Difference",
                "95% CI low",
                "95% CI high",
                "p",
            ),
            rows=tuple(
                (
                    str(row.get("item")),
                    cross.num(i, f"wave{first}_share", p1),
                    cross.num(i, f"wave{second}_share", p1),
                    cross.num(i, "difference", lambda v: dec(100 * v, 1) + " pts"),
                    cross.num(i, "ci_low", lambda v: dec(100 * v, 1)),
                    cross.num(i, "ci_high", lambda v: dec(100 * v, 1)),
                    cross.num(i, "p_value", pvalue),
                )
                for i, row in enumerate(cross.rows)
            ),
            notes=(
                "Independent cross-sections; conservative because the waves share members. "
                "Differences in percentage points.",
            ),
            cite=cross.cite(),
            key="waves-cross-section",
        )
    ]
    paired = ev.result("waves_paired_respondents")
    if paired is not None and paired.rows:
        blocks.append(
            Table(
                caption="Members who answered both waves: agreeing in one, the other, both or neither.",
                columns=(
                    "Item",
                    "Pairs",
                    "Both",
                    "First only",
                    "Second only",
                    "Neither",
                    "McNemar p",
                ),
                rows=tuple(
                    (
                        str(row.get("item")),
                        paired.num(i, "pairs", count),
                        paired.num(i, "agree_both", count),
                        paired.num(i, "agree_first_only", count),
                        paired.num(i, "agree_second_only", count),
                        paired.num(i, "agree_neither", count),
                        paired.num(i, "mcnemar_p_value", pvalue),
                    )
                    for i, row in enumerate(paired.rows)
                ),
                cite=paired.cite(),
                key="waves-paired",
            )
        )
    return Section("Change between waves", tuple(blocks))


# --------------------------------------------------------------------------- typology


def _typology(ev: Evidence) -> Section:
    from .figures import bars

    choice = ev.result("typology_model_choice")
    profiles = ev.result("typology_profiles")
    if choice is None or profiles is None:
        return _absent(TYPOLOGY, "The typology is")
    blocks: list = [
        Table(
            caption="Latent class models of CCGs on the engagement-mode items: fit by number of classes.",
            columns=("Classes", "Log-likelihood", "Parameters", "BIC", "Chosen"),
            rows=tuple(
                (
                    choice.num(i, "classes", count),
                    choice.num(i, "log_likelihood", lambda v: dec(v, 1)),
                    choice.num(i, "parameters", count),
                    choice.num(i, "bic", lambda v: dec(v, 1)),
                    "yes" if row.get("chosen") else "",
                )
                for i, row in enumerate(choice.rows)
            ),
            notes=("The model with the lowest BIC is chosen.",),
            cite=choice.cite(),
            key="typology-bic",
        )
    ]
    classes: dict[int, list[int]] = {}
    for i, row in enumerate(profiles.rows):
        classes.setdefault(int(row["typology_class"]), []).append(i)
    size_rows = []
    labels, values = [], []
    for cls, rows in sorted(classes.items()):
        size_rows.append(
            (f"Class {cls}", profiles.num(rows[0], "class_share", p1), ev.typology_count_num(cls))
        )
        labels.append(f"Class {cls}")
        values.append(profiles.value(rows[0], "class_share"))
    blocks.append(
        Table(
            caption="Class sizes: estimated share and CCGs assigned (modal class).",
            columns=("Class", "Estimated share", "CCGs assigned"),
            rows=tuple(size_rows),
            cite=profiles.cite(),
            key="typology-sizes",
        )
    )
    blocks.append(
        Figure(
            caption="Estimated share of CCGs in each latent class.",
            svg=bars(labels, values, title="Typology class sizes"),
            alt="Typology class sizes: "
            + "; ".join(f"{label} {pct(v)}" for label, v in zip(labels, values, strict=True))
            + ".",
            cite=profiles.cite(0, "class_share"),
            key="typology-size-chart",
        )
    )
    prob_columns = [c for c in profiles.columns if c.startswith("p_")]
    item = ev.items.get(str(profiles.value(0, "item")))
    prob_labels = (
        list(item.scale_labels)
        if item and len(item.scale_labels) == len(prob_columns)
        else [c.removeprefix("p_").replace("_", " ") for c in prob_columns]
    )
    blocks.append(
        Table(
            caption="Class profiles: probability of each answer on each engagement-mode item.",
            columns=("Class", "Item", *prob_labels, "Mean position"),
            rows=tuple(
                (
                    f"Class {row['typology_class']}",
                    short_label(
                        ev.items[row["item"]].label
                        if row.get("item") in ev.items
                        else str(row.get("item")),
                        60,
                    ),
                    *(profiles.num(i, c, p1) for c in prob_columns),
                    profiles.num(i, "mean_position", dec),
                )
                for i, row in enumerate(profiles.rows)
            ),
            notes=("Mean position: the expected answer on a 0-based scale (0 = not at all).",),
            cite=profiles.cite(),
            key="typology-profiles",
        )
    )
    stability = ev.result("typology_stability")
    if stability is not None and stability.rows:
        blocks.append(
            Para(
                (
                    "Stability: across ",
                    stability.num(0, "resamples", count),
                    " bootstrap refits the mean adjusted Rand index with the full-data classes "
                    "was ",
                    stability.num(0, "mean_ari", lambda v: dec(v, 3)),
                    " (sd ",
                    stability.num(0, "sd_ari", lambda v: dec(v, 3)),
                    ").",
                )
            )
        )
    return Section(TYPOLOGY, tuple(blocks))


# --------------------------------------------------------------------------- case studies


SOURCE_KINDS = (
    ("interview", "Individual interviews"),
    ("group_interview", "Group interviews"),
    ("observation_notes", "Observation notes"),
    ("document", "Documents"),
)
ROLE_NAMES = {
    "gp_member": "GP member",
    "chair": "Chair",
    "accountable_officer": "Accountable officer",
    "chief_finance_officer": "Chief finance officer",
    "nurse": "Nurse member",
    "secondary_care_doctor": "Secondary-care doctor",
    "lay_member": "Lay member",
    "manager": "Manager",
    "la_officer": "Local authority officer",
    "councillor": "Councillor",
    "hwb_member": "Health and Wellbeing Board member",
    "patient_representative": "Patient representative",
    "other_clinician": "Other clinician",
}


def _cases(ev: Evidence) -> Section:
    cw = ev.casework
    if not cw.count("sources").value:
        return _absent(CASES, "Case-study material is")
    blocks: list = [
        Table(
            caption="Case-study material by kind of source.",
            columns=("Kind of source", "Sources"),
            rows=tuple(
                (label, cw.count(f"sources/{kind}").num())
                for kind, label in SOURCE_KINDS
                if f"sources/{kind}" in cw.counts
            )
            + (("All sources", cw.count("sources").num()),),
            key="sources",
        ),
        Table(
            caption="Case-study sites and participants.",
            columns=("Sites and participants", "Number"),
            rows=(
                ("Pilot (scoping) sites", cw.count("sites/pilot_case_studies").num()),
                ("In-depth sites", cw.count("sites/in_depth_case_studies").num()),
                ("Participants speaking in the sources", cw.count("speakers").num()),
            )
            + tuple(
                (f"— {ROLE_NAMES.get(key.split('/')[1], key.split('/')[1])}", c.num())
                for key, c in cw.counts.items()
                if key.startswith("speakers/")
            ),
            key="participants",
        ),
    ]
    coding: list = [
        "Coding: ",
        cw.count("codings").num(),
        " codings by ",
        cw.count("coders").num(),
        " coders on a codebook of ",
        cw.count("codes").num(),
        " codes (recorded versions: ",
        cw.count("codebook/versions").num(),
        ").",
    ]
    if cw.agreement is not None:
        coding += [
            " Agreement on ",
            cw.agreement.num("sources"),
            " sources coded blind by two coders: Krippendorff's alpha ",
            cw.agreement.num("alpha"),
            "; Cohen's kappa over the text either coder coded ",
            cw.agreement.num("kappa"),
            ".",
        ]
    blocks.append(Para(tuple(coding)))
    blocks.append(
        Table(
            caption="The codebook: codes by research question, with how often and how widely each was applied.",
            columns=("Code", "RQ", "Passages", "Sources", "Sites"),
            rows=tuple(
                (
                    c.path,
                    ", ".join(f"RQ{n}" for n in c.rqs) or MISSING,
                    c.segments_num(),
                    c.sources_num(),
                    c.sites_num(),
                )
                for c in cw.codes
            ),
            notes=("Counts include sub-codes and both coders' codings.",),
            key="codebook",
        )
    )
    if cw.pseudonyms:
        blocks.append(
            Para(
                (
                    "Pseudonymisation: ",
                    cw.count("pseudonyms/accepted").num(),
                    " identifiers replaced by study-wide pseudonyms; ",
                    cw.count("pseudonyms/pending").num(),
                    " candidates awaiting review (withheld in every report as well); ",
                    cw.count("pseudonyms/rejected").num(),
                    " rejected as not identifying.",
                ),
                "note",
            )
        )
    if cw.initiatives:
        blocks.append(
            Table(
                caption="Service-redesign initiatives followed in the in-depth sites.",
                columns=("Initiative", "Site", "Status", "Sectors", "Benefits targeted"),
                rows=tuple(
                    (
                        i.name,
                        i.site_label,
                        i.status.replace("_", " "),
                        ", ".join(i.sectors),
                        ", ".join(i.benefits),
                    )
                    for i in cw.initiatives
                ),
                key="initiatives",
            )
        )
    return Section(CASES, tuple(blocks))


# --------------------------------------------------------------------------- integration


def _integration(ev: Evidence) -> Section:
    integ = ev.integration
    if integ.empty:
        return Section(
            INTEGRATION,
            (
                Para(
                    (
                        "The integration of the strands — the convergence coding matrix, the "
                        "propositions tested by the second survey, and the joint displays — is not "
                        "yet available for this study. Once recorded in Triangulum's integration "
                        "pages, they appear here as tables, each cell linked to its evidence.",
                    ),
                    "note",
                ),
            ),
        )
    blocks: list = []
    subsections = []
    if integ.themes:
        pairs = sorted({(a, b) for t in integ.themes for a, b, _c in t.settled})
        blocks.append(
            Table(
                caption="Convergence coding matrix: the settled code for each theme and pair of strands.",
                columns=(
                    "RQ",
                    "Theme",
                    *(f"{STRAND_LABELS.get(a, a)} × {STRAND_LABELS.get(b, b)}" for a, b in pairs),
                ),
                rows=tuple(
                    (
                        f"RQ{t.rq}",
                        t.name,
                        *(
                            dict(((a, b), c) for a, b, c in t.settled)
                            .get(pair, "—")
                            .replace("_", " ")
                            for pair in pairs
                        ),
                    )
                    for t in integ.themes
                ),
                notes=(
                    "Codes after Farmer et al. (2006): agreement, partial agreement, silence, dissonance.",
                ),
                key="convergence",
            )
        )
    if integ.assessments:
        blocks.append(Heading(1, "Global assessment by research question"))
        for rq, text in integ.assessments:
            blocks.append(Para((f"RQ{rq}: {text}",)))
    if integ.propositions:
        blocks.append(
            Table(
                caption="Case-study propositions tested by the second survey.",
                columns=(
                    "RQ",
                    "Proposition",
                    "Test",
                    "Status",
                    "Verdict",
                    "Estimate",
                    "95% CI low",
                    "95% CI high",
                    "p",
                    "n",
                ),
                rows=tuple(
                    (
                        f"RQ{p.rq}",
                        p.statement,
                        f"{p.test} ({p.direction}); items: {', '.join(p.items)}",
                        p.status,
                        p.verdict.replace("_", " ") or "not yet tested",
                        p.num("effect", _fmt(p)),
                        p.num("ci_low", _fmt(p)),
                        p.num("ci_high", _fmt(p)),
                        p.num("p_value", pvalue),
                        p.num("n_cases", count),
                    )
                    for p in integ.propositions
                ),
                notes=(
                    "Each proposition, its items, test and rule for support were locked before "
                    "wave-2 data were analysed for it.",
                ),
                key="propositions",
            )
        )
    for display in integ.displays:
        keys = [k for k, _label in display.columns]
        rows = []
        for row in display.rows:
            cells = dict((c[0], c[1]) for c in row.cells)
            rows.append(
                (
                    row.label,
                    *(cells.get(k, "") or "—" for k in keys),
                    row.meta_inference or "—",
                )
            )
        subsections.append(
            Section(
                f"Joint display: {display.title}",
                (
                    Table(
                        caption=f"{display.kind_label}: {display.title}.",
                        columns=(
                            "Row",
                            *(label for _k, label in display.columns),
                            "Meta-inference",
                        ),
                        rows=tuple(rows),
                        notes=(
                            "Every cell links to its survey and case-study evidence in Triangulum.",
                        ),
                        cite=display.cite(),
                        key=f"display-{display.slug}",
                    ),
                ),
            )
        )
    if not integ.displays:
        blocks.append(Para(("No joint display has been recorded yet.",), "note"))
    return Section(INTEGRATION, tuple(blocks), tuple(subsections))


def _fmt(p):
    return p1 if p.test == "proportion" else effect_format(p.test)


# --------------------------------------------------------------------------- checklists


def _checklists(ev: Evidence) -> Section:
    lists = all_checklists(ev)
    blocks: list = [
        Para(
            (
                "Each item is checked against the study's records: “addressed” names the record "
                "and where this pack shows it; “missing” says what is not recorded. Items "
                "Triangulum keeps no structured record of are addressed by a study memo whose "
                "title starts with the item's tag (for example “COREQ 4”).",
            )
        )
    ]
    for checklist in lists:
        done = sum(1 for item in checklist.items if item.status == "addressed")
        blocks.append(
            Para(
                (
                    f"{checklist.caption.split(':')[0]}: {done} of {len(checklist.items)} items addressed.",
                ),
                "note",
            )
        )
        blocks.append(checklist)
    return Section("Reporting checklists", tuple(blocks))
