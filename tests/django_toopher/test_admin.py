"""The admin: registrations, the four Toopher actions on the User and profile changelists
(permission, confirmation, audit, sessions ended, per-user failures), terminals, the
read-only audit trail, and the operator commands. Against the live sandbox."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

import toopher
from django_toopher import admin as toopher_admin
from django_toopher.internal.client import get_client
from django_toopher.internal.cookies import new_terminal_id
from django_toopher.internal.flows import admin as admin_flow
from django_toopher.models import AuditEvent, Terminal, ToopherProfile
from django_toopher.testing import pair
from tests.django_toopher.enroll_support import configure, login, make_user

pytestmark = pytest.mark.django_db

USERS = "admin:auth_user_changelist"
PROFILES = "admin:django_toopher_toopherprofile_changelist"
TERMINALS = "admin:django_toopher_terminal_changelist"
ACTIONS = ["toopher_disable", "toopher_enable", "toopher_reset_pairing",
           "toopher_forget_terminals"]


@pytest.fixture
def live(settings, toopher_requester):
    return configure(settings, toopher_requester)


@pytest.fixture
def root(live):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_web(root):
    return login(Client(), root)


@pytest.fixture
def alice(live):
    return make_user("alice")


@pytest.fixture
def bob(live):
    return make_user("bob")


def run_action(client, changelist, action, objects, *, confirm=True, follow=False):
    data = {"action": action, "_selected_action": [o.pk for o in objects]}
    if confirm:
        data["post"] = "yes"
    else:
        data["index"] = 0
    return client.post(reverse(changelist), data, follow=follow)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def staff_with(*codenames):
    user = make_user("staffer", is_staff=True)
    for codename in codenames:
        app, code = codename.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app,
                                                         codename=code))
    return get_user_model().objects.get(pk=user.pk)


# -- registration ---------------------------------------------------------------------------------


def test_models_are_registered():
    for model in (ToopherProfile, Terminal, AuditEvent):
        assert model in admin.site._registry


def test_user_admin_keeps_its_class_and_gains_the_actions():
    from django.contrib.auth.admin import UserAdmin

    model_admin = admin.site._registry[get_user_model()]
    assert type(model_admin) is UserAdmin
    names = [a.__name__ for a in model_admin.actions]
    assert names[-4:] == ACTIONS
    assert toopher_admin.add_user_admin_actions() is True  # idempotent
    assert [a.__name__ for a in model_admin.actions] == names


def test_add_user_admin_actions_on_a_site_without_users():
    assert toopher_admin.add_user_admin_actions(admin.AdminSite(name="empty")) is False


@pytest.mark.parametrize("changelist", [USERS, PROFILES])
def test_superuser_sees_the_actions(admin_web, alice, changelist):
    ToopherProfile.objects.create(user=alice)
    html = admin_web.get(reverse(changelist)).content.decode()
    for name in ACTIONS:
        assert f'value="{name}"' in html
    assert "Disable Toopher for selected users" in html


def test_staff_without_permission_neither_sees_nor_runs_them(live, alice):
    staff = staff_with("auth.view_user", "auth.change_user")
    client = login(Client(), staff)
    html = client.get(reverse(USERS)).content.decode()
    assert "toopher_" not in html
    response = run_action(client, USERS, "toopher_disable", [alice], follow=True)
    assert response.status_code == 200
    assert not ToopherProfile.objects.filter(user=alice, enabled=False).exists()
    assert not AuditEvent.objects.exists()


def test_profile_permission_allows_profile_actions_only(live, alice):
    staff = staff_with("auth.view_user", "django_toopher.change_toopherprofile")
    client = login(Client(), staff)
    html = client.get(reverse(USERS)).content.decode()
    assert 'value="toopher_disable"' in html and 'value="toopher_reset_pairing"' in html
    assert 'value="toopher_forget_terminals"' not in html
    add_terminal(alice)
    run_action(client, USERS, "toopher_forget_terminals", [alice])
    assert Terminal.objects.filter(user=alice).count() == 1


def test_the_action_itself_refuses_a_user_without_permission(rf, alice, live):
    staff = staff_with("auth.view_user")
    request = rf.post("/", {"post": "yes"})
    request.user = staff
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        toopher_admin.toopher_disable(admin.site._registry[get_user_model()], request,
                                      get_user_model().objects.filter(pk=alice.pk))


# -- disable / enable ------------------------------------------------------------------------------


def test_disable_asks_for_confirmation_first(admin_web, alice):
    response = run_action(admin_web, USERS, "toopher_disable", [alice], confirm=False)
    assert response.status_code == 200
    assert "admin/django_toopher/confirm_action.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert "alice" in html and 'name="post" value="yes"' in html
    assert 'value="toopher_disable"' in html
    assert not ToopherProfile.objects.filter(user=alice).exists()
    assert not AuditEvent.objects.exists()


def test_disable_a_paired_user(admin_web, root, alice, toopher_sandbox, toopher_phone):
    alice_browser = login(Client(), alice)  # logged in before pairing: a full session
    pair(alice, toopher_phone)
    assert alice_browser.get(reverse("django_toopher:security")).status_code == 200
    response = run_action(admin_web, USERS, "toopher_disable", [alice], follow=True)
    assert response.status_code == 200
    assert any("User alice: Toopher disabled. 1 session ended." in m for m in messages_of(response))
    assert ToopherProfile.objects.get(user=alice).enabled is False
    # At Toopher too.
    remote = get_client().get_user_by_name("alice")
    assert remote.raw["toopher_authentication_enabled"] is False
    event = AuditEvent.objects.get(kind="admin_disabled")
    assert event.user == alice and event.actor == root
    assert LogEntry.objects.filter(user=root, object_id=str(alice.pk)).exists()
    # alice is logged out everywhere; the admin is not.
    response = alice_browser.get(reverse("django_toopher:security"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert admin_web.get(reverse(USERS)).status_code == 200


def test_disable_ends_a_pending_login_too(admin_web, alice, toopher_sandbox, toopher_phone):
    pair(alice, toopher_phone)
    browser = Client()
    browser.post("/accounts/login/", {"username": "alice",
                                      "password": "correct horse battery staple"})
    assert "_toopher_pending" in browser.session
    session_key = browser.session.session_key
    run_action(admin_web, USERS, "toopher_disable", [alice])
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=session_key).exists()


def test_disable_an_already_disabled_user_is_a_no_op(admin_web, alice):
    ToopherProfile.objects.create(user=alice, enabled=False)
    response = run_action(admin_web, USERS, "toopher_disable", [alice], follow=True)
    assert any("already disabled" in m for m in messages_of(response))
    assert not AuditEvent.objects.exists()


def test_disabling_yourself_keeps_your_session(admin_web, root):
    response = run_action(admin_web, USERS, "toopher_disable", [root], follow=True)
    assert response.status_code == 200
    assert ToopherProfile.objects.get(user=root).enabled is False
    assert admin_web.get(reverse(USERS)).status_code == 200


def test_enable_from_the_profile_changelist(admin_web, root, alice, toopher_sandbox, toopher_phone):
    pair(alice, toopher_phone)
    admin_flow.set_enabled(alice, False)
    profile = ToopherProfile.objects.get(user=alice)
    response = run_action(admin_web, PROFILES, "toopher_enable", [profile], follow=True)
    assert any("User alice: Toopher enabled." in m for m in messages_of(response))
    profile.refresh_from_db()
    assert profile.enabled is True
    assert get_client().get_user_by_name("alice").raw["toopher_authentication_enabled"] is True
    assert AuditEvent.objects.get(kind="admin_enabled", actor=root).user == alice


# -- reset pairing ---------------------------------------------------------------------------------


def test_reset_pairing(admin_web, root, alice, bob, toopher_sandbox, toopher_phone):
    pairing_id = pair(alice, toopher_phone)
    response = run_action(admin_web, USERS, "toopher_reset_pairing", [alice, bob], follow=True)
    messages = messages_of(response)
    assert any("User alice: pairing reset." in m for m in messages)
    assert any("User bob: was not paired." in m for m in messages)
    assert ToopherProfile.objects.get(user=alice).pairing_id is None
    event = AuditEvent.objects.get(kind="admin_reset")
    assert event.user == alice and event.actor == root
    with pytest.raises(toopher.PairingDeactivatedError):
        get_client().authenticate(pairing_id, "Browser", "Log in")


def test_reset_pairing_while_toopher_is_down_changes_nothing(
    admin_web, root, alice, toopher_sandbox, toopher_phone, live
):
    pairing_id = pair(alice, toopher_phone)
    toopher_sandbox.set_faults(key=live["key"], status=503)
    response = run_action(admin_web, USERS, "toopher_reset_pairing", [alice], follow=True)
    assert response.status_code == 200
    assert any("User alice: Toopher could not be reached" in m for m in messages_of(response))
    assert ToopherProfile.objects.get(user=alice).pairing_id == pairing_id
    event = AuditEvent.objects.get(kind="error")
    assert event.user == alice and event.actor == root and "Reset pairing" in event.action
    assert not AuditEvent.objects.filter(kind__in=["unpaired", "admin_reset"]).exists()


def test_an_api_failure_for_one_user_does_not_stop_the_others(admin_web, alice, bob,
                                                             monkeypatch):
    original = admin_flow.set_enabled

    def flaky(user, enabled, *, request=None, actor=None):
        if user.username == "bob":
            raise toopher.ToopherTimeoutError("timed out")
        return original(user, enabled, request=request, actor=actor)

    monkeypatch.setattr(admin_flow, "set_enabled", flaky)
    response = run_action(admin_web, USERS, "toopher_disable", [alice, bob], follow=True)
    assert response.status_code == 200
    messages = messages_of(response)
    assert any(m.startswith("User alice: Toopher disabled.") for m in messages)
    assert any("User bob: Toopher could not be reached or refused (ToopherTimeoutError)" in m
               for m in messages)
    assert ToopherProfile.objects.get(user=alice).enabled is False
    assert not ToopherProfile.objects.filter(user=bob, enabled=False).exists()
    assert AuditEvent.objects.filter(kind="error", user=bob).count() == 1


def test_a_toopher_failure_changes_nothing_local(admin_web, alice, monkeypatch):
    """Toopher is asked first, outside any transaction: when it fails (here with a
    garbled answer), nothing local has been written."""
    calls = []

    def garbled(self, *args, **kwargs):
        calls.append(args)
        raise toopher.ToopherMalformedResponseError("garbage")

    monkeypatch.setattr(type(get_client()), "set_toopher_enabled_for_user", garbled)
    response = run_action(admin_web, USERS, "toopher_disable", [alice], follow=True)
    assert calls, "the Toopher call was not made"
    assert any("User alice: Toopher could not be reached or refused" in m
               for m in messages_of(response))
    assert not ToopherProfile.objects.filter(user=alice, enabled=False).exists()
    assert not AuditEvent.objects.filter(kind="admin_disabled").exists()


# -- terminals ------------------------------------------------------------------------------------


def add_terminal(user, name="Work laptop"):
    return Terminal.objects.create(user=user, requester_terminal_id=new_terminal_id(), name=name)


def test_forget_terminals_of_users(admin_web, root, alice, bob):
    add_terminal(alice, "A1")
    add_terminal(alice, "A2")
    kept = add_terminal(get_user_model().objects.create_user("carol"), "C1")
    response = run_action(admin_web, USERS, "toopher_forget_terminals", [alice, bob],
                          follow=True)
    messages = messages_of(response)
    assert any("User alice: 2 terminals forgotten." in m for m in messages)
    assert any("User bob: had no terminals." in m for m in messages)
    assert list(Terminal.objects.all()) == [kept]
    events = AuditEvent.objects.filter(kind="admin_forgot_terminals")
    assert sorted(e.terminal_name for e in events) == ["A1", "A2"]
    assert {e.actor for e in events} == {root}


def test_terminal_changelist_forget_selected(admin_web, root, alice):
    t1, t2 = add_terminal(alice, "A1"), add_terminal(alice, "A2")
    html = admin_web.get(reverse(TERMINALS)).content.decode()
    assert 'value="forget_selected"' in html and 'value="delete_selected"' not in html
    assert t1.requester_terminal_id not in html
    response = run_action(admin_web, TERMINALS, "forget_selected", [t1], confirm=False)
    assert response.status_code == 200 and b"A1" in response.content
    assert Terminal.objects.count() == 2
    run_action(admin_web, TERMINALS, "forget_selected", [t1])
    assert list(Terminal.objects.all()) == [t2]
    assert AuditEvent.objects.get(kind="admin_forgot_terminals").actor == root


def test_terminal_delete_page_is_audited(admin_web, root, alice):
    terminal = add_terminal(alice)
    url = reverse("admin:django_toopher_terminal_delete", args=[terminal.pk])
    response = admin_web.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Terminal.objects.exists()
    assert AuditEvent.objects.get(kind="admin_forgot_terminals").actor == root


def test_terminal_change_page_hides_the_ids(admin_web, alice):
    terminal = add_terminal(alice)
    terminal.toopher_terminal_id = "11111111-2222-3333-4444-555555555555"
    terminal.save()
    url = reverse("admin:django_toopher_terminal_change", args=[terminal.pk])
    html = admin_web.get(url).content.decode()
    assert terminal.requester_terminal_id not in html
    assert terminal.toopher_terminal_id not in html


# -- profiles and audit events -----------------------------------------------------------------


def test_profile_page_never_shows_or_sets_the_pairing_id(
    admin_web, alice, toopher_sandbox, toopher_phone
):
    pairing_id = pair(alice, toopher_phone)
    profile = ToopherProfile.objects.get(user=alice)
    url = reverse("admin:django_toopher_toopherprofile_change", args=[profile.pk])
    html = admin_web.get(url).content.decode()
    assert pairing_id not in html
    admin_web.post(url, {"pairing_id": "00000000-0000-0000-0000-000000000000",
                         "enabled": ""})
    profile.refresh_from_db()
    assert profile.pairing_id == pairing_id and profile.enabled is True
    assert admin_web.get(reverse("admin:django_toopher_toopherprofile_add")).status_code == 403


def test_profile_filters(admin_web, alice, bob, toopher_sandbox, toopher_phone):
    pair(alice, toopher_phone)
    ToopherProfile.objects.create(user=bob)
    paired = admin_web.get(reverse(PROFILES), {"paired": "yes"}).context["cl"].result_list
    unpaired = admin_web.get(reverse(PROFILES), {"paired": "no"}).context["cl"].result_list
    assert [p.user.username for p in paired] == ["alice"]
    assert [p.user.username for p in unpaired] == ["bob"]


def test_audit_events_are_read_only(admin_web, alice):
    from django_toopher.audit import record

    event = record(AuditEvent.Kind.ERROR, user=alice, detail="something")
    assert admin_web.get(reverse("admin:django_toopher_auditevent_changelist")).status_code == 200
    change = reverse("admin:django_toopher_auditevent_change", args=[event.pk])
    assert admin_web.get(change).status_code == 200  # view only
    admin_web.post(change, {"detail": "rewritten"})
    event.refresh_from_db()
    assert event.detail == "something"
    assert admin_web.get(reverse("admin:django_toopher_auditevent_add")).status_code == 403
    delete = reverse("admin:django_toopher_auditevent_delete", args=[event.pk])
    assert admin_web.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_deleting_a_user_still_works(admin_web, alice):
    ToopherProfile.objects.create(user=alice)
    add_terminal(alice)
    url = reverse("admin:auth_user_delete", args=[alice.pk])
    assert admin_web.post(url, {"post": "yes"}).status_code == 302
    assert not get_user_model().objects.filter(pk=alice.pk).exists()


def test_admin_posts_need_csrf(root, alice):
    client = login(Client(enforce_csrf_checks=True), root)
    response = run_action(client, USERS, "toopher_disable", [alice])
    assert response.status_code == 403
    assert not ToopherProfile.objects.filter(user=alice).exists()


# -- operator commands ---------------------------------------------------------------------------


def test_toopher_disable_and_enable_commands(root, alice, capsys):
    call_command("toopher_disable", "alice", "--actor", "root")
    assert ToopherProfile.objects.get(user=alice).enabled is False
    assert AuditEvent.objects.get(kind="admin_disabled").actor == root
    call_command("toopher_enable", "alice")
    assert ToopherProfile.objects.get(user=alice).enabled is True
    assert "User alice: Toopher enabled." in capsys.readouterr().out


def test_toopher_disable_command_reports_unknown_users(alice):
    with pytest.raises(CommandError):
        call_command("toopher_disable", "alice", "nobody")
    assert ToopherProfile.objects.get(user=alice).enabled is False
    with pytest.raises(CommandError):
        call_command("toopher_disable", "alice", "--actor", "ghost")


@pytest.mark.parametrize("changelist", [PROFILES, TERMINALS])
def test_search_by_user_name(admin_web, alice, bob, changelist):
    ToopherProfile.objects.create(user=alice)
    ToopherProfile.objects.create(user=bob)
    add_terminal(alice)
    add_terminal(bob)
    result = admin_web.get(reverse(changelist), {"q": "alice"}).context["cl"].result_list
    assert [obj.user.username for obj in result] == ["alice"]


def test_confirmation_page_on_the_profile_changelist(admin_web, alice):
    profile = ToopherProfile.objects.create(user=alice)
    response = run_action(admin_web, PROFILES, "toopher_reset_pairing", [profile],
                          confirm=False)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Remove the phone pairing of these users?" in html
    assert "alice" in html and f'value="{profile.pk}"' in html
