"""The audit trail in Django's admin: listed, searched, read; never added, changed or deleted.

Imported by ``toopher_server.admin`` (Django's admin discovers that module).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .audit_models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Audit records, read-only: no add, change or delete permission for anyone.

    Django's admin then shows every field as text and offers no save or delete button;
    a forged POST is refused (403). ``manage.py verifyaudit`` checks the chain.
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Records are written by the service only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Records never change (viewing needs the view permission)."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Records are never deleted by the application."""
        return False
