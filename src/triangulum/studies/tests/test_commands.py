"""The command line: createuser, study, init."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from triangulum.audit.models import AuditEvent
from triangulum.organisations.models import Organisation
from triangulum.studies.models import Role, Study

pytestmark = pytest.mark.django_db


def run(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_createuser_reads_the_password_from_stdin():
    out = run(
        "createuser",
        "ada",
        "--password-stdin",
        "--email",
        "ada@example.org",
        stdin=io.StringIO("a-long-enough-secret\n"),
    )
    assert "Created user 'ada'" in out
    user = get_user_model().objects.get(username="ada")
    assert user.check_password("a-long-enough-secret") and user.email == "ada@example.org"
    event = AuditEvent.objects.get(action="user.create")
    assert event.actor_label.startswith("triangulum createuser")


def test_createuser_refuses_weak_passwords_and_existing_users():
    with pytest.raises(CommandError, match="Password not accepted"):
        run("createuser", "bob", "--password", "bob")
    assert not get_user_model().objects.filter(username="bob").exists()
    run("createuser", "bob", "--password", "a-long-enough-secret")
    with pytest.raises(CommandError, match="A user named 'bob' already exists"):
        run("createuser", "bob", "--password", "another-long-secret")


def test_study_create_add_member_list_and_show():
    run("createuser", "carol", "--password", "a-long-enough-secret")
    out = run("study", "create", "--slug", "pilot", "--title", "A pilot study")
    assert "Created study 'pilot'" in out
    out = run("study", "add-member", "pilot", "carol", "--role", "lead")
    assert "Added carol to pilot as Lead" in out
    assert Study.objects.get(slug="pilot").memberships.get().role == Role.LEAD
    with pytest.raises(CommandError, match="already a member"):
        run("study", "add-member", "pilot", "carol", "--role", "viewer")
    with pytest.raises(CommandError, match="No study with slug 'nope'"):
        run("study", "add-member", "nope", "carol", "--role", "viewer")
    with pytest.raises(CommandError, match="No user named 'dave'"):
        run("study", "add-member", "pilot", "dave", "--role", "viewer")
    with pytest.raises(CommandError, match="already exists"):
        run("study", "create", "--slug", "pilot", "--title", "Again")
    assert "pilot\tA pilot study\t1 member(s)" in run("study", "list")
    assert run("study", "show", "pilot").startswith("# A pilot study\n")


def test_study_install_builtin_twice_updates_in_place():
    assert "Installed the built-in study" in run("study", "install-builtin")
    out = run("study", "install-builtin")
    assert (
        "Updated the built-in study 'ccg-clinical-leadership': 4 research questions, 6 phases"
        in out
    )
    assert Study.objects.count() == 1
    shown = run("study", "show", "ccg-clinical-leadership")
    assert "### 6. Dissemination" in shown and "**Status:** Planned" in shown


def test_init_creates_the_folder_loads_organisations_and_can_run_again(tmp_path, settings):
    settings.DATA_DIR = tmp_path / "new-study-folder"
    out = run("init", "--with-builtin-study")
    assert settings.DATA_DIR.is_dir()
    assert "NHS organisations: loaded" in out
    assert "triangulum study add-member ccg-clinical-leadership YOURNAME --role lead" in out
    organisations = Organisation.objects.count()
    assert organisations > 0
    run("init", "--with-builtin-study")  # safe to repeat
    assert Organisation.objects.count() == organisations
    assert Study.objects.filter(slug="ccg-clinical-leadership").count() == 1


def test_every_command_has_help():
    from django.core.management import load_command_class

    for name in ("init", "createuser", "study"):
        command = load_command_class("triangulum.studies", name)
        assert len(command.help) > 40
        assert "--dir" in command.create_parser("triangulum", name).format_help()
