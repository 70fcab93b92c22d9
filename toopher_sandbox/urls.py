"""URLs of the sandbox. Mount it anywhere: ``path("sandbox/", include("toopher_sandbox.urls"))``.

The service's own views (``toopher_server.urls``: API v1, the iframe, the reset-link
page) are served here unchanged, each API view behind the fault injection; around them
``phone/`` is the phone simulator, ``control/`` the control API and ``r/pairings/<id>``
the QR deep link that a simulated phone "scans". The device API (``app/api/v1/``) is
the service's, unchanged: an enrolled authenticator works against the sandbox too,
and so does the service's own authenticator web app at ``app/``.
"""

from django.urls import path

from toopher_server import urls as service

from . import control_views as control
from . import faults
from . import phone_views as phone
from . import web_views as web

app_name = "toopher_sandbox"

v1 = [path("v1", web.api_index, name="v1"), path("v1/", web.api_index)]
v1 += [path(str(p.pattern), faults.injecting(p.callback), name=p.name) for p in service.v1]

controls = [
    path("control/requesters", control.requesters, name="control-requesters"),
    path("control/phones", control.create_phone, name="control-phones"),
    path("control/phones/<str:phone_id>/phrases", control.phone_phrase),
    path("control/phones/<str:phone_id>/requests", control.phone_requests),
    path("control/pairings/<str:pairing_id>/respond", control.respond_pairing),
    path("control/pairings/<str:pairing_id>/deactivate", control.deactivate_pairing),
    path("control/pairings/<str:pairing_id>/otp", control.pairing_otp),
    path(
        "control/authentication_requests/<str:request_id>/respond", control.respond_authentication
    ),
    path("control/automations", control.automations),
    path("control/faults", control.faults, name="control-faults"),
    path("control/messages", control.messages),
]

phones = [
    path("phone/", phone.phone_list, name="phones"),
    path("phone/<uuid:phone_id>/", phone.phone_page, name="phone"),
    path("phone/<uuid:phone_id>/state", phone.phone_state, name="phone-state"),
    path("phone/<uuid:phone_id>/phrase", phone.phone_new_phrase, name="phone-phrase"),
    path(
        "phone/<uuid:phone_id>/pairings/<uuid:pairing_id>/respond",
        phone.phone_respond_pairing,
        name="phone-respond-pairing",
    ),
    path(
        "phone/<uuid:phone_id>/pairings/<uuid:pairing_id>/remove",
        phone.phone_remove_pairing,
        name="phone-remove-pairing",
    ),
    path(
        "phone/<uuid:phone_id>/requests/<uuid:request_id>/respond",
        phone.phone_respond_authentication,
        name="phone-respond-authentication",
    ),
    path("phone/<uuid:phone_id>/scan", phone.phone_scan, name="phone-scan"),
    path(
        "phone/<uuid:phone_id>/automations/<int:rule_id>/remove",
        phone.phone_remove_automation,
        name="phone-remove-automation",
    ),
]

web_urls = [
    path("", web.index, name="index"),
    path("r/pairings/<str:pairing_id>", web.qr_link, name="qr_link"),
]

urlpatterns = (
    v1 + service.iframe + service.app_api + controls + phones + web_urls + service.pages
    + service.unknown("v1", "control") + service.app + service.qr_decoder
)
