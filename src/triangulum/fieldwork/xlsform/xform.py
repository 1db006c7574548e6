"""Read a compiled ODK XForm (.xml) into the same ``Instrument`` model.

Some instruments reach us only in compiled form (the XLSForm is lost); their binds
carry the same expressions, with absolute paths where an XLSForm has ``${name}``.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET

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

XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
JR = "{http://openrosa.org/javarosa}"
CONTROL_TYPES = {
    "select1": "select_one",
    "select": "select_multiple",
    "{http://www.opendatakit.org/xforms}rank": "rank",
    "range": "range",
    "trigger": "acknowledge",
    "upload": "file",
}
BIND_TYPES = {
    "string": "text",
    "int": "integer",
    "integer": "integer",
    "decimal": "decimal",
    "date": "date",
    "time": "time",
    "dateTime": "datetime",
    "geopoint": "geopoint",
    "geotrace": "geotrace",
    "geoshape": "geoshape",
    "barcode": "barcode",
    "binary": "file",
    "boolean": "text",
}


def _local(tag: str) -> str:
    return tag.split("}", 1)[-1]


def load_xform(path: Path) -> Instrument:
    source = str(path)
    try:
        root = SafeET.parse(path).getroot()
    except ParseError as err:
        raise InstrumentError(source, [Problem(f"not well-formed XML: {err}")]) from err
    head = root.find(f"{H}head")
    model = head.find(f"{XF}model") if head is not None else None
    instance = model.find(f"{XF}instance") if model is not None else None
    if instance is None or len(instance) == 0:
        raise InstrumentError(source, [Problem("no <model>/<instance> in the XForm's head")])
    data_root = instance[0]
    root_name = _local(data_root.tag)
    binds = {}
    for bind in model.findall(f"{XF}bind"):
        nodeset = bind.get("nodeset", "").strip()
        binds[nodeset] = bind
    translations = _itext(model)
    body = root.find(f"{H}body")
    controls: dict[str, Element] = {}
    repeats: set[str] = set()
    if body is not None:
        for element in body.iter():
            ref = element.get("ref") or element.get("nodeset")
            if not ref:
                continue
            if _local(element.tag) == "repeat":
                repeats.add(ref)
            else:
                controls.setdefault(ref, element)

    def build(element: Element, parent: tuple[str, ...]) -> Item:
        name = _local(element.tag)
        path = (*parent, name)
        nodeset = "/" + "/".join((root_name, *path))
        bind = binds.get(nodeset)
        control = controls.get(nodeset)
        place = Place(element=f"bind {nodeset}" if bind is not None else f"element {nodeset}")
        labels = _label_texts(control, "label", translations)
        hints = _label_texts(control, "hint", translations)
        attrs = dict(bind.attrib) if bind is not None else {}
        if len(element) and nodeset not in controls or nodeset in repeats:
            kind = REPEAT if nodeset in repeats else GROUP
            item = Item(
                name=name,
                kind=kind,
                type=kind,
                path=path,
                place=place,
                labels=labels,
                relevant=_attr(attrs, "relevant"),
            )
            seen = set()
            for child in element:
                # A repeat's instance may hold several copies (and a template) of a child.
                if _local(child.tag) in seen:
                    continue
                seen.add(_local(child.tag))
                item.children.append(build(child, path))
            return item
        bind_type = attrs.get("type", "string")
        preload = attrs.get(f"{JR}preloadParams") or attrs.get(f"{JR}preload")
        readonly = _attr(attrs, "readonly")
        if control is not None:
            type_name = CONTROL_TYPES.get(control.tag.replace(XF, ""), None) or CONTROL_TYPES.get(
                control.tag, BIND_TYPES.get(bind_type, "text")
            )
            kind = NOTE if readonly == "true()" and not attrs.get("calculate") else QUESTION
            if kind == NOTE:
                type_name = "note"
        elif attrs.get("calculate"):
            kind, type_name = CALCULATE, "calculate"
        elif preload:
            kind, type_name = METADATA, preload
        else:
            kind, type_name = HIDDEN, "hidden"
        if name == "instanceID" and parent and parent[-1] == "meta":
            kind, type_name = METADATA, "instanceID"
        choices = ()
        if control is not None:
            choices = tuple(
                Choice(
                    name=(item_el.findtext(f"{XF}value") or "").strip(),
                    labels=_label_texts(item_el, "label", translations),
                    columns={},
                )
                for item_el in control.findall(f"{XF}item")
            )
        default = (element.text or "").strip() or None
        item = Item(
            name=name,
            kind=kind,
            type=type_name,
            path=path,
            place=place,
            labels=labels,
            hints=hints,
            choices=choices,
            appearance=control.get("appearance", "") if control is not None else "",
            parameters={
                k: control.get(k)
                for k in ("start", "end", "step")
                if control is not None and control.get(k)
            },
            relevant=_attr(attrs, "relevant"),
            required=_attr(attrs, "required", drop_false=True),
            required_message=_texts(attrs.get(f"{JR}requiredMsg")),
            readonly=readonly if kind == QUESTION else None,
            constraint=_attr(attrs, "constraint"),
            constraint_message=_texts(attrs.get(f"{JR}constraintMsg")),
            calculation=_attr(attrs, "calculate")
            if kind == CALCULATE or kind == METADATA
            else None,
            default=default,
            preload=preload if kind == METADATA else None,
        )
        item.columns = {"calculation": "calculate", "readonly": "readonly"}
        return item

    items = [build(child, ()) for child in data_root]
    _link(items, None)
    languages = sorted(lang for lang in translations if lang != "default")
    instrument = Instrument(
        source=source,
        title=(head.findtext(f"{H}title") or "").strip(),
        form_id=data_root.get("id", ""),
        version=data_root.get("version", ""),
        root_name=root_name,
        items=items,
        languages=languages,
    )
    problems = checks.check_instrument(instrument)
    if problems:
        raise InstrumentError(source, problems)
    return instrument


def _attr(attrs: dict, key: str, *, drop_false: bool = False) -> str | None:
    value = attrs.get(key)
    if value is None or not value.strip():
        return None
    value = value.strip()
    if drop_false and value in ("false()", "false"):
        return None
    return value


def _texts(value: str | None) -> dict[str, str]:
    return {"default": value} if value else {}


def _itext(model: Element) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    itext = model.find(f"{XF}itext")
    if itext is None:
        return found
    for translation in itext.findall(f"{XF}translation"):
        language = translation.get("lang", "default")
        texts = found.setdefault(language, {})
        for text in translation.findall(f"{XF}text"):
            value = text.find(f"{XF}value")
            texts[text.get("id", "")] = (
                "".join(value.itertext()).strip() if value is not None else ""
            )
    return found


def _label_texts(element: Element | None, tag: str, translations) -> dict[str, str]:
    if element is None:
        return {}
    label = element.find(f"{XF}{tag}")
    if label is None:
        return {}
    ref = label.get("ref", "")
    if ref.startswith("jr:itext("):
        text_id = ref[len("jr:itext(") : -1].strip("'\"")
        return {lang: texts[text_id] for lang, texts in translations.items() if text_id in texts}
    text = "".join(label.itertext()).strip()
    return {"default": text} if text else {}


def _link(items: list[Item], parent: Item | None) -> None:
    for item in items:
        item.parent = parent
        _link(item.children, item)
