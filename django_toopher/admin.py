"""The Django admin for django_toopher.

Registered here: :class:`ToopherProfile` (read-only, changed through actions only),
:class:`Terminal` and :class:`AuditEvent` (read-only). The actions "Disable Toopher for
selected users", "Enable Toopher", "Reset pairing" and "Forget terminals" are offered on
the profile changelist and on the User changelist of ``get_user_model()``.

Each action:

* is permission-checked: ``django_toopher.change_toopherprofile`` for disable, enable
  and reset; ``django_toopher.delete_terminal`` for forgetting terminals. An admin
  without it does not see the action, and a forged POST is refused;
* shows a confirmation page first (nothing changes until "Yes, I'm sure");
* records an :class:`AuditEvent` naming the administrator (``actor``) for each user,
  and a line in the admin's own history (``LogEntry``);
* runs per user in its own transaction: when Toopher fails for one user, that user gets
  an error message and no change; the other users are still handled.

The User changelist gets the actions by extending the *registered* UserAdmin
instance (its ``actions`` list and ``has_toopher_*_permission`` attributes), so a site's
own UserAdmin class is kept. See :func:`add_user_admin_actions` and docs/admin.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import admin_actions
from .models import AuditEvent, Terminal, ToopherProfile

#: Permission needed for disable / enable / reset pairing.
PROFILE_PERMISSION = "django_toopher.change_toopherprofile"
#: Permission needed for forgetting terminals.
TERMINAL_PERMISSION = "django_toopher.delete_terminal"


def has_toopher_profiles_permission(request: HttpRequest) -> bool:
    """May ``request.user`` disable, enable or reset users' Toopher?"""
    return request.user.has_perm(PROFILE_PERMISSION)


def has_toopher_terminals_permission(request: HttpRequest) -> bool:
    """May ``request.user`` forget users' terminals?"""
    return request.user.has_perm(TERMINAL_PERMISSION)


_ACTIONS: dict[str, dict[str, Any]] = {
    "disable": {
        "description": gettext_lazy("Disable Toopher for selected users"),
        "question": gettext_lazy(
            "Disable Toopher for these users? They will log in with their password alone "
            "until Toopher is enabled again, and all their sessions are ended now."
        ),
        "permission": "toopher_profiles",
        "codename": PROFILE_PERMISSION,
    },
    "enable": {
        "description": gettext_lazy("Enable Toopher for selected users"),
        "question": gettext_lazy(
            "Enable Toopher for these users? Their logins will need approval on their "
            "phone again (if they are paired)."
        ),
        "permission": "toopher_profiles",
        "codename": PROFILE_PERMISSION,
    },
    "reset_pairing": {
        "description": gettext_lazy("Reset Toopher pairing of selected users"),
        "question": gettext_lazy(
            "Remove the phone pairing of these users? They must pair a phone again; "
            "administrators cannot pair a phone for them."
        ),
        "permission": "toopher_profiles",
        "codename": PROFILE_PERMISSION,
    },
    "forget_terminals": {
        "description": gettext_lazy("Forget Toopher terminals of selected users"),
        "question": gettext_lazy(
            "Forget every named browser (terminal) of these users? Their next login from "
            "those browsers asks for a terminal name again."
        ),
        "permission": "toopher_terminals",
        "codename": TERMINAL_PERMISSION,
    },
}


def _users_of(queryset: QuerySet) -> list[tuple[Any, Any]]:
    """``[(changelist object, user)]`` for a queryset of users or of profiles."""
    if queryset.model is ToopherProfile:
        return [(profile, profile.user) for profile in queryset.select_related("user")]
    return [(user, user) for user in queryset]


def _make_action(key: str) -> Callable[..., Any]:
    spec = _ACTIONS[key]
    operation = admin_actions.OPERATIONS[key]

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> Any:
        # Django already hid the action from admins without the permission; check again
        # so that the action cannot run for anyone else whatever the admin class does.
        if not request.user.has_perm(spec["codename"]):
            raise PermissionDenied
        pairs = _users_of(queryset)
        if request.POST.get("post") != "yes":
            return _confirmation(modeladmin, request, queryset, key, pairs)
        for obj, user in pairs:
            outcome = operation(user, actor=request.user, request=request)
            if not outcome.ok:
                level = messages.ERROR
            elif outcome.changed:
                level = messages.SUCCESS
                modeladmin.log_change(request, obj, str(spec["description"]))
            else:
                level = messages.INFO
            modeladmin.message_user(request, outcome.message, level)
        return None

    action.__name__ = action.__qualname__ = f"toopher_{key}"
    action.short_description = spec["description"]  # type: ignore[attr-defined]
    action.allowed_permissions = (spec["permission"],)  # type: ignore[attr-defined]
    return action


