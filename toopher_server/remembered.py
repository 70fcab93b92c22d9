"""Remembered browsers: "always allow from this browser", with an expiry (issue 22 §8).

A rule (``AutomationRule``) answers the requests of one pairing from one terminal (the
site's name for a browser) for one action by itself. The authenticator makes one with
the decision ``allow_always`` (protocol §6); the sandbox's simulator and control API
make them too (``phones.set_automation``). Every rule lasts
``TOOPHER_SERVER_REMEMBER_DAYS`` days (30 by default) from when it was last made, and
only a live rule applies: API v1 ``authentication_requests/initiate`` asks
:func:`live`. A device lists and revokes the browsers remembered for the pairings of its
phone, and nothing else.

Location-based automation (Toopher's app answered by itself at a known place) cannot
work in a web app, which has no background location; remembering a browser is what
stays of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from . import audit, db
from .conf import setting_int
from .device_errors import NotFound
from .models import AutomationRule, Pairing, Phone

DEFAULT_REMEMBER_DAYS = 30


def remember_days() -> int:
    """How long a rule lasts: ``TOOPHER_SERVER_REMEMBER_DAYS`` (30 by default)."""
    return setting_int("REMEMBER_DAYS", DEFAULT_REMEMBER_DAYS)


def expiry(now: datetime | None = None) -> datetime:
    """When a rule made now stops applying."""
    return (now or timezone.now()) + timedelta(days=remember_days())


def live(rules: QuerySet[AutomationRule], now: datetime | None = None) -> QuerySet[AutomationRule]:
    """The rules among ``rules`` that still apply (not expired): :func:`applies`, as a
    query."""
    return rules.filter(expires__gt=now or timezone.now())


def applies(rule: AutomationRule | None, now: datetime | None = None) -> bool:
    """Whether ``rule`` (None: there is none) still applies: it expires after ``now``
    (one without an expiry never applies)."""
    return rule is not None and rule.expires is not None and rule.expires > (now or timezone.now())


def on_phone(phone: Phone, now: datetime | None = None) -> QuerySet[AutomationRule]:
    """The live "always allow" rules of the phone's usable pairings, newest first."""
    rules = AutomationRule.objects.filter(
        pairing__phone=phone,
        pairing__state=Pairing.ENABLED,
        pairing__deactivated=False,
        grant=True,
    )
    return (
        live(rules, now)
        .select_related("pairing__requester", "pairing__user", "terminal", "action")
        .order_by("-created", "-id")
    )


def forget(phone: Phone, rule_id: str, by: str) -> None:
    """Revoke a remembered browser of this phone (audited, ``by`` who);
    :class:`~toopher_server.device_errors.NotFound` for any other id."""
    if not (rule_id.isascii() and rule_id.isdigit()) or len(rule_id) > 18:
        raise NotFound("no such remembered browser on this device")
    with db.atomic():
        rule = on_phone(phone).filter(pk=int(rule_id)).first()
        if rule is None or not AutomationRule.objects.filter(pk=rule.pk).delete()[0]:
            raise NotFound("no such remembered browser on this device")
        pairing = rule.pairing
        audit.record(
            audit.REMEMBERED_FORGOTTEN,
            "forgotten",
            requester=str(pairing.requester_id),
            user=pairing.user,
            phone=phone,
            details={
                "pairing": str(pairing.pk),
                "terminal": str(rule.terminal_id),
                "action": rule.action.name,
                "by": by,
            },
        )
