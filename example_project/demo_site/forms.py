"""Forms of the demo pages."""

from django import forms
from django.contrib.auth import get_user_model


class ChangeEmailForm(forms.Form):
    """A new email address for the logged-in user; it must not belong to someone else."""

    email = forms.EmailField(label="New email address", max_length=254)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        users = get_user_model()._default_manager
        if users.filter(email__iexact=email).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError("Another account uses this email address.")
        return email

    def save(self) -> None:
        self.user.email = self.cleaned_data["email"]
        self.user.save(update_fields=["email"])