def _confirmation(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    key: str,
    pairs: list[tuple[Any, Any]],
) -> TemplateResponse:
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Are you sure?"),
        "subtitle": _ACTIONS[key]["description"],
        "question": _ACTIONS[key]["question"],
        "action_name": f"toopher_{key}",
        "action_description": _ACTIONS[key]["description"],
        "queryset": queryset,
        "users": [user for _obj, user in pairs],
        "opts": opts,
        "app_label": opts.app_label,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(
        request,
        [
            f"admin/django_toopher/{opts.model_name}/confirm_action.html",
            "admin/django_toopher/confirm_action.html",
        ],
        context,
    )


toopher_disable = _make_action("disable")
toopher_enable = _make_action("enable")
toopher_reset_pairing = _make_action("reset_pairing")
toopher_forget_terminals = _make_action("forget_terminals")

#: The actions offered on the profile and User changelists.
USER_ACTIONS = (toopher_disable, toopher_enable, toopher_reset_pairing, toopher_forget_terminals)


def add_user_admin_actions(site: admin.AdminSite | None = None) -> bool:
    """Offer the Toopher actions on ``site``'s changelist of ``get_user_model()``.

    Extends the registered ModelAdmin *instance* (its ``actions`` and the
    ``has_toopher_profiles_permission`` / ``has_toopher_terminals_permission`` checks),
    never replacing the site's UserAdmin class. Idempotent. Returns False when the user
    model is not registered on that site. Call it again after registering your own
    UserAdmin if your app registers it after django_toopher's admin module ran.
    """
    site = site or admin.site
    model_admin = site._registry.get(get_user_model())
    if model_admin is None:
        return False
    actions = list(model_admin.actions or ())
    present = {getattr(a, "__name__", a) for a in actions}
    actions.extend(a for a in USER_ACTIONS if a.__name__ not in present)
    model_admin.actions = actions
    model_admin.has_toopher_profiles_permission = has_toopher_profiles_permission
    model_admin.has_toopher_terminals_permission = has_toopher_terminals_permission
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


@admin.register(ToopherProfile)
class ToopherProfileAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        # Deleting a profile would leave the pairing at Toopher: use "Reset pairing".
        actions.pop("delete_selected", None)
        return actions


@admin.register(Terminal)
class TerminalAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=gettext_lazy("Forget selected terminals"), permissions=["delete"])
    def forget_selected(self, request: HttpRequest, queryset: QuerySet) -> Any:
        if request.POST.get("post") != "yes":
            opts = self.model._meta
            context = {
                **self.admin_site.each_context(request),
                "title": _("Are you sure?"),
                "subtitle": _("Forget selected terminals"),
                "question": _(
                    "Forget these browsers (terminals)? Their next login asks for a "
                    "terminal name again."
                ),
                "action_name": "forget_selected",
                "action_description": _("Forget selected terminals"),
                "queryset": queryset,
                "terminals": list(queryset.select_related("user")),
                "opts": opts,
                "app_label": opts.app_label,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": self.media,
            }
            request.current_app = self.admin_site.name
            return TemplateResponse(request, "admin/django_toopher/confirm_action.html", context)
        done = 0
        for terminal in queryset.select_related("user"):
            if self._forget(request, terminal, strict=True):
                done += 1
                self._log_deleted(request, terminal)
        if done:
            self.message_user(
                request, _("%(count)d terminal(s) forgotten.") % {"count": done},
                messages.SUCCESS,
            )
        return None

    def _log_deleted(self, request: HttpRequest, terminal: Terminal) -> None:
        if hasattr(self, "log_deletions"):  # Django >= 5.1
            self.log_deletions(request, [terminal])
        else:  # pragma: no cover - Django 4.2
            self.log_deletion(request, terminal, str(terminal))

    def _forget(self, request: HttpRequest, terminal: Terminal, *, strict: bool) -> bool:
        """Forget one terminal here and at Toopher. When Toopher fails: with ``strict``,
        keep the terminal and say so; otherwise forget it here only and say so."""
        from .terminal_changes import forget_terminal

        try:
            forget_terminal(terminal, request=request, actor=request.user)
        except admin_actions._api_errors() as exc:
            detail = admin_actions._describe_error(exc)
            if strict:
                self.message_user(
                    request,
                    _("%(terminal)s (%(user)s): Toopher could not be reached (%(detail)s); "
                      "the terminal was kept.")
                    % {"terminal": terminal.name, "user": terminal.user, "detail": detail},
                    messages.ERROR,
                )
                return False
            Terminal.objects.filter(pk=terminal.pk).delete()
            from .audit import record

            record(AuditEvent.Kind.ADMIN_FORGOT_TERMINALS, user=terminal.user, request=request,
                   actor=request.user, terminal_name=terminal.name,
                   detail=f"by an administrator; not detached at Toopher ({detail})")
            self.message_user(
                request,
                _("%(terminal)s was forgotten here, but Toopher could not be reached to "
                  "forget it there.") % {"terminal": terminal.name},
                messages.WARNING,
            )
        return True

    def delete_model(self, request: HttpRequest, obj: Terminal) -> None:
        # The change page's "Delete" (Django already wrote the LogEntry).
        self._forget(request, obj, strict=False)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for terminal in queryset.select_related("user"):
            self._forget(request, terminal, strict=False)


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


add_user_admin_actions()
