"""URLs of the sandbox. Mount it anywhere: ``path("sandbox/", include("toopher_sandbox.urls"))``.

``v1/`` is Toopher API v1, ``phone/`` the phone simulator, ``control/`` the control API,
``r/pairings/<id>`` the QR deep link and ``pairings/<id>/reset`` the reset-link page.
"""

from django.urls import path, re_path

from . import api_views as api
from . import control_views as control
from . import iframe_views as web_iframe
from . import phone_views as phone
from . import web_views as web

app_name = "toopher_sandbox"

v1 = [
    # The status poll first: it is the call clients make most (initiate must precede it).
    path("v1/authentication_requests/initiate", api.authentication_initiate),
    path("v1/authentication_requests/<str:request_id>", api.authentication_detail),
    path("v1", api.index, name="v1"),
    path("v1/", api.index),
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
    path("pairings/<str:pairing_id>/reset", web.reset_pairing, name="reset"),
]

unknown = [re_path(r"^(?P<rest>(?:v1|control)(?:/.*)?)$", api.not_found)]

urlpatterns = v1 + iframe + controls + phones + web_urls + unknown
