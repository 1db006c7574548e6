"""triangulum report: files written, builds recorded, clear errors that exit non-zero."""

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from triangulum.audit.models import AuditEvent
from triangulum.reports import actions
from triangulum.reports.models import ReportBuild
from triangulum.reports.tests.sample_report import sample_report
from triangulum.studies.models import Study

pytestmark = pytest.mark.django_db


@pytest.fixture
def study():
    return Study.objects.create(slug="report-study", title="Report study", is_simulated=True)


@pytest.fixture(autouse=True)
def hand_made_reports(monkeypatch):
    """The command's reports come from the hand-made builder (content is tested elsewhere)."""
    monkeypatch.setattr(
        actions, "default_builder", lambda: lambda study, kind: sample_report(kind=kind)
    )
    monkeypatch.setattr(
        actions, "build_all", lambda study, kinds: {k: sample_report(kind=k) for k in kinds}
    )


def test_writes_each_format_of_each_kind(study, tmp_path, capsys):
    call_command(
        "report", "practitioner", "guidance", study="report-study", out=str(tmp_path / "out")
    )
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert names == sorted(
        f"simulated_report-study-{kind}.{fmt}"
        for kind in ("practitioner", "guidance")
        for fmt in ("docx", "pdf", "html")
    )
    output = capsys.readouterr().out
    assert "simulated_report-study-guidance.pdf" in output
    assert "simulated data" in output
    builds = ReportBuild.objects.filter(study=study)
    assert builds.count() == 6
    assert {b.built_by_name for b in builds} == {"triangulum report"}
    event = AuditEvent.objects.get(action="reports.write")
    assert len(event.after["files"]) == 6 and event.study_id == study.pk


def test_formats_repeated_or_comma_separated(study, tmp_path):
    call_command(
        "report",
        "article",
        study="report-study",
        formats=["pdf,html", "html"],
        out=str(tmp_path),
    )
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".html", ".pdf"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["memo", "--study", "report-study"], "Unknown report kind 'memo'"),
        (["article", "--study", "report-study", "--format", "odt"], "Unknown format 'odt'"),
        (["article", "--study", "nope"], "No study with slug 'nope' (studies here: report-study)"),
    ],
)
def test_bad_requests_are_named_and_nothing_is_written(study, tmp_path, arguments, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("report", *arguments, "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    assert not ReportBuild.objects.exists()


def test_out_must_be_a_folder(study, tmp_path):
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(CommandError, match="is a file, not a folder"):
        call_command("report", "article", "--study", "report-study", "--out", str(afile))


def test_errors_exit_non_zero(study, tmp_path, capsys):
    utility = ManagementUtility(
        ["triangulum", "report", "leaflet", "--study", "report-study", "--out", str(tmp_path)]
    )
    with pytest.raises(SystemExit) as exited:
        utility.execute()
    assert exited.value.code != 0
    assert "Unknown report kind 'leaflet'" in capsys.readouterr().err


def test_missing_content_module_is_a_clear_error(study, tmp_path, monkeypatch):
    import sys

    import triangulum.reports

    monkeypatch.undo()  # the real builders
    # As if reports/build.py were absent: the import machinery refuses it.
    monkeypatch.delattr(triangulum.reports, "build", raising=False)
    monkeypatch.setitem(sys.modules, "triangulum.reports.build", None)
    with pytest.raises(CommandError, match="no report content yet"):
        call_command("report", "article", "--study", "report-study", "--out", str(tmp_path))


def test_a_report_that_fails_to_build_leaves_no_files_and_no_builds(study, tmp_path):
    def builder(study, kind):
        if kind == "article":
            raise ValueError("article content broken")
        return sample_report(kind=kind)

    with pytest.raises(ValueError, match="article content broken"):
        actions.write_reports(
            study=study,
            kinds=["practitioner", "article"],
            formats=None,
            out_dir=tmp_path / "out",
            actor="test",
            builder=builder,
        )
    assert list((tmp_path / "out").iterdir()) == []
    assert not ReportBuild.objects.exists()
    assert not AuditEvent.objects.filter(action="reports.write").exists()


def test_the_builder_keyword_replaces_the_content(study, tmp_path):
    paths = actions.write_reports(
        study=study,
        kinds="guidance",
        formats="html",
        out_dir=tmp_path,
        actor="test",
        builder=lambda study, kind: sample_report(kind=kind, title="Hand-made"),
    )
    assert [p.name for p in paths] == ["simulated_report-study-guidance.html"]
    assert b"Hand-made" in paths[0].read_bytes()
