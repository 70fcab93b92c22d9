"""The whole Toopher flow as a JSON API, for single-page and mobile apps.

Include ``django_toopher.headless.urls`` once (for example under ``_toopher/``). Every
endpoint exists twice: under ``browser/v1/`` for a browser client (the session
cookie, CSRF enforced as everywhere) and under ``app/v1/`` for an app client (a
session token in the ``X-Session-Token`` header, no cookies, no CSRF). The views
call the same flows as the HTML pages (``django_toopher.internal.flows``): one
state machine, the same rate limits, single-use grant, fail mode, audit events and
signals. See docs/headless.md; the OpenAPI 3.1 document is served at
``<prefix>openapi.json``.
"""
