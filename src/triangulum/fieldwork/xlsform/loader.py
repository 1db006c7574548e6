"""Read an instrument file into an ``Instrument``, or say where it is wrong.

Spreadsheets (.xlsx, .xls, .csv, .md) and XLSForm-as-JSON go through pyxform, which
reads and validates the form's structure; the engine's item model is then built from
pyxform's survey dictionary and its expressions are checked by ``checks``. A compiled
ODK XForm (.xml) is read by ``xform``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pyxform.builder import create_survey_element_from_dict
from pyxform.errors import PyXFormError
from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from . import checks
from .model import (
    CALCULATE,
    GROUP,
    HIDDEN,
    METADATA,
    NOTE,
    QUESTION,
    REPEAT,
    Choice,
    Instrument,
    InstrumentError,
    Item,
    Place,
    Problem,
)

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".csv", ".md"}
TRUE_WORDS = {"yes", "true", "true()", "1"}
FALSE_WORDS = {"no", "false", "false()", "0"}
RESERVED_TABLE_HEADER = "reserved_name_for_field_list_labels_"


def load_instrument(path: str | Path) -> Instrument:
    """The instrument in ``path``; raises ``InstrumentError`` listing every problem."""
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InstrumentError(source, [Problem("the file does not exist")])
    if suffix == ".xml":
        from .xform import load_xform

        return load_xform(path)
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InstrumentError(source, [Problem(f"not readable JSON: {err}")]) from err
        if isinstance(data, dict) and data.get("type") == "survey":
            return _from_survey_json(source, data)
        if isinstance(data, dict) and "survey" in data:
            definition, problems = _definition_from_sheet_records(data)
            if problems:
                raise InstrumentError(source, problems)
            return _from_definition(source, definition, row_label="entry", row_offset=1)
        raise InstrumentError(
            source,
            [Problem("JSON must hold either sheets ('survey', 'choices', …) or a pyxform survey")],
        )
    if suffix not in SPREADSHEET_SUFFIXES:
        raise InstrumentError(
            source,
            [
                Problem(
                    f"unsupported file type {suffix!r}; use .xlsx, .xls, .csv, .md, .json or .xml"
                )
            ],
        )
    try:
        definition = get_xlsform(str(path))
    except PyXFormError as err:
        raise InstrumentError(source, [_problem_from_pyxform(err, path)]) from err
    return _from_definition(source, definition, fallback_name=path.stem)


# --------------------------------------------------------------------------- pyxform


def _from_definition(
    source: str,
    definition: DefinitionData,
    *,
    row_label: str = "row",
    row_offset: int = 2,
    fallback_name: str | None = None,
) -> Instrument:
    warnings: list[str] = []
    try:
        survey_json = workbook_to_json(
            workbook_dict=definition,
            form_name=None,
            fallback_form_name=definition.fallback_form_name or fallback_name or "data",
            warnings=warnings,
        )
        survey = create_survey_element_from_dict(survey_json)
        # Building the XForm makes pyxform resolve every ${name} and check the binds.
        survey.to_xml(validate=False, warnings=warnings)
    except PyXFormError as err:
        raise InstrumentError(source, [_problem_from_pyxform(err, Path(source))]) from err
    rows = _survey_rows(definition.survey or [], row_label, row_offset)
    instrument = _instrument_from_survey_json(source, survey_json, rows, warnings)
    problems = checks.check_instrument(instrument)
    if problems:
        raise InstrumentError(source, problems)
    return instrument


def _from_survey_json(source: str, data: dict) -> Instrument:
    warnings: list[str] = []
    try:
        survey = create_survey_element_from_dict(data)
        survey.to_xml(validate=False, warnings=warnings)
    except (PyXFormError, KeyError, TypeError, ValueError) as err:
        raise InstrumentError(source, [Problem(f"pyxform refused the survey: {err}")]) from err
    instrument = _instrument_from_survey_json(source, data, {}, warnings)
    problems = checks.check_instrument(instrument)
    if problems:
        raise InstrumentError(source, problems)
    return instrument


def _definition_from_sheet_records(data: dict) -> tuple[DefinitionData, list[Problem]]:
    """Sheets given as lists of records, as xlsform2lstsv writes them.

    That dialect differs from a spreadsheet in two ways, undone here: translated
    columns are nested (``"label": {"en": …}`` for ``label::en``), and a select's
    list may sit in its own ``list_name`` key. Keys starting with '_' are annotations.
    """
    problems: list[Problem] = []
    sheets: dict[str, list[dict]] = {}
    settings = data.get("settings") or []
    default_language = None
    if isinstance(settings, list) and settings and isinstance(settings[0], dict):
        default_language = settings[0].get("default_language")
    for sheet in ("survey", "choices", "settings"):
        records = data.get(sheet) or []
        if not isinstance(records, list):
            problems.append(Problem(f"the {sheet!r} sheet must be a list of records"))
            continue
        flat_records = []
        for index, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                problems.append(
                    Problem("each record must be an object", Place(sheet, index, "entry"))
                )
                continue
            flat = {}
            for key, value in record.items():
                if key.startswith("_") or value is None or value == "":
                    continue
                if isinstance(value, dict):
                    if sheet == "settings":
                        chosen = value.get(default_language) or next(iter(value.values()), "")
                        flat[key] = str(chosen)
                    else:
                        for language, text in value.items():
                            flat[f"{key}::{language}"] = str(text)
                else:
                    flat[key] = value if isinstance(value, str) else str(value)
            if sheet == "survey" and "list_name" in flat:
                list_name = flat.pop("list_name")
                kind = flat.get("type", "").strip()
                if kind in (
                    "select_one",
                    "select_multiple",
                    "rank",
                    "select one",
                    "select all that apply",
                ):
                    flat["type"] = f"{kind} {list_name}"
            flat_records.append(flat)
        sheets[sheet] = flat_records
    headers = {
        f"{sheet}_header": [{key: None for rec in recs for key in rec}]
        for sheet, recs in sheets.items()
    }
    definition = DefinitionData(
        survey=sheets.get("survey"),
        choices=sheets.get("choices") or None,
        settings=sheets.get("settings") or None,
        sheet_names=list(sheets),
        **headers,
    )
    return definition, problems


_ROW_IN_MESSAGE = re.compile(r"\[row\s*:\s*(\d+)\]")
_SHEET_IN_MESSAGE = re.compile(r"[Oo]n the '(\w+)' sheet|in the (\w+) sheet|(\w+) sheet")
_COLUMN_IN_MESSAGE = re.compile(r"the '([^']+)' (?:value|column)")
_DUPLICATE_HEADER = re.compile(r"Duplicate column header: (.+)")


def _problem_from_pyxform(err: PyXFormError, path: Path) -> Problem:
    message = str(err)
    duplicate = _DUPLICATE_HEADER.search(message)
    if duplicate:
        place, column = _locate_duplicate_header(path, duplicate.group(1).strip())
        return Problem(message, place, column)
    row = _ROW_IN_MESSAGE.search(message)
    sheet = _SHEET_IN_MESSAGE.search(message)
    column = _COLUMN_IN_MESSAGE.search(message)
    sheet_name = next((g for g in sheet.groups() if g), None) if sheet else None
    if sheet_name and sheet_name.lower() not in ("survey", "choices", "settings", "entities"):
        sheet_name = None
    if row and not sheet_name:
        sheet_name = "survey"
    place = Place(sheet=sheet_name, row=int(row.group(1)) if row else None)
    return Problem(message, place, column.group(1) if column else None)


def _locate_duplicate_header(path: Path, header: str) -> tuple[Place, str | None]:
    """The sheet and column letter of the second use of a column header."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return Place(row=1), header
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    workbook = load_workbook(path, read_only=True)
    try:
        for sheet in workbook.worksheets:
            first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
            seen = set()
            for index, value in enumerate(first, start=1):
                text = str(value).strip() if value is not None else ""
                if text and text in seen and text == header:
                    return Place(sheet=sheet.title, row=1), f"{get_column_letter(index)} ({header})"
                seen.add(text)
    finally:
        workbook.close()
    return Place(row=1), header


