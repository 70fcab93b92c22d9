"""The authenticator app's user-visible strings, translated by Django's catalogues.

The shell page renders them into a JSON block (``json_script``) that the app's
JavaScript reads, so the app speaks the language of the request with no JS catalogue.
``{name}``-style placeholders are filled in by the JavaScript.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: Key (what the JavaScript asks for) -> the translatable text.
STRINGS = {
    "app_name": _("Toopher Authenticator"),
    "nav_requests": _("Requests"),
    "nav_pair": _("Pair"),
    "nav_codes": _("Codes"),
    "nav_remembered": _("Remembered"),
    "nav_devices": _("Devices"),
    "nav_settings": _("Settings"),
    "setup_title": _("Set up this device"),
    "setup_intro": _(
        "This app approves sign-ins with a key that only this browser holds. "
        "Give the device a name you will recognise."
    ),
    "label": _("Device name"),
    "default_label": _("My phone"),
    "setup_button": _("Set up"),
    "setup_busy": _("Setting up…"),
    "no_crypto": _(
        "This browser cannot keep a device key (WebCrypto and IndexedDB are needed, "
        "over HTTPS)."
    ),
    "requests_title": _("Requests"),
    "requests_empty": _("No requests waiting. Keep this app open or come back when a site asks."),
    "request_title": _("Request"),
    "new_request": _("New request from {site}"),
    "site": _("Site"),
    "account": _("Account"),
    "action": _("Action"),
    "browser": _("Browser"),
    "age": _("Asked"),
    "seconds_ago": _("{n} s ago"),
    "allow": _("Allow"),
    "deny": _("Deny"),
    "not_me": _("This wasn't me"),
    "allow_always": _("Always allow from this browser"),
    "pick_number": _("To allow, pick the number the site shows:"),
    "allowed": _("Allowed."),
    "denied": _("Denied."),
    "reported": _("Denied and reported: this wasn't you."),
    "state_pending": _("Waiting for your answer"),
    "state_granted": _("Allowed"),
    "state_denied": _("Denied"),
    "state_cancelled": _("Cancelled by the site"),
    "state_expired": _("Expired"),
    "back_to_requests": _("All requests"),
    "pair_title": _("Pair with a site"),
    "pair_intro": _(
        "Get a pairing phrase and type it into the site's security page. "
        "Then confirm the pairing here."
    ),
    "pair_phrase_button": _("Get a pairing phrase"),
    "pair_phrase_label": _("Your pairing phrase"),
    "scan_qr": _("Scan QR code"),
    "scan_stop": _("Stop scanning"),
    "scan_hint": _("Point the camera at the QR code the site shows."),
    "pending_pairings": _("Pairings waiting for you"),
    "pairings_empty": _("None yet: once the site has your phrase, its pairing appears here."),
    "pairing_question": _("Pair {user} on {site} with this device?"),
    "paired": _("Paired."),
    "pairing_refused": _("Pairing refused."),
    "codes_title": _("Offline codes"),
    "codes_intro": _("When a site cannot reach this device, type the code shown for it."),
    "codes_empty": _("No paired sites yet."),
    "seconds_left": _("{n} s left"),
    "codes_offline": _("Offline: showing the codes kept on this device."),
    "remembered_title": _("Remembered browsers"),
    "remembered_empty": _("No remembered browsers."),
    "expires": _("Expires"),
    "forget": _("Forget"),
    "devices_title": _("Devices"),
    "devices_empty": _("No other devices."),
    "this_device": _("this device"),
    "remove": _("Remove"),
    "rename": _("Rename"),
    "cancel": _("Cancel"),
    "add_device": _("Add another device"),
    "add_device_code": _("Enter this code in the new device's app within {n} minutes:"),
    "join_title": _("Join another device"),
    "join_label": _("Code from your other device"),
    "join_button": _("Join"),
    "joined": _("This device now answers for the same accounts."),
    "settings_title": _("Settings"),
    "device_id": _("Device id"),
    "save": _("Save"),
    "notifications": _("Notifications"),
    "notifications_on": _("Turn on notifications"),
    "notifications_off": _("Turn off notifications"),
    "notifications_enabled": _("Notifications are on."),
    "notifications_disabled": _("Notifications are off."),
    "notifications_denied": _("Notifications are blocked in this browser's settings."),
    "unknown_device": _("This device is no longer known to the service."),
    "enrol_again": _("Set up again"),
    "error": _("Something went wrong"),
    "offline": _("No connection to the service."),
    "err_not_pending": _("This was already answered, cancelled or has expired."),
    "err_mismatch": _("What you saw no longer matches the service. Look again."),
    "err_wrong_code": _("Wrong number: the request was denied."),
    "err_code_required": _("Pick the number the site shows."),
    "err_not_found": _("Not found on this device."),
    "err_rate_limited": _("Too many attempts. Try again later."),
    "err_stale": _("This device's clock is wrong."),
    "err_camera": _("The camera is not available."),
    "err_qr": _("This QR code is not a pairing code."),
    "err_invalid_invitation": _("This code is wrong, expired or already used. Make a new one."),
    "err_device_in_use": _("This device already answers for accounts: it cannot join another."),
}


def translated() -> dict[str, str]:
    """Every string in the active language."""
    return {key: str(text) for key, text in STRINGS.items()}
