"""The sandbox's own state: the faults injected into API v1 answers, and the outbox.

Everything the API serves (requesters, users, pairings, phones, requests) lives in
``toopher_server.models``; the sandbox only adds what a production service must not have.
"""

from django.db import models

# Migration 0001 made the tables the service now owns, with ids from this function.
from toopher_server.models import Requester, new_id  # noqa: F401


class Fault(models.Model):
    """Faults injected into API v1 responses: for one consumer key, or for all (key="")."""

    key = models.CharField(max_length=200, unique=True, blank=True, default="")
    latency_ms = models.PositiveIntegerField(default=0)
    status = models.PositiveIntegerField(null=True, blank=True)
    malformed = models.BooleanField(default=False)
    rate = models.FloatField(default=1.0)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"fault for {self.key or 'everyone'}"


class Message(models.Model):
    """An SMS or email the sandbox 'sent' (kept so that tests and people can read it).

    The service keeps no message; the sandbox's sender (:mod:`toopher_sandbox.outbox`)
    writes these rows instead of delivering anything.
    """

    SMS = "sms"
    EMAIL = "email"

    kind = models.CharField(max_length=10, choices=[(SMS, "SMS"), (EMAIL, "email")])
    to = models.CharField(max_length=320)
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField()
    requester = models.ForeignKey(
        Requester, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}"
