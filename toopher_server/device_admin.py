"""The administrator's side of a lost phone: devices, users and pairings in Django's admin.

Two actions, each audited with the acting administrator (``by: "admin:<user name>"``):

* **Remove devices** (``Device``): as a device of the phone would (``phone_devices.remove``);
  removing a phone's last device deactivates its pairings. Deleting a device from its
  page goes the same audited way.
* **Reset pairings** (a service ``User``, or ``Pairing`` rows): deactivate them; the user
  pairs a new phone at the next login (the site sees error 707).

Nothing here shows key material: neither a device's public key nor a pairing's OTP
seed is a field of these pages; rows are never added or edited here.
Imported by ``toopher_server.admin`` (Django's admin discovers that module).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import phone_devices
from .admin_permissions import NoAddMixin, NoChangeMixin, NoDeleteMixin
from .device_errors import NotFound
from .models import Device, Pairing, User


def acting_admin(request: HttpRequest) -> str:
    """Who acts, as the audit trail says it."""
    return f"admin:{request.user.get_username()}"


class _ReadOnly(NoAddMixin, NoChangeMixin, admin.ModelAdmin):
    """Listed and read, never added or edited here; no bulk delete."""

    def has_reset_permission(self, request: HttpRequest) -> bool:
        """Resetting pairings needs the model's change permission (as granted to the
        admin user: this page edits nothing itself)."""
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Device)
class DeviceAdmin(_ReadOnly):
    """Enrolled devices (label, phone, last call); removal is audited."""

    list_display = ("label", "id", "phone", "created", "last_seen")
    search_fields = ("=id", "label", "=phone__id")
    fields = ("id", "label", "phone", "created", "last_seen")
    readonly_fields = fields
    actions = ["remove_devices"]

    @admin.action(description=_("Remove the selected devices"), permissions=["delete"])
    def remove_devices(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        """Remove each device as a device of its phone would, audited as this admin."""
        count = _remove(request, list(queryset))
        self.message_user(
            request, ngettext("%(count)d device removed.", "%(count)d devices removed.", count)
            % {"count": count},
        )

    def delete_model(self, request: HttpRequest, obj: Device) -> None:
        """Deleting a device from its page removes it the audited way."""
        _remove(request, [obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        _remove(request, list(queryset))


def _remove(request: HttpRequest, devices: list[Device]) -> int:
    """Remove these devices, audited as this admin; how many were still there."""
    removed = 0
    for device in devices:
        try:
            phone_devices.remove(device, by=acting_admin(request))
        except NotFound:  # removed meanwhile (by its phone, or another admin)
            continue
        removed += 1
    return removed


def _reset(admin_page: admin.ModelAdmin, request: HttpRequest, pairings: QuerySet[Pairing]) -> None:
    count = phone_devices.reset_pairings(pairings, by=acting_admin(request))
    admin_page.message_user(
        request, ngettext("%(count)d pairing reset.", "%(count)d pairings reset.", count)
        % {"count": count},
    )


@admin.register(User)
class ServiceUserAdmin(NoDeleteMixin, _ReadOnly):
    """The requesters' users; reset a user's pairings when the phone is lost."""

    list_display = ("name", "requester", "toopher_authentication_enabled", "created")
    list_filter = ("requester",)
    search_fields = ("name",)
    fields = ("name", "requester", "toopher_authentication_enabled", "created", "modified")
    readonly_fields = fields
    actions = ["reset_pairings"]

    @admin.action(description=_("Reset the selected users' pairings"), permissions=["reset"])
    def reset_pairings(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """Deactivate every pairing of these users (audited as this admin)."""
        _reset(self, request, Pairing.objects.filter(user__in=queryset))


@admin.register(Pairing)
class PairingAdmin(NoDeleteMixin, _ReadOnly):
    """Pairings (never their OTP seed); reset the selected ones."""

    list_display = ("user", "requester", "state", "deactivated", "phone", "created")
    list_filter = ("state", "deactivated", "requester")
    search_fields = ("user__name", "=id", "=phone__id")
    fields = ("id", "user", "requester", "kind", "state", "deactivated", "phone", "created",
              "modified")
    readonly_fields = fields
    actions = ["reset_pairings"]

    @admin.action(description=_("Reset the selected pairings"), permissions=["reset"])
    def reset_pairings(self, request: HttpRequest, queryset: QuerySet[Pairing]) -> None:
        """Deactivate these pairings (audited as this admin)."""
        _reset(self, request, queryset)
