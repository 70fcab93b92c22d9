"""The Django admin for django_toopher.

Registered here: :class:`ToopherProfile` (read-only, changed through actions only),
:class:`Terminal` and :class:`AuditEvent` (read-only). The actions "Disable Toopher
for selected users", "Enable Toopher", "Reset pairing" and "Forget terminals" are
offered on the profile changelist and on the site's User changelist.

Each action is permission-checked (``django_toopher.change_toopherprofile`` for
disable, enable and reset; ``django_toopher.delete_terminal`` for forgetting
terminals), shows a confirmation page first, records an audit event naming the
administrator and a line in the admin's history, and handles each user on its own:
when Toopher fails for one user, that user gets an error message and no change. No
database transaction is held open across a call to Toopher.

For the User changelist, put :class:`ToopherUserAdminMixin` on your own UserAdmin.
By default (``TOOPHER["PATCH_USER_ADMIN"] = True``) the *registered* UserAdmin
instance is extended instead (:func:`add_user_admin_actions`), so a site that does
nothing still gets the actions. See docs/admin.md.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .app_settings import app_settings
from .internal import events, failures
from .internal.admin_actions import (
    PROFILE_PERMISSION,
    TERMINAL_PERMISSION,
    confirmation,
    make_action,
)
from .internal.flows import terminals
from .models import AuditEvent, Terminal, ToopherProfile

__all__ = [
    "PROFILE_PERMISSION",
    "TERMINAL_PERMISSION",
    "ToopherUserAdminMixin",
    "USER_ACTIONS",
    "add_user_admin_actions",
]


def has_toopher_profiles_permission(request: HttpRequest) -> bool:
    """May ``request.user`` disable, enable or reset users' Toopher?"""
    return request.user.has_perm(PROFILE_PERMISSION)


def has_toopher_terminals_permission(request: HttpRequest) -> bool:
    """May ``request.user`` forget users' terminals?"""
    return request.user.has_perm(TERMINAL_PERMISSION)


toopher_disable = make_action("disable")
toopher_enable = make_action("enable")
toopher_reset_pairing = make_action("reset_pairing")
toopher_forget_terminals = make_action("forget_terminals")

#: The actions offered on the profile and User changelists.
USER_ACTIONS = (toopher_disable, toopher_enable, toopher_reset_pairing, toopher_forget_terminals)


class ToopherUserAdminMixin:
    """Put on a site's own UserAdmin to offer the Toopher actions on its changelist::

        @admin.register(User)
        class UserAdmin(ToopherUserAdminMixin, auth_admin.UserAdmin):
            ...

    With it, set ``TOOPHER["PATCH_USER_ADMIN"] = False``.
    """

    has_toopher_profiles_permission = staticmethod(has_toopher_profiles_permission)
    has_toopher_terminals_permission = staticmethod(has_toopher_terminals_permission)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)  # type: ignore[misc]
        for action in USER_ACTIONS:
            permission = getattr(action, "allowed_permissions", ("",))[0]
            allowed = getattr(self, f"has_{permission}_permission")(request)
            if action.__name__ not in found and allowed:
                description = getattr(action, "short_description", action.__name__)
                found[action.__name__] = (action, action.__name__, description)
        return found


def add_user_admin_actions(site: admin.AdminSite | None = None) -> bool:
    """Offer the Toopher actions on ``site``'s changelist of ``get_user_model()``.

    Extends the registered ModelAdmin *instance* (its ``actions`` and the permission
    checks), never replacing the site's UserAdmin class. Idempotent. Returns False when
    the user model is not registered on that site.
    """
    site = site or admin.site
    model_admin = site._registry.get(get_user_model())
    if model_admin is None:
        return False
    if isinstance(model_admin, ToopherUserAdminMixin):
        return True
    actions = list(model_admin.actions or ())
    present = {getattr(a, "__name__", a) for a in actions}
    actions.extend(a for a in USER_ACTIONS if a.__name__ not in present)
    model_admin.actions = actions
    setattr(model_admin, "has_toopher_profiles_permission", has_toopher_profiles_permission)  # noqa: B010
    setattr(model_admin, "has_toopher_terminals_permission", has_toopher_terminals_permission)  # noqa: B010
    return True


class PairedFilter(admin.SimpleListFilter):
    """Filter profiles by whether a phone is paired (stored-ID mode)."""

    title = gettext_lazy("paired")
    parameter_name = "paired"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Iterable:
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.exclude(pairing_id__isnull=True).exclude(pairing_id="")
        if self.value() == "no":
            return queryset.filter(Q(pairing_id__isnull=True) | Q(pairing_id=""))
        return queryset


def _user_search_fields() -> tuple[str, ...]:
    return (f"user__{get_user_model().USERNAME_FIELD}",)


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleting would skip Toopher and the audit
        return actions


