"""``build_report(study, kind)``: the study's own results shaped into a ``Report``.

``evidence.collect`` reads the database once; the practitioner, guidance and article
builders shape what it read. Building several kinds at once (``build_reports``) reads
the evidence once for all of them. The same data gives an equal Report: everything is
sorted, nothing depends on the clock or on chance.
"""

from __future__ import annotations

import json

from . import article, evidence, guidance, practitioner
from .document import REPORT_KINDS, Provenance, Report
from .evidence import Evidence

BUILDERS = {
    "practitioner": practitioner.build,
    "guidance": guidance.build,
    "article": article.build,
}


class ReportKindError(ValueError):
    pass


def _check(kind: str) -> None:
    if kind not in BUILDERS:
        raise ReportKindError(
            f'"{kind}" is not a kind of report; choose one of: {", ".join(REPORT_KINDS)}.'
        )


def build_report(study, kind: str, *, facts: Evidence | None = None) -> Report:
    """The ``kind`` report of ``study`` (``facts``: evidence already collected)."""
    _check(kind)
    facts = facts if facts is not None else evidence.collect(study)
    return report_from_evidence(facts, kind, base=study_provenance(study))


def build_reports(study, kinds=REPORT_KINDS) -> dict[str, Report]:
    """Several kinds at once, reading the study's evidence only once."""
    for kind in kinds:
        _check(kind)
    facts = evidence.collect(study)
    base = study_provenance(study)
    return {kind: report_from_evidence(facts, kind, base=base) for kind in kinds}


def study_provenance(study) -> Provenance:
    """The study's data snapshot, code version, parameters and seeds (reports.provenance)."""
    from .provenance import study_provenance as snapshot

    return snapshot(study)


def report_from_evidence(facts: Evidence, kind: str, *, base: Provenance | None = None) -> Report:
    """Pure: the Report of one kind from collected evidence. ``base``: the study's
    provenance from the database; without it the appendix is made from the evidence."""
    _check(kind)
    title, subtitle, sections = BUILDERS[kind](facts)
    return Report(
        kind=kind,
        title=title,
        subtitle=subtitle,
        study_title=facts.study.title,
        simulated=facts.simulated,
        sections=sections,
        provenance=provenance(facts, kind, base),
    )


def provenance(facts: Evidence, kind: str, base: Provenance | None = None) -> Provenance:
    """What the report was built from: the study's snapshot (``base``) and what this
    report read on top of it — instruments, and the quotes, codes and integration
    records it selected."""
    items: list[tuple[str, str]] = list(base.items) if base is not None else []
    items.append(("Report", kind))
    if facts.simulated:
        items.append(("Simulated records", ", ".join(facts.simulated_sources)))
    for wave in facts.waves:
        items.append(
            (
                f"Wave {wave.number} instrument",
                f"{wave.instrument_title}, version {wave.instrument_version} "
                f"(sha256:{wave.instrument_sha256})",
            )
        )
    items.append(
        (
            "Quotes, codes, sites and integration records read (sha256)",
            facts.snapshot_hash(),
        )
    )
    if base is None:
        items += _evidence_items(facts)
    return Provenance(tuple(items))


def _evidence_items(facts: Evidence) -> list[tuple[str, str]]:
    """The appendix without the database: what the collected evidence records."""
    items = [("Study", facts.study.slug)]
    hashes = sorted({run.inputs_hash for run in facts.runs})
    if hashes:
        items.append(("Survey data snapshot (analysis inputs, sha256)", ", ".join(hashes)))
    for sample in facts.samples:
        seed = sample.seed if sample.seed is not None else "none"
        items.append(
            (
                f"Sample {sample.sample_id}",
                f"{sample.name}; {sample.method}; seed {seed}; inputs sha256:{sample.inputs_hash}",
            )
        )
    for run in facts.runs:
        items.append(
            (
                f"Analysis step {run.step}",
                f"run {run.run_id}; seed {run.seed}; code {run.code_version}; parameters "
                + json.dumps(run.parameters, sort_keys=True, default=str),
            )
        )
    return items
