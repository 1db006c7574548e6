"""Simulated tidy tables for the benchmark and tests (labelled simulated). No Django.

Builds a ``StudyData`` directly in memory — no database — for ``n_organisations``
organisations with ``members`` members each and two waves, on the study's own forms
(``fieldwork.instruments``). Answers are ordered-probit draws with an organisation
effect, a planted engagement type per organisation (three types, shifting the
engagement-mode items), a role shift on the CCG's own influence, fixed "don't know"
rates and role-dependent response. Organisation codes are "S00001"…; names end in
"(simulated)".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tidy import NON_SUBSTANTIVE, StudyData, WaveData, catalogue_from_form, role_group

REGIONS = ("North of England", "Midlands and East of England", "London", "South of England")
ROLES = (
    "chair",
    "accountable_officer",
    "chief_finance_officer",
    "gp_member",
    "lay_member",
    "nurse",
    "secondary_care_doctor",
    "other_member",
)
RESPONSE = {
    "chair": 0.75,
    "accountable_officer": 0.7,
    "chief_finance_officer": 0.55,
    "gp_member": 0.5,
    "lay_member": 0.7,
    "nurse": 0.6,
    "secondary_care_doctor": 0.45,
    "other_member": 0.55,
}
# Planted engagement types: shift of the latent view on each mode_ item, by type.
TYPE_SHIFTS = (-1.6, 0.0, 1.6)


def _catalogues():
    from triangulum.fieldwork.instruments import WAVE_FILES, survey_json

    return {number: catalogue_from_form(survey_json(path)) for number, path in WAVE_FILES.items()}


def make_study(
    n_organisations: int, members: int, *, seed: int = 1, waves=(1, 2), slug: str = "simulated"
) -> StudyData:
    rng = np.random.default_rng(seed)
    catalogues = _catalogues()
    codes = np.array([f"S{i:05d}" for i in range(n_organisations)])
    frame = pd.DataFrame(
        {
            "organisation_code": codes,
            "organisation_name": [f"Organisation {c} (simulated)" for c in codes],
            "region": rng.choice(REGIONS, n_organisations),
            "registered_patients": rng.integers(2_000, 20_000, n_organisations),
            "allocation_000s": rng.integers(1_000, 30_000, n_organisations),
        }
    )
    climate = rng.normal(size=n_organisations)
    planted = rng.integers(0, len(TYPE_SHIFTS), n_organisations)
    org_index = np.repeat(np.arange(n_organisations), members)
    roles = np.array([ROLES[i % len(ROLES)] for i in range(members)] * n_organisations)
    person = rng.normal(size=len(org_index))
    participants = np.array([f"P{i:07d}" for i in range(len(org_index))])
    data = {}
    for number in waves:
        catalogue = catalogues[number]
        responded = rng.random(len(org_index)) < np.vectorize(RESPONSE.get)(roles)
        units = pd.DataFrame(
            {
                "interview_id": np.arange(len(org_index)) + number * 10_000_000,
                "participant": participants,
                "role": roles,
                "role_group": [role_group(r) for r in roles],
                "organisation_code": codes[org_index],
                "organisation_name": frame["organisation_name"].to_numpy()[org_index],
                "region": frame["region"].to_numpy()[org_index],
                "registered_patients": frame["registered_patients"].to_numpy()[org_index],
                "allocation_000s": frame["allocation_000s"].to_numpy()[org_index],
                "disposition": np.where(responded, "1.1", "2.112"),
                "eligible": True,
                "responded": responded,
            }
        )
        respondents = units[units["responded"]].reset_index(drop=True).copy()
        rows = np.flatnonzero(responded)
        columns = {}
        for name, info in catalogue.items():
            if not info.is_single_choice or name in ("role", "profession"):
                continue
            scale = info.scale
            if len(scale) < 2:
                continue
            latent = (
                0.5 * climate[org_index[rows]] + 0.5 * person[rows] + rng.normal(size=len(rows))
            )
            if name.startswith("mode_"):
                latent = latent + np.array(TYPE_SHIFTS)[planted[org_index[rows]]]
            if name == "infl_ccg":
                latent = latent + np.where(
                    np.isin(roles[rows], ("chair", "accountable_officer")), 0.6, -0.2
                )
            cuts = np.quantile(latent, np.linspace(0, 1, len(scale) + 1)[1:-1])
            answer = np.array(scale, dtype=object)[np.searchsorted(cuts, latent)]
            extras = [c for c, _ in info.choices if c in NON_SUBSTANTIVE]
            if extras:
                draw = rng.random(len(rows))
                answer = np.where(draw < 0.04, extras[0], answer)
                if len(extras) > 1:
                    answer = np.where((draw >= 0.04) & (draw < 0.05), extras[1], answer)
            columns[name] = answer
        respondents = pd.concat([respondents, pd.DataFrame(columns)], axis=1)
        data[number] = WaveData(
            number,
            f"Wave {number} (simulated)",
            units,
            respondents,
            frame,
            catalogue,
            is_simulated=True,
        )
    return StudyData(
        slug=slug, waves=data, successions={}, is_simulated=True, unit_label="organisation"
    )