@admin.register(ToopherProfile)
class ToopherProfileAdmin(_ReadOnlyAdmin):
    """Read-only profiles; every change goes through an audited action.

    The pairing id itself is never shown (it is a bearer handle at Toopher), and there is
    no way to set one: an administrator cannot pair a phone for a user.
    """

    list_display = ("user", "enabled", "paired", "paired_at", "updated_at")
    list_filter = ("enabled", PairedFilter)
    list_select_related = ("user",)
    fields = ("user", "enabled", "paired", "paired_at", "updated_at")
    readonly_fields = fields
    actions = USER_ACTIONS

    has_toopher_profiles_permission = staticmethod(has_toopher_profiles_permission)
    has_toopher_terminals_permission = staticmethod(has_toopher_terminals_permission)

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return _user_search_fields()

    @admin.display(boolean=True, description=gettext_lazy("paired"))
    def paired(self, obj: ToopherProfile) -> bool:
        return obj.is_paired


@admin.register(Terminal)
class TerminalAdmin(_ReadOnlyAdmin):
    """The users' named browsers. Ids stay hidden: they are what the terminal cookie
    carries. Deleting ("forgetting") a terminal is audited."""

    list_display = ("name", "user", "created_at", "last_used_at")
    list_select_related = ("user",)
    list_filter = ("created_at",)
    fields = ("user", "name", "created_at", "last_used_at")
    readonly_fields = fields
    actions = ("forget_selected",)

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return ("name", *_user_search_fields())

    @admin.action(description=gettext_lazy("Forget selected terminals"), permissions=["delete"])
    def forget_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        if request.POST.get("post") != "yes":
            return confirmation(
                self, request, queryset, action_name="forget_selected",
                description=_("Forget selected terminals"),
                question=_("Forget these browsers (terminals)? Their next login asks for a "
                           "terminal name again."),
                terminals=list(queryset.select_related("user")),
            )
        done = 0
        for terminal in queryset.select_related("user"):
            if self._forget(request, terminal):
                done += 1
                self._log_deleted(request, terminal)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d terminal forgotten.", "%(count)d terminals forgotten.",
                         done) % {"count": done},
                messages.SUCCESS,
            )
        return None

    def _log_deleted(self, request: HttpRequest, terminal: Terminal) -> None:
        log_deletions = getattr(self, "log_deletions", None)  # Django >= 5.1
        if log_deletions is not None:
            log_deletions(request, [terminal])
        else:  # pragma: no cover - Django 4.2
            getattr(self, "log_deletion")(request, terminal, str(terminal))  # noqa: B009

    def _forget(self, request: HttpRequest, terminal: Terminal) -> bool:
        """Forget one terminal at Toopher, then here. When Toopher fails, keep the
        terminal and say so."""
        try:
            terminals.detach_terminal(terminal)
        except failures.CLIENT_ERRORS as exc:
            self.message_user(
                request,
                _("Terminal %(terminal)s (%(user)s): Toopher could not be reached "
                  "(%(detail)s); the terminal was kept.")
                % {"terminal": terminal.name, "user": terminal.user,
                   "detail": failures.describe(exc)},
                messages.ERROR,
            )
            return False
        terminals.delete_terminal(terminal, request=request, actor=request.user)
        return True

    def delete_model(self, request: HttpRequest, obj: Terminal) -> None:
        # The change page's "Delete" (Django already wrote the LogEntry). Django runs
        # this inside a transaction: only the local rows change here, and the call to
        # Toopher waits until that transaction is committed.
        terminals.delete_terminal(obj, request=request, actor=request.user)
        transaction.on_commit(functools.partial(self._detach_later, request, obj),
                              using=router.db_for_write(Terminal))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for terminal in list(queryset.select_related("user")):
            self.delete_model(request, terminal)

    def _detach_later(self, request: HttpRequest, terminal: Terminal) -> None:
        try:
            terminals.detach_terminal(terminal)
        except failures.CLIENT_ERRORS as exc:
            events.emit(events.Kind.ERROR, user=terminal.user, request=request,
                        actor=request.user, terminal_name=terminal.name,
                        detail=f"forgotten here; not detached at Toopher "
                               f"({failures.describe(exc)})")
            self.message_user(
                request,
                _("Terminal %(terminal)s was forgotten here, but Toopher could not be "
                  "reached to forget it there.") % {"terminal": terminal.name},
                messages.WARNING,
            )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail: readable by whoever has the view permission, changed by nobody."""

    list_display = ("created_at", "kind", "user", "actor", "action", "terminal_name",
                    "ip_address", "detail")
    list_filter = ("kind", "created_at")
    list_select_related = ("user", "actor")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "kind", "user", "actor", "action", "terminal_name",
                       "ip_address", "detail")
    fields = readonly_fields

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return (*_user_search_fields(), "action", "terminal_name", "detail")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


if app_settings.PATCH_USER_ADMIN:
    add_user_admin_actions()
