"""The built-in analytical framework of the CCG study (``ccg-framework.toml``)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from .records import CodebookFileError, CodeRecord, check_records, normalise_path

FRAMEWORK_PATH = Path(__file__).with_name("ccg-framework.toml")
FIELDS = ("definition", "inclusion", "exclusion", "example", "colour")


def read_framework(path: Path = FRAMEWORK_PATH) -> tuple[str, list[CodeRecord]]:
    """The framework's name and its codes, parents first; CodebookFileError if malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CodebookFileError(path.name, f"is not valid TOML ({error})") from None
    if data.get("schema") != 1:
        raise CodebookFileError(path.name, f"unknown schema {data.get('schema')!r} (expected 1)")
    records = []
    for number, entry in enumerate(data.get("codes", []), start=1):
        unknown = set(entry) - {"path", "rq", *FIELDS}
        if unknown:
            raise CodebookFileError(
                path.name, f"unknown key(s) {', '.join(sorted(unknown))}", row=number
            )
        records.append(
            CodeRecord(
                path=normalise_path(entry.get("path", "")),
                rq=tuple(sorted(int(n) for n in entry.get("rq", []))),
                row=number,
                **{name: str(entry.get(name, "")).strip() for name in FIELDS},
            )
        )
    return str(data.get("name", path.stem)), check_records(records, path.name)


@lru_cache(maxsize=1)
def builtin_framework() -> tuple[str, tuple[CodeRecord, ...]]:
    name, records = read_framework()
    return name, tuple(records)
