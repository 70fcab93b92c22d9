"""The service's admin: requesters, without their secrets; the audit trail, read-only.

A requester's secret is shown once, when ``toopher-server createrequester`` (or
``init``) makes it; the admin never shows a secret, sealed or clear. New requesters and
new secrets come from the command line (``createrequester``, ``rotatesecret``), which
prints the secret once.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .audit_admin import AuditRecordAdmin  # noqa: F401 - registers the read-only audit trail
from .models import Requester


@admin.register(Requester)
class RequesterAdmin(admin.ModelAdmin):
    """Requesters: name, key and number matching; the secrets are never listed, shown or
    edited here."""

    list_display = ("name", "key", "number_matching", "created", "previous_secret_expires")
    list_filter = ("number_matching",)
    search_fields = ("name", "key")
    fields = ("name", "key", "number_matching", "created", "modified", "previous_secret_expires")
    readonly_fields = ("key", "created", "modified", "previous_secret_expires")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Requesters are made with ``toopher-server createrequester`` (secret shown once)."""
        return False
