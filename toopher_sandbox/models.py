"""The sandbox's own state: the faults injected into API v1 answers.

Everything the API serves (requesters, users, pairings, phones, requests) lives in
``toopher_server.models``; the sandbox only adds what a production service must not have.
"""

from django.db import models

# Migration 0001 made the tables the service now owns, with ids from this function.
from toopher_server.models import new_id  # noqa: F401


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
