"""Archives as real exporters write them, and archives built to attack the reader."""

import zipfile

import pytest
from django.core.management import CommandError, call_command

from triangulum.casework.refi import BrokenFileError, read_refi
from triangulum.casework.refi import archive as archive_module
from triangulum.testing import shared_path

SOURCE = "7d9415b0-0000-4000-8000-000000000001"
CODE = "7d9415b0-0000-4000-8000-000000000002"


def project_qde(text_path: str, start: int, end: int) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Trial">
 <CodeBook><Codes><Code guid="{CODE}" name="wait" isCodable="true"/></Codes></CodeBook>
 <Sources>
  <TextSource guid="{SOURCE}" name="Interview" plainTextPath="{text_path}">
   <PlainTextSelection guid="7d9415b0-0000-4000-8000-000000000003" startPosition="{start}" endPosition="{end}">
    <Coding guid="7d9415b0-0000-4000-8000-000000000004"><CodeRef targetGUID="{CODE}"/></Coding>
   </PlainTextSelection>
  </TextSource>
 </Sources>
</Project>"""


def make_archive(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_inner_file_named_after_the_project_is_read_and_reported(tmp_path):
    # ATLAS.ti 26 names the inner file after the project (see Ornio's conformance findings).
    text = "Q: How long did you wait?\r\nA: Three weeks 😀.\r\n"
    start = text.index("Three")
    path = make_archive(
        tmp_path / "Project.qdpx",
        {
            "Trial.qde": project_qde(f"internal://{SOURCE.upper()}.txt", start, start + 11),
            f"sources/{SOURCE.upper()}.txt": text.encode("utf-8"),
        },
    )
    project = read_refi(path)
    (deviation,) = project.deviations
    assert "'Trial.qde'" in deviation.message and deviation.location == "Project.qdpx"
    source = project.sources[0]
    assert source.text == "Q: How long did you wait?\nA: Three weeks 😀.\n"
    selection = source.selections[0]
    assert source.text[selection.start : selection.end] == "Three weeks"


def test_offsets_counted_with_crlf_as_one_can_be_read_on_request(tmp_path):
    text = "line one\r\nline two\r\nthe answer\r\n"
    lf_text = text.replace("\r\n", "\n")
    start = lf_text.index("the answer")
    path = make_archive(
        tmp_path / "crlf.qdpx",
        {
            "project.qde": project_qde(f"internal://{SOURCE}.txt", start, start + 10),
            f"sources/{SOURCE}.txt": b"\xef\xbb\xbf" + text.encode("utf-8"),
        },
    )
    as_stored = read_refi(path).sources[0]
    assert (
        as_stored.text[as_stored.selections[0].start : as_stored.selections[0].end] != "the answer"
    )
    counted_as_one = read_refi(path, crlf_counts_as=1).sources[0]
    sel = counted_as_one.selections[0]
    assert counted_as_one.text[sel.start : sel.end] == "the answer"


def test_decomposed_accents_in_a_source_keep_their_selection(tmp_path):
    text = "Cafe\u0301 au lait, cre\u0300me bru\u0302le\u0301e"
    start = text.index("cre")
    end = len(text)
    path = make_archive(
        tmp_path / "nfd.qdpx",
        {
            "project.qde": project_qde(f"internal://{SOURCE}.txt", start, end),
            f"sources/{SOURCE}.txt": text.encode("utf-8"),
        },
    )
    source = read_refi(path).sources[0]
    assert source.text == "Café au lait, crème brûlée"
    sel = source.selections[0]
    assert source.text[sel.start : sel.end] == "crème brûlée"


def test_missing_source_text_and_out_of_range_selection_are_reported(tmp_path):
    path = make_archive(
        tmp_path / "missing.qdpx",
        {"project.qde": project_qde(f"internal://{SOURCE}.txt", 0, 5)},
    )
    project = read_refi(path)
    assert project.missing_sources() == project.sources
    (missing,) = [d for d in project.deviations if d.kind == "missing"]
    assert missing.location == "missing.qdpx/project.qde, line 5, column 3"
    assert "not under sources/ in missing.qdpx" in missing.message
    short = make_archive(
        tmp_path / "short.qdpx",
        {
            "project.qde": project_qde(f"internal://{SOURCE}.txt", 2, 50),
            f"sources/{SOURCE}.txt": b"too short",
        },
    )
    project = read_refi(short)
    assert project.sources[0].selections == ()
    assert any(
        "runs past the end of its text (9 characters)" in d.message for d in project.deviations
    )


def test_path_traversal_in_a_text_path_reads_nothing_outside(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    path = make_archive(
        tmp_path / "evil.qdpx",
        {
            "project.qde": project_qde("internal://../secret.txt", 0, 2),
            "../secret.txt": b"from inside the zip",
        },
    )
    project = read_refi(path)
    assert project.sources[0].text is None
    assert any("points outside the archive" in d.message for d in project.deviations)


def test_zip_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(archive_module, "MAX_TEXT_BYTES", 10_000)
    path = make_archive(
        tmp_path / "bomb.qdpx",
        {
            "project.qde": project_qde(f"internal://{SOURCE}.txt", 0, 2),
            f"sources/{SOURCE}.txt": b"0" * 5_000_000,
        },
    )
    with pytest.raises(BrokenFileError, match="over the limit"):
        read_refi(path)
    monkeypatch.setattr(archive_module, "MAX_TEXT_BYTES", 64 * 1024 * 1024)
    with pytest.raises(BrokenFileError, match="zip bomb"):
        read_refi(path)


def test_archive_without_a_unique_project_file_is_refused(tmp_path):
    none = make_archive(tmp_path / "none.qdpx", {"sources/a.txt": b"x"})
    with pytest.raises(BrokenFileError, match="no .qde project file"):
        read_refi(none)
    two = make_archive(tmp_path / "two.qdpx", {"a.qde": b"<x/>", "b.qde": b"<x/>"})
    with pytest.raises(BrokenFileError, match="several .qde files"):
        read_refi(two)


def test_entity_expansion_is_refused(tmp_path):
    path = tmp_path / "laugh.qde"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY lol "lol">]>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="&lol;"/>'
    )
    with pytest.raises(BrokenFileError, match="refused"):
        read_refi(path)


def test_namespace_and_order_deviations_are_reported(tmp_path):
    path = tmp_path / "odd.qde"
    path.write_text(
        '<Project name="odd"><Sets><Set guid="{AAAAAAAA-0000-4000-8000-000000000001}" name="s">'
        '<MemberCode guid="aaaaaaaa-0000-4000-8000-000000000002"/></Set></Sets>'
        '<CodeBook><Codes><Code guid="AAAAAAAA-0000-4000-8000-000000000002" name="c" '
        'isCodable="yes" color="red"/></Codes></CodeBook></Project>'
    )
    project = read_refi(path)
    messages = [d.message for d in project.deviations]
    assert any("namespace 'none'" in m for m in messages)
    assert any("CodeBook comes after Sets" in m for m in messages)
    assert any("MemberCode uses guid=" in m for m in messages)
    assert any("isCodable='yes'" in m for m in messages)
    assert any("color='red'" in m for m in messages)
    assert project.sets[0].guid == "aaaaaaaa-0000-4000-8000-000000000001"  # braces dropped
    assert project.sets[0].member_codes == (project.codes[0].guid,)


def test_inspect_command_prints_counts_and_deviations(capsys):
    path = shared_path("fixtures", "refi_qda", "bedingjd_paper_themes", "project.qde")
    call_command("qdpx", "inspect", str(path))
    out = capsys.readouterr().out
    assert "REFI-QDA project '2025-06-16_ICLS_Conf_Themes_ALL_just10' from MAXQDA 24" in out
    assert "users 1, codes 307, sources 10 (10 plain text, 10 with text missing)" in out
    assert "sets 2" in out
    assert "Source texts missing (10):" in out


def test_inspect_command_json(capsys):
    import json

    path = shared_path("fixtures", "refi_qda", "re-qda_requal", "atlasti_23_codebook_valid.qdc")
    call_command("qdpx", "inspect", "--json", str(path))
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "codebook"
    assert report["counts"]["codes"] == 1 and report["counts"]["sets"] == 1
    assert report["deviations"][0]["location"] == "atlasti_23_codebook_valid.qdc, line 2, column 1"


def test_inspect_command_fails_on_a_broken_file_naming_line_and_column():
    path = shared_path("fixtures", "refi_qda", "openqda_refi-tools", "example_codebook_defect.qdc")
    with pytest.raises(CommandError, match=r"example_codebook_defect.qdc, line 132, column 15"):
        call_command("qdpx", "inspect", str(path))
