"""Opening a ``.qdpx`` archive, a bare ``.qde`` or a ``.qdc``, within safe limits.

Nothing is ever extracted to disk: members are read into memory by name, with a cap on
each member's size and on its compression ratio, so a zip bomb or a member named
``../../etc/passwd`` can do no harm.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BrokenFileError
from .model import Deviation

MAX_XML_BYTES = 256 * 1024 * 1024
MAX_TEXT_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 100_000
# Plain text and XML compress well, but not a thousandfold.
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_ABOVE_BYTES = 1024 * 1024

_SAFE_NAME = re.compile(r"^[A-Za-z0-9{}][A-Za-z0-9 _.{}-]*$")


@dataclass
class Container:
    """The XML of a REFI-QDA file and a way to fetch the source texts it points at."""

    display_name: str
    xml_name: str
    xml_bytes: bytes
    is_archive: bool
    deviations: list[Deviation] = field(default_factory=list)
    _zip: zipfile.ZipFile | None = None
    _members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)
    _sources_dir: Path | None = None

    def read_internal(self, name: str) -> bytes | None:
        """Bytes of ``internal://name`` (a file under ``sources/``), or None if absent.

        BrokenFileError for a member too large or too compressed to be a text.
        """
        if not _SAFE_NAME.match(name) or ".." in name:
            return None
        if self._zip is not None:
            info = self._members.get(f"sources/{name}".lower())
            if info is None:
                return None
            return _read_member(self._zip, info, MAX_TEXT_BYTES, self.display_name)
        if self._sources_dir is not None:
            # Exporters disagree on the case of GUIDs in file names.
            for candidate in self._sources_dir.iterdir():
                if candidate.name.lower() == name.lower() and candidate.is_file():
                    if candidate.stat().st_size > MAX_TEXT_BYTES:
                        raise BrokenFileError(
                            f"{candidate}: larger than {MAX_TEXT_BYTES} bytes, refused"
                        )
                    return candidate.read_bytes()
        return None

    def sources_description(self) -> str:
        if self._zip is not None:
            return f"not under sources/ in {self.display_name}"
        if self._sources_dir is None:
            return f"{self.display_name} is a bare project file with no sources/ folder beside it"
        return f"not in {self._sources_dir}"

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, where: str) -> bytes:
    if info.file_size > limit:
        raise BrokenFileError(
            f"{where}: member {info.filename!r} claims {info.file_size} bytes, over the "
            f"limit of {limit}; refused"
        )
    if info.file_size > RATIO_CHECK_ABOVE_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
        info.compress_size, 1
    ):
        raise BrokenFileError(
            f"{where}: member {info.filename!r} expands {info.file_size // max(info.compress_size, 1)}"
            f"-fold, which looks like a zip bomb; refused"
        )
    with archive.open(info) as handle:
        # The header's size may lie: read one byte past the limit to find out.
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise BrokenFileError(
            f"{where}: member {info.filename!r} is larger than {limit} bytes; refused"
        )
    return data


def open_container(path: Path) -> Container:
    path = Path(path)
    if not path.is_file():
        raise BrokenFileError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        return _open_archive(path)
    if path.stat().st_size > MAX_XML_BYTES:
        raise BrokenFileError(f"{path}: larger than {MAX_XML_BYTES} bytes; refused")
    sources_dir = path.parent / "sources"
    return Container(
        display_name=path.name,
        xml_name=path.name,
        xml_bytes=path.read_bytes(),
        is_archive=False,
        _sources_dir=sources_dir if sources_dir.is_dir() else None,
    )


def _open_archive(path: Path) -> Container:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise BrokenFileError(f"{path.name}: not a readable zip archive ({error})") from error
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        archive.close()
        raise BrokenFileError(f"{path.name}: {len(infos)} members, over the limit of {MAX_MEMBERS}")
    deviations: list[Deviation] = []
    members = {info.filename.lower(): info for info in infos if not info.is_dir()}
    unsafe = [
        info.filename
        for info in infos
        if info.filename.startswith(("/", "\\")) or ".." in Path(info.filename).parts
    ]
    for name in unsafe:
        deviations.append(
            Deviation(
                "nonstandard", path.name, f"member {name!r} points outside the archive; ignored"
            )
        )
    qde = [
        info
        for key, info in members.items()
        if key.endswith(".qde") and info.filename not in unsafe
    ]
    at_root = [info for info in qde if "/" not in info.filename]
    chosen = _choose_qde(path.name, at_root or qde)
    if chosen.filename != "project.qde":
        deviations.append(
            Deviation(
                "nonstandard",
                path.name,
                f"the project file inside is named {chosen.filename!r}; REFI-QDA requires "
                "'project.qde' at the archive's root (read anyway)",
            )
        )
    try:
        xml_bytes = _read_member(archive, chosen, MAX_XML_BYTES, path.name)
    except BrokenFileError:
        archive.close()
        raise
    return Container(
        display_name=path.name,
        xml_name=f"{path.name}/{chosen.filename}",
        xml_bytes=xml_bytes,
        is_archive=True,
        deviations=deviations,
        _zip=archive,
        _members=members,
    )


def _choose_qde(archive_name: str, candidates: list[zipfile.ZipInfo]) -> zipfile.ZipInfo:
    if not candidates:
        raise BrokenFileError(f"{archive_name}: the archive holds no .qde project file")
    if len(candidates) == 1:
        return candidates[0]
    for info in candidates:
        if info.filename.lower() == "project.qde":
            return info
    names = ", ".join(sorted(info.filename for info in candidates))
    raise BrokenFileError(
        f"{archive_name}: holds several .qde files ({names}) and none is 'project.qde'; "
        "which one is the project cannot be decided"
    )
