"""``GET /health``: is this instance able to serve, and the counts an operator watches.

For the load balancer: 200 ``{"status": "ok", ...counts}`` when the database answers,
503 ``{"status": "unavailable", "error_code": 503, "error_message": ...}`` when it does
not. The answer holds counts only: no secret, no user name, no requester.

It is cheap: one aggregate query over the authentication requests' ``(pending,
created)`` index (:func:`operator_counts`), one more over the same range for the pushes
and a count of the push subscriptions (:func:`push_counts`). Also answered by
:class:`HealthMiddleware` before Django checks the ``Host`` header, so a balancer that
probes each instance by its address needs no entry in ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import DatabaseError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .lifecycle import cutoff
from .models import AuthenticationRequest

log = logging.getLogger(__name__)

PATH = "/health"
#: The window of ``requests_last_hour``.
WINDOW = timedelta(hours=1)


def operator_counts(now: datetime | None = None) -> dict[str, int]:
    """The counts ``/health`` reports, in one place.

    * ``pending_requests``: authentication requests still waiting for an answer (not
      yet expired);
    * ``requests_last_hour``: authentication requests made in the last hour.

    Raises ``DatabaseError`` when the database does not answer.
    """
    now = now or timezone.now()
    hour_ago, live_since = now - WINDOW, cutoff(now)
    # ``pending IN (true, false)`` lets the (pending, created) index serve the range.
    counts = AuthenticationRequest.objects.filter(
        pending__in=[True, False], created__gte=min(hour_ago, live_since)
    ).aggregate(
        pending_requests=Count("pk", filter=Q(pending=True, created__gte=live_since)),
        requests_last_hour=Count("pk", filter=Q(created__gte=hour_ago)),
    )
    result = {name: int(value or 0) for name, value in counts.items()}
    result.update(push_counts(now))
    return result


def push_counts(now: datetime) -> dict[str, int]:
    """The push figures (:mod:`toopher_server.push.counts`): requests of the last hour
    by push state (``pushes_sent_last_hour``, ``pushes_failed_last_hour``,
    ``pushes_held_last_hour``, ``pushes_queued_last_hour``) and ``push_subscriptions``."""
    from .push.counts import push_counts as counts

    return counts(now)


@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """200 with the counts when the database answers, else 503; JSON either way."""
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse(
            {"error_code": 405, "error_message": "Method not allowed."}, status=405
        )
        response["Allow"] = "GET, HEAD"
        return response
    try:
        counts = operator_counts()
    except DatabaseError as exc:
        log.error("health: the database does not answer (%s)", type(exc).__name__)
        return JsonResponse(
            {
                "status": "unavailable",
                "database": "unavailable",
                "error_code": 503,
                "error_message": "The database does not answer.",
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok", **counts})


class HealthMiddleware:
    """Answer ``/health`` before the host check and every other middleware.

    Put it right after ``JsonApiErrorsMiddleware``; other paths pass through untouched.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == PATH:
            return health(request)
        return self.get_response(request)
