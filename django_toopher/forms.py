"""One form per input, each with the one rule for that input, used by every page and
flow that takes it (the pending page, the security page, the terminals page)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .internal.recovery_codes import INPUT_MAX, normalize

#: Pairing phrases are words the phone shows ("awkward turtle"): letters, spaces, hyphens.
PHRASE_RE = re.compile(r"\A[^\W\d_]+(?:[ -][^\W\d_]+){0,5}\Z")
PHRASE_MAX = 60
#: Longest terminal name Toopher and the model accept.
TERMINAL_NAME_MAX = 100
#: Longest action name ("Change email") a step-up may ask the phone to approve.
ACTION_MAX = 100
#: An age in seconds as the query string or a form gives it: ASCII digits only
#: (``"²".isdigit()`` is true, and ``int()`` takes Arabic-Indic digits).
DIGITS_RE = re.compile(r"\A[0-9]{1,9}\Z")
#: Unicode categories a name may not contain: controls (BEL, NUL), format characters
#: (U+202E right-to-left override, zero-width joiners), surrogates, private use, unassigned.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def collapse_spaces(value: Any) -> str:
    """Trim and collapse runs of whitespace to one space."""
    return " ".join(str(value or "").split())


def _printable(value: str) -> str:
    """``value`` unchanged, or a ValidationError when it holds characters that cannot
    be shown (:data:`FORBIDDEN_CATEGORIES`; tabs and newlines are spaces)."""
    if any(unicodedata.category(ch) in FORBIDDEN_CATEGORIES for ch in value
           if ch not in " \t\r\n"):
        raise forms.ValidationError(
            _("The name contains characters that cannot be shown."), code="invalid"
        )
    return value


class TerminalNameForm(forms.Form):
    """A name for one of the user's browsers ("Work laptop"), as the phone will show it."""

    name = forms.CharField(
        label=_("Name of this browser"),
        max_length=TERMINAL_NAME_MAX,
        help_text=_('For example "Work laptop" or "Kitchen PC".'),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Enter a name for this browser.")},
    )

    def clean_name(self) -> str:
        name = collapse_spaces(_printable(self.cleaned_data["name"]))
        if not name:
            raise forms.ValidationError(_("Enter a name for this browser."), code="required")
        return name


class PairingPhraseForm(forms.Form):
    """The phrase the Toopher app shows after tapping "+", or ``use_qr`` for a QR code.

    :attr:`phrase` is the cleaned phrase, or None for a QR pairing.
    """

    pairing_phrase = forms.CharField(
        label=_("Pairing phrase"),
        max_length=PHRASE_MAX,
        required=False,
        help_text=_('In the Toopher app, tap "+" and type the words it shows, e.g. '
                    '"awkward turtle".'),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    use_qr = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_pairing_phrase(self) -> str:
        phrase = collapse_spaces(self.cleaned_data["pairing_phrase"]).lower()
        if phrase and not PHRASE_RE.match(phrase):
            raise forms.ValidationError(
                _('A pairing phrase is made of words (letters only), like "awkward turtle".'),
                code="invalid",
            )
        return phrase

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("use_qr") and not data.get("pairing_phrase") \
                and "pairing_phrase" not in self.errors:
            raise forms.ValidationError(_("Enter the pairing phrase, or use the QR code."),
                                        code="required")
        return data

    @property
    def phrase(self) -> str | None:
        return None if self.cleaned_data.get("use_qr") else self.cleaned_data["pairing_phrase"]


class OTPForm(forms.Form):
    """The one-time password shown in the Toopher app."""

    otp = forms.RegexField(
        label=_("One-time password"),
        regex=r"\A[0-9]{4,12}\Z",
        max_length=12,
        strip=True,
        error_messages={"invalid": _("Enter the digits shown in the Toopher app.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 10}
        ),
    )


class RecoveryCodeForm(forms.Form):
    """One of the user's recovery codes (``7K3QD-M2XAP-9RWTF-0HC4N``); case, spaces and
    hyphens do not matter. A code of the wrong shape is an input error, not a try."""

    code = forms.CharField(
        label=_("Recovery code"),
        max_length=INPUT_MAX,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters",
                   "spellcheck": "false", "size": 26}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if normalize(code) is None:
            raise forms.ValidationError(
                _("A recovery code has 20 letters and digits, like 7K3QD-M2XAP-9RWTF-0HC4N."),
                code="invalid",
            )
        return str(code)


class ResetTokenForm(forms.Form):
    """The token of an emailed pairing reset link (the link's last path segment)."""

    token = forms.CharField(max_length=500, strip=True)


class ReauthenticationForm(forms.Form):
    """The current user's password, checked through the site's auth backends."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        username_field = get_user_model().USERNAME_FIELD
        checked = authenticate(
            self.request, **{username_field: user.get_username(), "password": password}
        )
        if checked is None or checked.pk != user.pk:
            raise forms.ValidationError(_("That password is not correct."), code="invalid")
        return password


class SecondsField(forms.IntegerField):
    """A whole number of seconds written with the ASCII digits 0-9 only."""

    def to_python(self, value: Any) -> int | None:
        if value not in self.empty_values and not DIGITS_RE.match(str(value).strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class ActionForm(forms.Form):
    """A step-up: the name of the action to approve ("Change email"), and how old its
    approval may be (``max_age`` seconds; empty: ``ACTION_MAX_AGE``)."""

    action = forms.CharField(
        max_length=ACTION_MAX,
        error_messages={"required": _("Name the action to approve.")},
    )
    max_age = SecondsField(required=False, min_value=0)

    def clean_action(self) -> str:
        return _printable(self.cleaned_data["action"])
