"""Reading source files: every format to canonical text, speaker turns, and bad files."""

import hashlib
import io
import zipfile

import docx
import pytest

from triangulum.casework.importers import SourceFileError, find_turns, read_source_file
from triangulum.casework.textoffsets import is_canonical


def turn_texts(text, turns):
    return [(t.label, t.timestamp, text[t.start : t.end]) for t in turns]


# --- speaker turns ----------------------------------------------------------------------


def test_turns_run_from_one_speaker_line_to_the_next():
    text = (
        "Interview 4, recorded at the CCG offices.\n\n"
        "Interviewer: How did the locality groups start?\n"
        "R: They grew out of the old clusters.\nWe kept the same people.\n\n"
        "I: And the board?\n"
        "P3: The board came later."
    )
    turns = find_turns(text)
    assert turn_texts(text, turns) == [
        ("Interviewer", "", "Interviewer: How did the locality groups start?"),
        ("R", "", "R: They grew out of the old clusters.\nWe kept the same people."),
        ("I", "", "I: And the board?"),
        ("P3", "", "P3: The board came later."),
    ]
    # The preamble belongs to nobody.
    assert turns[0].start == text.index("Interviewer")


def test_turns_with_timestamps_in_brackets_or_bare():
    text = (
        "[00:01:23] Interviewer: Start.\n00:02:05 Dr Smith: Reply.\n[00:03:00] Interviewer: Next."
    )
    turns = find_turns(text)
    assert [(t.label, t.timestamp) for t in turns] == [
        ("Interviewer", "00:01:23"),
        ("Dr Smith", "00:02:05"),
        ("Interviewer", "00:03:00"),
    ]
    assert text[turns[1].start : turns[1].end] == "00:02:05 Dr Smith: Reply."


def test_a_one_off_heading_with_a_colon_is_not_a_speaker_but_a_named_one_is():
    text = "Summary: the meeting agreed the plan.\nJane Smith: I agree.\nNote: none."
    assert find_turns(text) == []
    # Told about the speaker (a participant pseudonym or a speaker map), it is one.
    turns = find_turns(text, known_labels=["jane smith"])
    assert [t.label for t in turns] == ["Jane Smith"]
    # So is a title and a name, and any label after a timestamp.
    assert [t.label for t in find_turns("Dr Smith: Yes.")] == ["Dr Smith"]
    assert [t.label for t in find_turns("[00:10] Jane Smith: Yes.")] == ["Jane Smith"]
    # A name that opens two lines is a speaker without being told.
    dialogue = "Dr Smith: One.\nMs Jones: Two.\nDr Smith: Three.\nMs Jones: Four."
    assert [t.label for t in find_turns(dialogue)] == ["Dr Smith", "Ms Jones"] * 2


def test_a_sentence_with_a_colon_is_not_a_speaker_line():
    text = "I: Tell me.\nThe reason was this: nobody asked.\nR: Quite."
    turns = find_turns(text)
    assert [t.label for t in turns] == ["I", "R"]
    assert text[turns[0].start : turns[0].end] == "I: Tell me.\nThe reason was this: nobody asked."


# --- formats ----------------------------------------------------------------------------


def test_plain_text_is_canonicalised_and_hashed():
    raw = "Interviewer: Cafe\u0301?\r\nR: Oui.\r\n".encode()
    result = read_source_file("notes/int-01.txt", raw)
    assert result.text == "Interviewer: Café?\nR: Oui.\n"
    assert is_canonical(result.text)
    assert result.media_type == "text/plain"
    assert result.sha256 == hashlib.sha256(raw).hexdigest()
    assert result.file_name == "int-01.txt"
    assert [t.label for t in result.turns] == ["Interviewer", "R"]


def test_markdown_and_utf16_with_bom():
    assert read_source_file("a.md", b"# Notes\n\nI: x\n").media_type == "text/markdown"
    assert read_source_file("b.txt", "R: ü".encode("utf-16")).text == "R: ü"
    assert read_source_file("c.txt", "\ufeffR: ü".encode("utf-8")).text == "R: ü"


def test_text_that_is_not_utf8_is_refused_with_its_line():
    data = "I: one\nR: two\nI: caf\xe9\n".encode("latin-1")
    with pytest.raises(SourceFileError, match=r"^legacy\.txt, line 3: byte 20 is not valid UTF-8"):
        read_source_file("legacy.txt", data)


def test_unsupported_and_empty_files_are_refused_by_name():
    with pytest.raises(SourceFileError, match=r'^photo\.jpg: files of type "\.jpg" cannot'):
        read_source_file("photo.jpg", b"\xff\xd8")
    with pytest.raises(SourceFileError, match=r"^blank\.txt: has no text"):
        read_source_file("blank.txt", b" \n\n ")


def docx_bytes(paragraphs):
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_become_lines():
    data = docx_bytes(["Interview with P3", "I: How did it start?", "P3: With the practices.", ""])
    result = read_source_file("p3.docx", data)
    assert result.text == "Interview with P3\nI: How did it start?\nP3: With the practices.\n"
    assert [t.label for t in result.turns] == ["I", "P3"]
    assert result.media_type.endswith("wordprocessingml.document")


