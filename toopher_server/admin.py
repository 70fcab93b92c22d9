"""The service's admin (Django discovers this module)."""

from __future__ import annotations

from .audit_admin import AuditRecordAdmin  # noqa: F401 - registers the read-only audit trail
