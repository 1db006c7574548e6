"""No registered person's real name or e-mail address reaches any report file.

Known names and e-mail addresses are written into the very segments the reports
quote (same length, so every other coding keeps its offsets); then all three
reports are built in all three formats and each file's text is searched.
"""

import html
import io
import re
import zipfile
from importlib.util import find_spec

import pytest

from triangulum.casework.models import PseudonymCandidate, Source
from triangulum.reports import actions
from triangulum.reports.document import REPORT_KINDS
from triangulum.reports.tests.checks import pdf_page_texts
from triangulum.studies.models import ParticipantContact
from triangulum.testing import demo_in_test_database, require, shared_path

pytestmark = [pytest.mark.django_db, pytest.mark.acceptance]

EXTRA_EMAIL = "jane.planted@nhs.net"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    shared_path("data", "nhs")
    require(
        find_spec("triangulum.reports.build") is not None,
        "reports/build.py (the report content) is not written yet",
    )
    folder = tmp_path_factory.mktemp("reports-privacy-demo")
    with demo_in_test_database(django_db_blocker, folder) as ctx:
        with django_db_blocker.unblock():
            yield ctx


def _quoted_segments(study) -> list[int]:
    reports = actions.build_all(study, list(REPORT_KINDS))
    ids = []
    for report in reports.values():
        for cite in report.citations():
            if cite.ref.startswith("segment:"):
                coding_id = int(cite.ref.split(":", 1)[1])
                if coding_id not in ids:
                    ids.append(coding_id)
    return ids


def _plant(coding_id: int, planted: str) -> bool:
    """Overwrite part of the coded segment with ``planted``, away from reviewed names."""
    from triangulum.casework.models import Coding

    coding = Coding.objects.select_related("source").get(pk=coding_id)
    source = coding.source
    taken = list(PseudonymCandidate.objects.filter(source=source).values_list("start", "end"))
    for start in range(coding.start + 1, coding.end - len(planted)):
        end = start + len(planted)
        if all(end <= a or b <= start for a, b in taken):
            text = source.text[:start] + planted + source.text[end:]
            assert len(text) == len(source.text)
            Source.objects.filter(pk=source.pk).update(text=text)
            return True
    return False


def _docx_text(data: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(data))
    parts = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml")]
    return html.unescape(re.sub(r"<[^>]+>", "", "".join(parts)))


def _html_text(data: bytes) -> str:
    raw = data.decode("utf-8")
    return raw + "\n" + html.unescape(re.sub(r"<[^>]+>", " ", raw))


def _flat(text: str) -> str:
    return " ".join(text.split()).lower()


def test_no_real_name_or_email_in_any_report(demo, tmp_path):
    study = demo.shared["study"]
    contacts = list(
        ParticipantContact.objects.filter(participant__study=study)
        .exclude(full_name="")
        .exclude(email="")
        .order_by("participant_id")[:4]
    )
    assert contacts, "the demo registers no participant contacts to plant"
    segments = _quoted_segments(study)
    assert segments, "the reports quote no segments: nothing would test the scrubbing"
    planted_in = []
    for index, contact in enumerate(contacts):
        planted = f" {contact.full_name} ({contact.email}) and {EXTRA_EMAIL} "
        if _plant(segments[index % len(segments)], planted):
            planted_in.append(segments[index % len(segments)])
    assert planted_in, "no quoted segment was long enough to plant a name in"
    # The planted segments are still quoted, so the names went through the report builders.
    assert set(planted_in) <= set(_quoted_segments(study))

    paths = actions.write_reports(
        study=study, kinds=REPORT_KINDS, formats=actions.FORMATS, out_dir=tmp_path, actor="test"
    )
    forbidden = [c.full_name for c in contacts] + [c.email for c in contacts] + [EXTRA_EMAIL]
    for path in paths:
        data = path.read_bytes()
        if path.suffix == ".docx":
            text = _docx_text(data)
        elif path.suffix == ".pdf":
            text = "\n".join(pdf_page_texts(data))
        else:
            text = _html_text(data)
        flat = _flat(text)
        for secret in forbidden:
            assert _flat(secret) not in flat, f"{secret!r} appears in {path.name}"
