"""The study's fieldwork as tidy tables, read straight from the models.

``study_data(study)`` gives a ``tidy.StudyData``: for each wave, every case (for the
non-response weights), one row per complete interview with its answers in columns
named by item, and the frame of organisations open at the wave's vintage. Answers are
keyed in storage by item path (``/form/group/name``); the column is the path's last
step (repeat instance numbers would be dropped, and this study's forms have none).
Values are kept as the engine stores them (text; integers become numbers).
"""

from __future__ import annotations

import pandas as pd

from triangulum.fieldwork.models import Answer, Interview, Wave
from triangulum.organisations.models import Organisation, Succession

from .tidy import FRAME_COLUMNS, StudyData, WaveData, catalogue_from_form, role_group

INELIGIBLE_PREFIX = "4"  # AAPOR 4.x: not eligible (out of sample, left the board, ...)


def item_name(path: str) -> str:
    step = path.rstrip("/").rsplit("/", 1)[-1]
    return step.split("[", 1)[0]


def _frame(wave: Wave) -> pd.DataFrame:
    vintage = wave.frame_vintage
    organisations = (
        Organisation.objects.filter(org_type="ccg")
        .exclude(open_date__gt=vintage)
        .exclude(close_date__lt=vintage)
    )
    rows = [
        {
            "organisation_code": org.ods_code,
            "organisation_name": org.name,
            "region": org.region_name or org.region_code or "unknown",
            "registered_patients": org.registered_patients,
            "allocation_000s": org.allocation_000s,
        }
        for org in organisations
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "organisation_code",
            "organisation_name",
            "region",
            "registered_patients",
            "allocation_000s",
        ],
    )


def wave_data(wave: Wave) -> WaveData:
    interviews = (
        Interview.objects.filter(wave=wave)
        .select_related("participant__organisation")
        .order_by("id")
    )
    units = []
    complete_ids = []
    for interview in interviews:
        participant = interview.participant
        org = participant.organisation
        units.append(
            {
                "interview_id": interview.pk,
                "participant": participant.pseudonym,
                "role": participant.role_category,
                "organisation_code": org.ods_code if org else "unknown",
                "organisation_name": org.name if org else "unknown",
                "region": (org.region_name or org.region_code or "unknown") if org else "unknown",
                "registered_patients": org.registered_patients if org else None,
                "allocation_000s": org.allocation_000s if org else None,
                "disposition": interview.disposition,
                "eligible": not interview.disposition.startswith(INELIGIBLE_PREFIX),
                "responded": interview.status == Interview.Status.COMPLETE,
            }
        )
        if interview.status == Interview.Status.COMPLETE:
            complete_ids.append(interview.pk)
    unit_table = pd.DataFrame(
        units,
        columns=[*FRAME_COLUMNS[:3], *FRAME_COLUMNS[4:], "disposition", "eligible", "responded"],
    )
    catalogue = catalogue_from_form(wave.instrument_version.form_json)
    answers: dict[int, dict[str, object]] = {pk: {} for pk in complete_ids}
    integer_items = {n for n, info in catalogue.items() if info.type in ("integer", "decimal")}
    for interview_id, path, value in (
        Answer.objects.filter(interview__wave=wave, interview__status=Interview.Status.COMPLETE)
        .values_list("interview_id", "item_path", "value")
        .iterator(chunk_size=5000)
    ):
        name = item_name(path)
        if name in integer_items and value not in (None, ""):
            try:
                value = float(value)
            except (TypeError, ValueError):
                pass
        answers[interview_id][name] = value
    respondents = unit_table[unit_table["responded"]].copy()
    # The respondent's own answer to the role question wins over the register's category.
    item_columns = [n for n in catalogue if any(n in a for a in answers.values())]
    item_frame = pd.DataFrame.from_dict(answers, orient="index", columns=item_columns)
    item_frame = item_frame.rename(columns={"role": "role_item"})
    respondents = respondents.join(item_frame, on="interview_id")
    if "role_item" in respondents:
        respondents["role"] = respondents["role_item"].where(
            respondents["role_item"].notna(), respondents["role"]
        )
        respondents = respondents.drop(columns=["role_item"])
    unit_table["role_group"] = unit_table["role"].map(role_group)
    respondents["role_group"] = respondents["role"].map(role_group)
    return WaveData(
        number=wave.number,
        name=wave.name,
        units=unit_table,
        respondents=respondents.reset_index(drop=True),
        frame=_frame(wave),
        catalogue=catalogue,
        is_simulated=wave.is_simulated,
    )


def successions_between(first: Wave, second: Wave) -> dict[str, str]:
    """Predecessor → successor CCG codes for changes after wave 1's vintage up to wave 2's.

    Where a CCG was split, it is followed to the successor that took the largest share.
    """
    found: dict[str, tuple[float, str]] = {}
    for succession in Succession.objects.filter(
        effective_date__gt=first.frame_vintage,
        effective_date__lte=second.frame_vintage,
        predecessor__org_type="ccg",
        successor__org_type="ccg",
    ).select_related("predecessor", "successor"):
        share = succession.share if succession.share is not None else 1.0
        code = succession.predecessor.ods_code
        if code not in found or share > found[code][0]:
            found[code] = (share, succession.successor.ods_code)
    return {code: successor for code, (_, successor) in found.items()}


def study_data(study) -> StudyData:
    waves = list(
        Wave.objects.filter(study=study).select_related("instrument_version").order_by("number")
    )
    data = {wave.number: wave_data(wave) for wave in waves}
    successions = successions_between(waves[0], waves[-1]) if len(waves) > 1 else {}
    return StudyData(
        slug=study.slug,
        waves=data,
        successions=successions,
        is_simulated=study.is_simulated or any(w.is_simulated for w in waves),
    )
