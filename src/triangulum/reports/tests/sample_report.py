"""A hand-made Report holding every block type, for the renderer and action tests.

It does not depend on reports.build (written by the reports-content helper), so
the engine can be tested on its own; tests that need the real reports build the
demo study instead.
"""

from __future__ import annotations

from triangulum.reports.document import (
    Bullets,
    Checklist,
    ChecklistItem,
    Cite,
    Figure,
    Heading,
    Num,
    Para,
    Provenance,
    Quote,
    Report,
    Section,
    Table,
)
from triangulum.reports.figures import bars, diverging_likert

RATES = Cite("fieldwork:wave/wave-1/rates", "Wave 1 dispositions", "/studies/demo/fieldwork/")
LIKERT = Cite(
    "analysis:likert/wave-1#r1c2", "Table A3, wave 1 Likert items", "/studies/demo/analysis/"
)


def sample_report(*, kind: str = "practitioner", simulated: bool = True, title: str = "") -> Report:
    """A Report exercising every block type, with numbers, quotes, tables and figures."""
    rate = Num("62%", 0.62, RATES)
    agree = Num("0.41", 0.41, LIKERT)
    likert = diverging_likert(
        ["Clinicians shape redesign", "Managers listen to GPs"],
        ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"],
        [[0.1, 0.2, 0.3, 0.25, 0.15], [0.05, 0.15, 0.2, 0.4, 0.2]],
        "Views on clinical engagement, wave 1",
    )
    rates_chart = bars(["Wave 1", "Wave 2"], [0.62, 0.48], title="Response rate by wave")
    findings = Section(
        title="Key findings",
        blocks=(
            Para(("Most practices took part: the response rate was ", rate, "."), style="lead"),
            Heading(1, "Engagement"),
            Para(("The mean agreement score was ", agree, " on a scale of -1 to 1.")),
            Bullets(
                (
                    ("Engagement rose where boards met monthly.",),
                    ("Response rate ", rate, " in wave 1."),
                )
            ),
            Bullets((("First step",), ("Second step",)), ordered=True),
            Heading(2, "What practitioners said"),
            Quote(
                "We were asked after the decision was made, not before.",
                "GP board member, Site C (P07)",
                Cite("segment:41", "Case study C, interview 7", "/studies/demo/casework/"),
            ),
            Heading(3, "A note on the numbers"),
            Para(("Percentages exclude missing answers.",), style="note"),
            Para(("Simulated figures only illustrate the method.",), style="callout"),
            Table(
                caption="Response by wave",
                columns=("Wave", "Issued", "Complete", "Response rate"),
                rows=(
                    ("Wave 1", Num("400", 400, RATES), Num("248", 248, RATES), rate),
                    ("Wave 2", "380", "182", "48%"),
                ),
                notes=("AAPOR RR1.",),
                cite=RATES,
                key="rates",
            ),
            Figure(
                caption="Views on clinical engagement",
                svg=likert,
                alt="Diverging bars: more agree than disagree on both items.",
                cite=LIKERT,
                key="likert",
            ),
        ),
        subsections=(
            Section(
                title="Response",
                blocks=(
                    Figure(
                        caption="Response rate by wave",
                        svg=rates_chart,
                        alt="Wave 1 62%, wave 2 48%.",
                        key="rates-chart",
                    ),
                    Table(
                        caption="Empty results",
                        columns=("Item", "Value"),
                        rows=(),
                    ),
                ),
            ),
        ),
    )
    checklist = Section(
        title="Reporting checklist",
        blocks=(
            Checklist(
                caption="COREQ",
                items=(
                    ChecklistItem("1", "Interviewer", "Methods, p. 3", "addressed"),
                    ChecklistItem("2", "Credentials", "", "missing"),
                    ChecklistItem("3", "Occupation", "—", "not applicable"),
                ),
            ),
        ),
    )
    return Report(
        kind=kind,
        title=title or f"Sample {kind} report",
        subtitle="Clinical engagement in commissioning & redesign <test>",
        study_title="Demo study",
        simulated=simulated,
        sections=(findings, checklist),
        provenance=Provenance(
            (
                ("Data snapshot", "sha256:" + "ab" * 32),
                ("Code version", "triangulum 0.1.0 (commit unknown)"),
                ("Built", "2024-01-01T00:00:00+00:00"),
            )
        ),
    )
