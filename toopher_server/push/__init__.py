"""Web Push for enrolled authenticators (docs/push.md, protocol §9.12).

* :mod:`.vapid`: the service's VAPID key, sealed in the database, made once;
* :mod:`.subscriptions`: a device's push subscription, checked, one per device;
* :mod:`.sending`: which requests are pushed, when (after the commit) and with what;
* :mod:`.worker`: the bounded in-process queue and its threads that send;
* :mod:`.holds`: "This wasn't me" holds a user's pushes for a while;
* :mod:`.counts`: the figures ``/health`` reports.

The push is only a wake-up: its payload is ``{"request_id": ...}`` and nothing else,
and the app lists the pending requests itself whenever it opens.

This module imports nothing, so that ``toopher_server.models`` can register
:mod:`.models` without a cycle.
"""
