"""Forms of the enrollment pages: the pairing phrase and a terminal's name."""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

#: Pairing phrases are words the phone shows ("awkward turtle"): letters, spaces, hyphens.
PHRASE_RE = re.compile(r"\A[^\W\d_]+(?:[ -][^\W\d_]+){0,5}\Z")
PHRASE_MAX = 60
TERMINAL_NAME_MAX = 100


def collapse_spaces(value: str) -> str:
    """Trim and collapse runs of whitespace to one space."""
    return " ".join(str(value or "").split())


class PairingPhraseForm(forms.Form):
    """The phrase the Toopher app shows after tapping "+"."""

    pairing_phrase = forms.CharField(
        label=_("Pairing phrase"),
        max_length=PHRASE_MAX,
        help_text=_('In the Toopher app, tap "+" and type the words it shows, e.g. '
                    '"awkward turtle".'),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def clean_pairing_phrase(self) -> str:
        phrase = collapse_spaces(self.cleaned_data["pairing_phrase"]).lower()
        if not PHRASE_RE.match(phrase):
            raise forms.ValidationError(
                _("A pairing phrase is made of words (letters only), like \"awkward turtle\"."),
                code="invalid",
            )
        return phrase


class TerminalNameForm(forms.Form):
    """A friendly name for one of the user's browsers ("Work laptop")."""

    name = forms.CharField(label=_("Name"), max_length=TERMINAL_NAME_MAX)

    def clean_name(self) -> str:
        name = collapse_spaces(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("Please give a name."), code="required")
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
            raise forms.ValidationError(
                _("The name contains characters that cannot be shown."), code="invalid"
            )
        return name
