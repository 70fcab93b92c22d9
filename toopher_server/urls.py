"""URLs of the service. Mount it anywhere: ``path("toopher/", include("toopher_server.urls"))``.

``v1/`` is Toopher API v1 with the iframe pages under ``v1/web/``; ``r/pairings/<id>``
is the QR code's deep link, ``pairings/<id>/reset`` the reset-link page,
``app/api/v1/`` the device API of enrolled authenticators and ``health`` the load
balancer's probe (:mod:`toopher_server.health`). The lists
are public so that the sandbox can serve the very same views among its own pages.
"""

from django.urls import path, re_path

from . import api_views as api
from . import app_views, qr_views
from . import device_views as device
from . import health as health_views
from . import iframe_views as web_iframe
from . import phone_device_views as phone_device
from . import web_views as web
from .push import views as push_views

app_name = "toopher_server"

index = [
    path("v1", api.index, name="v1"),
    path("v1/", api.index),
]

v1 = [
    # The status poll first: it is the call clients make most (initiate must precede it).
    path("v1/authentication_requests/initiate", api.authentication_initiate),
    path("v1/authentication_requests/<str:request_id>", api.authentication_detail),
    path("v1/pairings/create", api.pairing_create, name="v1-pairing-create"),
    path("v1/pairings/create/qr", api.pairing_create_qr),
    path("v1/pairings/create/sms", api.pairing_create_sms),
    path("v1/pairings/<str:pairing_id>", api.pairing_detail),
    path("v1/pairings/<str:pairing_id>/generate_reset_link", api.pairing_generate_reset_link),
    path("v1/pairings/<str:pairing_id>/send_reset_link", api.pairing_send_reset_link),
    path("v1/qr/pairings/<str:pairing_id>", api.pairing_qr),
    path("v1/authentication_requests/<str:request_id>/otp_auth", api.authentication_otp),
    path("v1/authentication_requests/<str:request_id>/cancel", api.authentication_cancel),
    path("v1/users", api.user_list),
    path("v1/users/create", api.user_create),
    path("v1/users/reset", api.user_reset),
    path("v1/users/<str:user_id>", api.user_detail),
    path("v1/users/<str:user_id>/pairings", api.user_pairings),
    path("v1/user_terminals/create", api.terminal_create),
    path("v1/user_terminals/<str:terminal_id>", api.terminal_detail),
]

iframe = [
    path("v1/web/authenticate", web_iframe.web_authenticate, name="iframe-authenticate"),
    path("v1/web/auth", web_iframe.web_auth),
    path("v1/web/auth-v2", web_iframe.web_auth),
    path("v1/web/manage_user", web_iframe.web_manage_user, name="iframe-manage-user"),
    path("v1/web/pair", web_iframe.web_manage_user),
    path("v1/web/pair-v2", web_iframe.web_manage_user),
    path("v1/web/unpair", web_iframe.web_unpair),
    path("v1/web/flow", web_iframe.web_flow, name="iframe-flow"),
    path("v1/web/error.html", web_iframe.web_error, name="iframe-error"),
    path("static/toopher-web.js", web_iframe.toopher_web_js, name="toopher-web-js"),
]

#: The device API of enrolled authenticators (docs/authenticator-protocol.md §9).
app_api = [
    path("app/api/v1/devices", device.enrol, name="app-enrol"),
    path("app/api/v1/devices/me", device.this_device),
    path("app/api/v1/pairing_phrases", device.new_phrase),
    path("app/api/v1/pairings", device.pairing_list),
    path("app/api/v1/pairings/<str:pairing_id>/decision", device.pairing_decision),
    path("app/api/v1/pairings/<str:pairing_id>/otp_seed", device.pairing_otp_seed),
    path("app/api/v1/authentication_requests", device.request_list),
    path("app/api/v1/authentication_requests/<str:request_id>", device.request_detail),
    path("app/api/v1/authentication_requests/<str:request_id>/decision", device.request_decision),
    path("app/api/v1/pairings/<str:pairing_id>/claim", device.pairing_claim),
    # Several devices and remembered browsers (§9.13, §9.14; GET devices: see device.enrol).
    path("app/api/v1/devices/me/invitations", phone_device.invitation),
    path("app/api/v1/devices/join", phone_device.join),
    path("app/api/v1/devices/<str:device_id>", phone_device.device_detail),
    path("app/api/v1/remembered_browsers", phone_device.remembered_list),
    path("app/api/v1/remembered_browsers/<str:rule_id>", phone_device.remembered_detail),
    path("app/api/v1/push", push_views.push),  # Web Push (docs/push.md, protocol §9.12)
    re_path(r"^(?P<rest>app/api(?:/.*)?)$", device.not_found),
]

qr_link = [path("r/pairings/<str:pairing_id>", web.qr_link, name="qr_link")]

#: The QR decoder the authenticator app imports where the browser has none (``qr_views``).
qr_decoder = [path("app/vendor/jsqr.js", qr_views.jsqr, name="app-jsqr")]

pages = [path("pairings/<str:pairing_id>/reset", web.reset_pairing, name="reset")]

#: ``health``: for the balancer (database reachable) and the operator's counts.
health = [path("health", health_views.health, name="health")]


def unknown(*prefixes: str) -> list:
    """A JSON 404 for any other path under these prefixes (``v1`` and the sandbox's
    ``control``)."""
    alternatives = "|".join(prefixes)
    return [re_path(rf"^(?P<rest>(?:{alternatives})(?:/.*)?)$", api.not_found)]


#: The authenticator web app (:mod:`toopher_server.app_views`): its page, manifest, service
#: worker and files, all under ``app/`` so that the service worker's scope is the app.
app = [
    path("app/", app_views.shell, name="app"),
    path("app/manifest.webmanifest", app_views.manifest, name="app-manifest"),
    path("app/sw.js", app_views.service_worker, name="app-sw"),
    re_path(r"^app/(?P<name>[a-z0-9-]+\.(?:js|css|png))$", app_views.app_file),
]

urlpatterns = (
    index + v1 + iframe + app_api + qr_link + pages + health + unknown("v1") + app
    + qr_decoder
)
