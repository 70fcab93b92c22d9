"""Which phones a browser may see listed: the ones it made or opened.

A phone page is reached by its URL, ``<mount>/phone/<phone id>/``, and the id is a
random UUID4: holding the URL is what lets a person act as that phone. The phone list
and the QR deep-link page therefore list only the phones this browser has made or
opened (their ids in a cookie), never everybody's, so whoever can reach a demo cannot
pick another person's phone from a list and approve a login there.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from toopher_server.models import Phone

PHONES_COOKIE = "toopher_sandbox_phones"
MAX_REMEMBERED = 20
COOKIE_AGE = 30 * 24 * 3600


def known_phone_ids(request: HttpRequest) -> list[str]:
    """The phone ids this browser has made or opened, newest first (malformed ones dropped)."""
    ids = []
    for part in request.COOKIES.get(PHONES_COOKIE, "").split("."):
        try:
            ids.append(str(uuid.UUID(part)))
        except ValueError:
            continue
    return ids[:MAX_REMEMBERED]


def known_phones(request: HttpRequest) -> QuerySet[Phone]:
    """This browser's phones (newest first)."""
    return Phone.objects.filter(id__in=known_phone_ids(request))


def remember_phone(request: HttpRequest, response: HttpResponse, phone: Phone) -> None:
    """Add ``phone`` to this browser's list (kept for 30 days, at most 20 phones)."""
    ids = [str(phone.id)] + [i for i in known_phone_ids(request) if i != str(phone.id)]
    response.set_cookie(
        PHONES_COOKIE,
        ".".join(ids[:MAX_REMEMBERED]),
        max_age=COOKIE_AGE,
        samesite="Lax",
        httponly=True,
    )