# --------------------------------------------------------------------------- item model


def _normalise_type(raw: str) -> str:
    return " ".join(raw.strip().lower().replace("_", " ").split())


def _survey_rows(
    records, row_label: str, row_offset: int
) -> dict[tuple[str, ...], tuple[Place, dict]]:
    """The source row of each named survey row, keyed by its group path."""
    found: dict[tuple[str, ...], tuple[Place, dict]] = {}
    stack: list[str] = []
    for index, record in enumerate(records):
        kind = _normalise_type(str(record.get("type", "")))
        name = str(record.get("name", "")).strip()
        place = Place("survey", index + row_offset, row_label)
        if kind.startswith("end ") and kind.split()[1] in ("group", "repeat", "loop"):
            if stack:
                stack.pop()
            continue
        if name:
            found[(*stack, name)] = (place, record)
        if kind.startswith("begin ") and name:
            stack.append(name)
    return found


def _texts(value) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {"default": str(value)}


def _truthy_expression(value) -> str | None:
    """``required``/``read_only`` cells: yes/no words or an expression."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.lower() in FALSE_WORDS:
        return None
    if text.lower() in TRUE_WORDS:
        return "true()"
    return text


def _type_name(node_type: str, bind_type: str, control: dict, preload: str | None) -> str:
    tag = control.get("tag")
    if preload:
        return node_type if node_type != "calculate" else "instanceID"
    if tag == "select1":
        return "select_one"
    if tag == "select":
        return "select_multiple"
    if tag == "odk:rank":
        return "rank"
    if tag == "range":
        return "range"
    if tag == "trigger":
        return "acknowledge"
    if tag == "upload":
        return control.get("mediatype", "file/*").split("/")[0].replace("application", "file")
    if node_type in ("note", "calculate", "hidden", "audit"):
        return node_type
    return {
        "string": "text",
        "int": "integer",
        "decimal": "decimal",
        "date": "date",
        "time": "time",
        "dateTime": "datetime",
        "geopoint": "geopoint",
        "geotrace": "geotrace",
        "geoshape": "geoshape",
        "barcode": "barcode",
        "binary": "file",
    }.get(bind_type, node_type)


def _instrument_from_survey_json(source, survey_json: dict, rows, warnings) -> Instrument:
    languages: set[str] = set()

    def note_languages(texts: dict[str, str]):
        languages.update(texts)

    def build(node: dict, parent_path: tuple[str, ...]) -> list[Item]:
        node_type = node.get("type", "")
        name = node.get("name", "")
        path = (*parent_path, name)
        place, record = rows.get(path, (None, None))
        if place is None:
            place, record = _place_of_generated(rows, path)
        labels = _texts(node.get("label"))
        hints = _texts(node.get("hint"))
        note_languages(labels)
        bind = dict(node.get("bind") or {})
        control = dict(node.get("control") or {})

        if node_type == "loop":
            return [_expand_loop(node, path, place, record, build, labels)]
        if node_type in ("group", "repeat"):
            item = Item(
                name=name,
                kind=GROUP if node_type == "group" else REPEAT,
                type=node_type,
                path=path,
                place=place,
                labels=labels,
                hints=hints,
                appearance=control.get("appearance", ""),
                relevant=bind.get("relevant"),
                repeat_count=control.get("jr:count"),
            )
            _note_columns(item, record)
            for child in node.get("children", []):
                item.children.extend(build(child, path))
            return [item]

        spec = QUESTION_TYPE_DICT.get(node_type, {})
        merged_bind = {**spec.get("bind", {}), **bind}
        merged_control = {**spec.get("control", {}), **control}
        preload = merged_bind.get("jr:preload")
        if preload:
            preload = merged_bind.get("jr:preloadParams") or preload
        type_name = _type_name(node_type, merged_bind.get("type", ""), merged_control, preload)
        if name.startswith(RESERVED_TABLE_HEADER) or node_type == "note":
            kind = NOTE
        elif preload:
            kind = METADATA
        elif node_type == "calculate":
            kind = CALCULATE
        elif "tag" not in merged_control or merged_control.get("tag") == "action":
            kind = HIDDEN
        else:
            kind = QUESTION
        choices = tuple(
            Choice(
                name=str(choice.get("name", "")),
                labels=_texts(choice.get("label")),
                columns={
                    k: str(v)
                    for k, v in choice.items()
                    if k not in ("name", "label", "media") and not isinstance(v, dict)
                },
            )
            for choice in node.get("choices") or []
        )
        for choice in choices:
            note_languages(choice.labels)
        parameters = {**spec.get("parameters", {}), **_parameters(node.get("parameters"))}
        item = Item(
            name=name,
            kind=kind,
            type=type_name,
            path=path,
            place=place,
            labels=labels,
            hints=hints,
            list_name=node.get("list_name") or node.get("itemset"),
            choices=choices,
            appearance=merged_control.get("appearance", ""),
            parameters={k: str(v) for k, v in parameters.items()},
            relevant=merged_bind.get("relevant"),
            required=_truthy_expression(merged_bind.get("required")),
            required_message=_texts(merged_bind.get("jr:requiredMsg")),
            readonly=_truthy_expression(merged_bind.get("readonly")) if kind == QUESTION else None,
            constraint=merged_bind.get("constraint"),
            constraint_message=_texts(merged_bind.get("jr:constraintMsg")),
            calculation=merged_bind.get("calculate"),
            default=_default_text(node.get("default")),
            choice_filter=node.get("choice_filter"),
            preload=preload,
        )
        _note_columns(item, record)
        return [item]

    items: list[Item] = []
    for child in survey_json.get("children", []):
        items.extend(build(child, ()))
    _link_parents(items, None)
    _mark_or_other(items)
    languages.discard("default")
    default_language = survey_json.get("default_language")
    return Instrument(
        source=source,
        title=str(survey_json.get("title") or survey_json.get("name") or ""),
        form_id=str(survey_json.get("id_string") or ""),
        version=str(survey_json.get("version") or ""),
        root_name=str(survey_json.get("name") or "data"),
        items=items,
        languages=sorted(languages),
        default_language=None if default_language == "default" else default_language,
        warnings=list(warnings),
    )


def _parameters(value) -> dict:
    if isinstance(value, dict):
        return value
    if not value:
        return {}
    pairs = (part.split("=", 1) for part in str(value).replace(";", " ").split() if "=" in part)
    return {key.strip(): val.strip() for key, val in pairs}


def _default_text(value) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _place_of_generated(rows, path: tuple[str, ...]) -> tuple[Place, dict | None]:
    """Items pyxform adds (``x_other``, ``x_count``, loop copies) sit at their source's row."""
    name = path[-1]
    for suffix in ("_other", "_count"):
        if name.endswith(suffix):
            found = rows.get((*path[:-1], name[: -len(suffix)]))
            if found:
                return found
    for length in range(len(path) - 1, 0, -1):
        trimmed = (*path[: length - 1], *path[length:])
        if trimmed in rows:
            return rows[trimmed]
    return Place(element=f"item {'/'.join(path)}"), None


