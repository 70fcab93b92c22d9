"""The machinery of the Toopher admin actions: their specs, the confirmation page,
and the loop over the selected users (each through :mod:`.flows.admin`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import ToopherProfile
from .flows import admin as admin_flow

#: Permission needed for disable / enable / reset pairing.
PROFILE_PERMISSION = "django_toopher.change_toopherprofile"
#: Permission needed for forgetting terminals.
TERMINAL_PERMISSION = "django_toopher.delete_terminal"

SPECS: dict[str, dict[str, Any]] = {
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

#: The names of the admin actions added to the User changelist.
USER_ACTION_NAMES = tuple(f"toopher_{key}" for key in SPECS)


def confirmation(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, *,
    action_name: str, description: Any, question: Any, **objects: Any,
) -> TemplateResponse:
    """The "Are you sure?" page of an action (nothing changes until "Yes, I'm sure")."""
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Are you sure?"),
        "subtitle": description,
        "question": question,
        "action_name": action_name,
        "action_description": description,
        "queryset": queryset,
        "opts": opts,
        "app_label": opts.app_label,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
        **objects,
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


def users_of(queryset: QuerySet) -> list[tuple[Any, Any]]:
    """``[(changelist object, user)]`` for a queryset of users or of profiles."""
    if queryset.model is ToopherProfile:
        return [(profile, profile.user) for profile in queryset.select_related("user")]
    return [(user, user) for user in queryset]


def make_action(key: str) -> Callable[..., Any]:
    """The admin action ``toopher_<key>`` over :data:`admin_flow.OPERATIONS` [key]."""
    spec = SPECS[key]
    operation = admin_flow.OPERATIONS[key]

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> Any:
        # Django already hid the action from admins without the permission; check again
        # so that the action cannot run for anyone else whatever the admin class does.
        if not request.user.has_perm(spec["codename"]):
            raise PermissionDenied
        pairs = users_of(queryset)
        if request.POST.get("post") != "yes":
            return confirmation(
                modeladmin, request, queryset, action_name=f"toopher_{key}",
                description=spec["description"], question=spec["question"],
                users=[user for _obj, user in pairs],
            )
        for obj, user in pairs:
            outcome = operation(user, actor=request.user, request=request)
            level = messages.INFO
            if not outcome.ok:
                level = messages.ERROR
            elif outcome.changed:
                level = messages.SUCCESS
                modeladmin.log_change(request, obj, str(spec["description"]))
            modeladmin.message_user(request, outcome.message, level)
        return None

    action.__name__ = action.__qualname__ = f"toopher_{key}"
    action.short_description = spec["description"]  # type: ignore[attr-defined]
    action.allowed_permissions = (spec["permission"],)  # type: ignore[attr-defined]
    return action
