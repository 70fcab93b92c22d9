"""Forms of the login-side pages (all fields validated here, never in the flow)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .backends import TERMINAL_NAME_MAX


class TerminalNameForm(forms.Form):
    """Name this browser ("Kitchen PC") so that the phone shows where you log in."""

    name = forms.CharField(
        label=_("Name of this browser"),
        max_length=TERMINAL_NAME_MAX,
        strip=True,
        help_text=_('For example "Work laptop" or "Kitchen PC".'),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter a name for this browser."))
        return name


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


class PairingPhraseForm(forms.Form):
    """The pairing phrase shown by the Toopher app (or a QR code instead)."""

    pairing_phrase = forms.RegexField(
        label=_("Pairing phrase"),
        regex=r"\A[A-Za-z0-9 ._-]{2,100}\Z",
        max_length=100,
        strip=True,
        required=False,
        error_messages={"invalid": _("Enter the phrase exactly as the app shows it.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    use_qr = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("use_qr") and not data.get("pairing_phrase"):
            raise forms.ValidationError(_("Enter the pairing phrase, or use the QR code."))
        return data