def _note_columns(item: Item, record: dict | None) -> None:
    """Remember which source column each expression came from (aliases differ)."""
    if not record:
        return
    values = {
        attr: getattr(item, attr)
        for attr in (
            "relevant",
            "required",
            "readonly",
            "constraint",
            "calculation",
            "default",
            "choice_filter",
            "repeat_count",
        )
    }
    for column, cell in record.items():
        text = str(cell).strip()
        for attribute, value in values.items():
            if value is not None and text == str(value).strip() and attribute not in item.columns:
                item.columns[attribute] = column
    for column in record:
        lowered = column.lower()
        if lowered.startswith("hint") and "hint" not in item.columns:
            item.columns["hint"] = column
        if lowered in ("required", "requiredmsg") and "required" not in item.columns:
            item.columns["required"] = column
        if lowered == "parameters":
            item.columns["parameters"] = column


def _expand_loop(node, path, place, record, build, labels) -> Item:
    """``begin loop over LIST`` asks its questions once per choice: a group per choice."""
    loop = Item(name=path[-1], kind=GROUP, type="group", path=path, place=place, labels=labels)
    _note_columns(loop, record)
    for column in node.get("columns", []):
        column_labels = _texts(column.get("label"))
        group = Item(
            name=column["name"],
            kind=GROUP,
            type="group",
            path=(*path, column["name"]),
            place=place,
            labels=column_labels,
        )
        for child in node.get("children", []):
            copy = json.loads(json.dumps(child))
            if isinstance(copy.get("label"), dict):
                copy["label"] = {
                    lang: text.replace("%(label)s", column_labels.get(lang, column["name"]))
                    for lang, text in copy["label"].items()
                }
            elif isinstance(copy.get("label"), str):
                copy["label"] = copy["label"].replace(
                    "%(label)s", next(iter(column_labels.values()), column["name"])
                )
            group.children.extend(build(copy, group.path))
        loop.children.append(group)
    return loop


def _link_parents(items: list[Item], parent: Item | None) -> None:
    for item in items:
        item.parent = parent
        _link_parents(item.children, item)


def _mark_or_other(items: list[Item]) -> None:
    """pyxform turns ``or_other`` into an 'other' choice plus a ``NAME_other`` text item."""
    for index, item in enumerate(items):
        if item.children:
            _mark_or_other(item.children)
        if item.kind == QUESTION and item.choices and index + 1 < len(items):
            follower = items[index + 1]
            if (
                follower.name == f"{item.name}_other"
                and follower.relevant
                and "'other'" in follower.relevant
                and any(c.name == "other" for c in item.choices)
            ):
                item.or_other = True
