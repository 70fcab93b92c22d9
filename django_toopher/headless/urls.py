"""URLs of the JSON API. Include them once, for example::

    path("_toopher/", include("django_toopher.headless.urls")),

Every endpoint is served under ``browser/v1/`` (session cookie, CSRF) and ``app/v1/``
(``X-Session-Token``); the OpenAPI 3.1 document is ``openapi.json``. Any other path
under the prefix answers a JSON ``not_found``.
"""

from django.urls import URLPattern, URLResolver, include, path, re_path

from .views import account, actions, login, recovery
from .views.fallback import not_found
from .views.schema import openapi

app_name = "django_toopher_headless"

endpoints: list[URLPattern | URLResolver] = [
    path("session", login.session, name="session"),
    path("login", login.password_login, name="login"),
    path("logout", login.logout, name="logout"),
    path("pending/start", login.start, name="pending_start"),
    path("pending/status", login.status, name="pending_status"),
    path("pending/cancel", login.cancel, name="pending_cancel"),
    path("pending/retry", login.retry, name="pending_retry"),
    path("pending/otp", login.submit_otp, name="pending_otp"),
    path("pending/terminal", login.name_terminal, name="pending_terminal"),
    path("pending/pair", login.pair, name="pending_pair"),
    path("pending/pair/qr", login.pairing_qr, name="pending_pair_qr"),
    path("pending/recovery-code", recovery.pending_code, name="pending_recovery_code"),
    path("pending/reset-email", recovery.pending_reset_email, name="pending_reset_email"),
    path("pending/reset", recovery.pending_reset, name="pending_reset"),
    path("actions/begin", actions.begin, name="actions_begin"),
    path("actions/result", actions.result, name="actions_result"),
    path("account", account.account, name="account"),
    path("account/reauthenticate", account.reauthenticate, name="account_reauthenticate"),
    path("account/pair", account.pair, name="account_pair"),
    path("account/pair/status", account.pair_status, name="account_pair_status"),
    path("account/pair/qr", account.pair_qr, name="account_pair_qr"),
    path("account/pair/cancel", account.pair_cancel, name="account_pair_cancel"),
    path("account/unpair", account.unpair, name="account_unpair"),
    path("account/recovery-codes", recovery.codes, name="account_recovery_codes"),
    path("account/recovery-codes/new", recovery.new_codes, name="account_recovery_codes_new"),
    path("account/terminals", account.terminal_list, name="account_terminals"),
    path("account/terminals/<int:pk>/rename", account.terminal_rename,
         name="account_terminal_rename"),
    path("account/terminals/<int:pk>/forget", account.terminal_forget,
         name="account_terminal_forget"),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("openapi.json", openapi, name="openapi"),
    path("<str:client>/v1/", include(endpoints)),
    # Last: whatever no endpoint took (an unknown path, an id that is no integer) is a
    # JSON not_found, not Django's HTML page.
    re_path(r"^.*$", not_found, name="not_found"),
]
