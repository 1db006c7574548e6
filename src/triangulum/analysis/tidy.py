"""The analysis's input as plain tables, whatever produced them. No Django here.

``data.py`` builds a ``StudyData`` from the database; the benchmark builds one in
memory. One ``WaveData`` per wave holds: ``units`` (every case of the wave, responding
or not, with the frame variables known for all), ``respondents`` (one row per complete
interview: the same columns plus one column per item, named by the item's name),
``frame`` (the organisations open at the wave's frame vintage) and the item
``catalogue`` read from the form.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Columns of ``units`` and ``respondents`` that are not items.
FRAME_COLUMNS = (
    "interview_id",
    "participant",
    "role",
    "role_group",
    "organisation_code",
    "organisation_name",
    "region",
    "registered_patients",
    "allocation_000s",
)
NON_SUBSTANTIVE = ("dont_know", "not_applicable")

# The real study's sharpest contrast: chairs and accountable officers against finance
# officers and GP members.
ROLE_GROUPS = {
    "chair": "chair_or_accountable_officer",
    "accountable_officer": "chair_or_accountable_officer",
    "chief_finance_officer": "finance_officer_or_gp_member",
    "gp_member": "finance_officer_or_gp_member",
}
ROLE_GROUP_LABELS = {
    "chair_or_accountable_officer": "Chairs and accountable officers",
    "finance_officer_or_gp_member": "Finance officers and GP members",
    "other_member": "Other members",
}


def role_group(role: object) -> str:
    return ROLE_GROUPS.get(str(role), "other_member")


@dataclass(frozen=True)
class ItemInfo:
    name: str
    label: str
    type: str  # "select one", "select all that apply", "integer", "text", ...
    list_name: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (name, label) in form order

    @property
    def scale(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.choices if name not in NON_SUBSTANTIVE)

    @property
    def scale_labels(self) -> tuple[str, ...]:
        return tuple(label for name, label in self.choices if name not in NON_SUBSTANTIVE)

    @property
    def is_single_choice(self) -> bool:
        return self.type == "select one"


def catalogue_from_form(form_json: dict) -> dict[str, ItemInfo]:
    """Asked items of a pyxform survey JSON, by name, in form order."""
    items: dict[str, ItemInfo] = {}
    shared_choices = form_json.get("choices", {}) or {}

    def label_of(node) -> str:
        label = node.get("label", "")
        if isinstance(label, dict):
            label = next(iter(label.values()), "")
        return str(label)

    def visit(nodes):
        for node in nodes:
            kind = node.get("type", "")
            if kind in ("group", "repeat"):
                if node.get("name") != "meta":
                    visit(node.get("children", []))
                continue
            if kind in ("note", "calculate", "start", "end", "today", "deviceid"):
                continue
            choices = node.get("choices") or shared_choices.get(node.get("list_name", ""), [])
            items[node["name"]] = ItemInfo(
                name=node["name"],
                label=label_of(node),
                type=kind,
                list_name=node.get("list_name", "") or "",
                choices=tuple((str(c["name"]), label_of(c)) for c in choices),
            )

    visit(form_json.get("children", []))
    return items


@dataclass
class WaveData:
    number: int
    name: str
    units: pd.DataFrame
    respondents: pd.DataFrame
    frame: pd.DataFrame
    catalogue: dict[str, ItemInfo]
    is_simulated: bool = False

    def items(self) -> list[str]:
        return [name for name in self.catalogue if name in self.respondents.columns]


@dataclass
class StudyData:
    slug: str
    waves: dict[int, WaveData]
    # Predecessor organisation code → successor code (mergers between the waves).
    successions: dict[str, str] = field(default_factory=dict)
    is_simulated: bool = False
    unit_label: str = "CCG"

    def inputs_hash(self) -> str:
        """SHA-256 over every table's content (row order normalised)."""
        digest = hashlib.sha256()
        for number in sorted(self.waves):
            wave = self.waves[number]
            for table in (wave.units, wave.respondents, wave.frame):
                ordered = table.reindex(sorted(table.columns), axis=1)
                key = "interview_id" if "interview_id" in ordered else "organisation_code"
                ordered = ordered.sort_values(key, kind="stable").reset_index(drop=True)
                digest.update(",".join(ordered.columns).encode())
                hashed = pd.util.hash_pandas_object(ordered.astype(str), index=False)
                digest.update(np.ascontiguousarray(hashed.to_numpy()).tobytes())
        digest.update(repr(sorted(self.successions.items())).encode())
        return digest.hexdigest()


def lower_median(values: list[str], scale: tuple[str, ...]) -> str | None:
    """The organisation rule for an ordered item: the lower median of members' answers.

    Only substantive answers count ("don't know" and "not applicable" are ignored); an
    organisation with none has no value. The lower median is itself an answer on the
    scale (no half-points), and with two members it is the less positive of the two.
    """
    positions = sorted(scale.index(v) for v in values if v in scale)
    if not positions:
        return None
    return scale[positions[(len(positions) - 1) // 2]]


def organisation_table(wave: WaveData, items: list[str]) -> pd.DataFrame:
    """One row per responding organisation: members' answers combined by ``lower_median``.

    Items without an ordered scale (text, numbers, multiple choice) are left out.
    """
    ordered = [
        name
        for name in items
        if name in wave.catalogue
        and wave.catalogue[name].is_single_choice
        and len(wave.catalogue[name].scale) >= 3
    ]
    respondents = wave.respondents
    if respondents.empty:
        return pd.DataFrame(columns=["organisation_code", "members_responding", *ordered])
    grouped = respondents.groupby("organisation_code", sort=True)
    frame_info = grouped[
        ["organisation_name", "region", "registered_patients", "allocation_000s"]
    ].first()
    out = frame_info.copy()
    out["members_responding"] = grouped.size()
    for name in ordered:
        scale = wave.catalogue[name].scale
        rank = {v: i for i, v in enumerate(scale)}
        positions = respondents[name].map(rank)
        lower = positions.groupby(respondents["organisation_code"]).quantile(
            0.5, interpolation="lower"
        )
        out[name] = [scale[int(p)] if p == p else None for p in lower.reindex(out.index)]
    return out.reset_index()
