"""The audit trail in Django's admin: listed, searched, read; never added, changed or deleted.

Imported by ``toopher_server.admin`` (Django's admin discovers that module).
"""

from __future__ import annotations

from django.contrib import admin

from .admin_permissions import ReadOnlyMixin
from .audit_models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Audit records, read-only (:class:`.admin_permissions.ReadOnlyMixin`): written by
    the service only, never changed or deleted. ``manage.py verifyaudit`` checks the chain.
    """

    list_display = ("seq", "time", "event", "outcome", "requester", "user", "device")
    list_filter = ("event", "outcome")
    search_fields = ("=requester", "=user", "=device", "event")
    ordering = ("-id",)
    date_hierarchy = "time"
    readonly_fields = (
        "seq", "time", "event", "outcome", "requester", "user", "device", "details", "hash",
    )  # fmt: skip
    fields = readonly_fields
    actions = None
