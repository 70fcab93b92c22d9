from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_toopher import audit
from django_toopher.internal.claims import claim
from django_toopher.models import AuditEvent, ConsumedRequest

pytestmark = pytest.mark.django_db


def test_cleanup_deletes_only_old_markers():
    claim("old-request")
    claim("new-request")
    ConsumedRequest.objects.filter(request_id="old-request").update(
        used_at=timezone.now() - timedelta(days=1)
    )
    out = StringIO()
    call_command("toopher_cleanup", stdout=out)
    assert list(ConsumedRequest.objects.values_list("request_id", flat=True)) == ["new-request"]
    assert "Deleted 1 used request marker." in out.getvalue()
    assert claim("new-request") is False  # still protected


def test_cleanup_of_audit_events_is_opt_in():
    event = audit.record("error")
    AuditEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=40))
    audit.record("error")
    call_command("toopher_cleanup", stdout=StringIO())
    assert AuditEvent.objects.count() == 2
    call_command("toopher_cleanup", "--audit-days", "30", stdout=StringIO())
    assert AuditEvent.objects.count() == 1
    err = StringIO()
    call_command("toopher_cleanup", "--audit-days", "0", stdout=StringIO(), stderr=err)
    assert "at least 1" in err.getvalue()
    assert AuditEvent.objects.count() == 1