def test_a_broken_docx_is_refused_by_name():
    with pytest.raises(SourceFileError, match=r"^broken\.docx: is not a readable Word document"):
        read_source_file("broken.docx", b"PK\x03\x04 not really a zip")


ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content
  xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">
 <office:body><office:text>
  <text:h text:outline-level="1">Group interview, site B</text:h>
  <text:p>Facilitator: Who leads<text:s text:c="2"/>here?</text:p>
  <text:p>P1: <text:span>The GPs</text:span>,<text:tab/>mostly.<text:line-break/>And nurses.</text:p>
  <text:list><text:list-item><text:p>P2: Managers too.</text:p></text:list-item></text:list>
 </office:text></office:body>
</office:document-content>"""


def odt_bytes(content: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
    return buffer.getvalue()


def test_odt_paragraphs_headings_spans_spaces_tabs_and_breaks():
    result = read_source_file("group.odt", odt_bytes(ODT_CONTENT))
    assert result.text == (
        "Group interview, site B\n"
        "Facilitator: Who leads  here?\n"
        "P1: The GPs,\tmostly.\nAnd nurses.\n"
        "P2: Managers too."
    )
    assert [t.label for t in result.turns] == ["Facilitator", "P1", "P2"]


def test_odt_with_bad_xml_or_entities_is_refused():
    with pytest.raises(SourceFileError, match=r"^bad\.odt: content\.xml is not well-formed XML"):
        read_source_file("bad.odt", odt_bytes("<office:document-content><unclosed>"))
    bomb = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><d>&b;</d>'
    with pytest.raises(SourceFileError, match=r"^bomb\.odt: content\.xml refused"):
        read_source_file("bomb.odt", odt_bytes(bomb))
    with pytest.raises(SourceFileError, match=r"^nozip\.odt: is not an OpenDocument file"):
        read_source_file("nozip.odt", b"plain text")


def minimal_pdf(page_texts) -> bytes:
    """A small valid PDF, one page per text, each a single line drawn with Tj."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for text in page_texts:
        page_number = len(objects) + 1
        kids.append(f"{page_number} 0 R")
        if text is None:
            stream = b""
        else:
            escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {page_number + 2} 0 R >> >> "
            f"/Contents {page_number + 1} 0 R >>"
        )
        objects.append(
            f"<< /Length {len(stream)} >>\nstream\n".encode("latin-1") + stream + b"\nendstream"
        )
        objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        body = body if isinstance(body, bytes) else body.encode("latin-1")
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def test_pdf_text_layer_page_by_page():
    data = minimal_pdf(["I: What changed after 2013?", "R: The CCG took over."])
    result = read_source_file("scan.pdf", data)
    assert result.text == "I: What changed after 2013?\n\nR: The CCG took over."
    assert [t.label for t in result.turns] == ["I", "R"]
    assert result.media_type == "application/pdf"


def test_pdf_without_a_text_layer_is_refused_clearly():
    with pytest.raises(
        SourceFileError, match=r"^image\.pdf: has no text layer in any of its 2 page"
    ):
        read_source_file("image.pdf", minimal_pdf([None, None]))
    with pytest.raises(SourceFileError, match=r"^junk\.pdf: is not a readable PDF"):
        read_source_file("junk.pdf", b"%PDF-1.4\nnonsense")


VTT = """WEBVTT

NOTE recorded on a laptop

1
00:00:01.000 --> 00:00:04.000
<v Interviewer>How did the frailty work start?</v>

2
00:00:04.500 --> 00:00:09.000
<v Dr Smith>With the geriatricians,
<i>really</i>.

00:00:09.000 --> 00:00:12.000
And the district nurses &amp; social workers.

00:01:00.000 --> 00:01:03.000
<v Interviewer>Thank you.
"""


def test_vtt_cues_become_turns_with_timestamps_and_voices():
    result = read_source_file("call.vtt", VTT.encode())
    assert result.text == (
        "[00:00:01] Interviewer: How did the frailty work start?\n\n"
        "[00:00:04] Dr Smith: With the geriatricians, really. "
        "And the district nurses & social workers.\n\n"
        "[00:01:00] Interviewer: Thank you."
    )
    assert [(t.label, t.timestamp) for t in result.turns] == [
        ("Interviewer", "00:00:01"),
        ("Dr Smith", "00:00:04"),
        ("Interviewer", "00:01:00"),
    ]
    assert result.text[result.turns[1].start : result.turns[1].end].startswith("[00:00:04] Dr")


SRT = """1
00:00:01,000 --> 00:00:03,000
I: Who chairs the board?

2
00:00:03,500 --> 00:00:06,000
P3: A GP. It has
always been a GP.

3
00:00:06,500 --> 00:00:07,000
Since 2013.
"""


def test_srt_speaker_prefixes_become_turns():
    result = read_source_file("call.srt", SRT.replace("\n", "\r\n").encode())
    assert result.text == (
        "[00:00:01] I: Who chairs the board?\n\n"
        "[00:00:03] P3: A GP. It has always been a GP. Since 2013."
    )
    assert [(t.label, t.timestamp) for t in result.turns] == [("I", "00:00:01"), ("P3", "00:00:03")]


def test_bad_subtitles_name_the_line():
    with pytest.raises(SourceFileError, match=r"^x\.vtt, line 1: a WebVTT file must begin"):
        read_source_file("x.vtt", b"1\n00:00:01.000 --> 00:00:02.000\nHi\n")
    bad = "1\n00:00:01,000 --> 00:00:02,000\nI: Hi\n\n2\n00:00:0x,000 --> 00:00:03,000\nR: Yo\n"
    with pytest.raises(SourceFileError, match=r"^y\.srt, line 6: .* is not a valid cue timing"):
        read_source_file("y.srt", bad.encode())
