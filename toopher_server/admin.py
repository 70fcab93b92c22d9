"""The service's admin: requesters, without their secrets; the audit trail, read-only;
devices, users and pairings with the lost-phone actions (``device_admin``).

A requester's secret is shown once, when ``toopher-server createrequester`` (or
``init``) makes it; the admin never shows a secret, sealed or clear. New requesters and
new secrets come from the command line (``createrequester``, ``rotatesecret``), which
prints the secret once.
"""

from __future__ import annotations

from django.contrib import admin

from .admin_permissions import NoAddMixin
from .audit_admin import AuditRecordAdmin  # noqa: F401 - registers the read-only audit trail
from .device_admin import DeviceAdmin  # noqa: F401 - registers devices, users, pairings
from .models import Requester


@admin.register(Requester)
class RequesterAdmin(NoAddMixin, admin.ModelAdmin):
    """Requesters: name and key; the secrets are never listed, shown or edited here.

    None is added here: requesters are made with ``toopher-server createrequester``
    (the secret shown once)."""

    list_display = ("name", "key", "created", "previous_secret_expires")
    search_fields = ("name", "key")
    fields = ("name", "key", "created", "modified", "previous_secret_expires")
    readonly_fields = ("key", "created", "modified", "previous_secret_expires")
