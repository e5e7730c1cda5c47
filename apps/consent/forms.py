"""Forms of the consent app: the public opt-in form and the admin forms that need more than
a plain ModelForm (normalised addresses, purposes as checkboxes)."""

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from apps.consent.models import Channel, OptInForm, Purpose, Suppression

TEXTABLE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def phone_e164(value: str) -> str:
    """A number a person typed, as E.164; refuses anything that cannot receive a text."""
    try:
        number = phonenumbers.parse(value, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException as error:
        raise ValidationError("Enter a mobile phone number, e.g. (415) 555-2671.") from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("This is not a valid phone number. Check the digits.")
    if phonenumbers.number_type(number) not in TEXTABLE_TYPES:
        raise ValidationError("This number cannot receive text messages. Enter a mobile number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class OptInSignupForm(forms.Form):
    """What a person fills in on /optin/<slug>/. The consent box is never pre-checked."""

    name = forms.CharField(max_length=200, label="Name")
    phone = forms.CharField(
        max_length=32,
        label="Mobile phone",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        required=False, label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    consent = forms.BooleanField(
        required=True,
        initial=False,
        label="Yes, I agree to receive text messages as described above.",
        error_messages={"required": "Check the box to agree to receive text messages."},
    )

    def __init__(self, *args, optin_form: OptInForm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        if not optin_form.ask_email:
            del self.fields["email"]

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_phone(self) -> str:
        return phone_e164(self.cleaned_data["phone"])


class SuppressionAdminForm(forms.ModelForm):
    """Stores the address the way the policy gate looks it up: E.164 or a lower-case email."""

    class Meta:
        model = Suppression
        fields = ["channel", "address", "reason", "contact", "note"]

    def clean(self):
        cleaned = super().clean()
        address, channel = cleaned.get("address"), cleaned.get("channel")
        if address and channel == Channel.SMS:
            cleaned["address"] = self._field_checked("address", phone_e164, address)
        elif address and channel == Channel.EMAIL:
            cleaned["address"] = address.strip().lower()
            self._field_checked("address", validate_email, cleaned["address"])
        return cleaned

    def _field_checked(self, field: str, check, value):
        try:
            return check(value)
        except ValidationError as error:
            self.add_error(field, error)
            return value


def _https_by_default(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class OptInFormAdminForm(forms.ModelForm):
    purposes = forms.TypedMultipleChoiceField(
        choices=Purpose.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the person consents to receive by SMS.",
    )

    class Meta:
        model = OptInForm
        fields = [
            "name", "slug", "brand", "program_name", "message_frequency", "help_contact",
            "privacy_url", "terms_url", "disclosure", "double_opt_in", "ask_email", "purposes",
            "is_active", "success_message",
        ]  # fmt: skip
        formfield_callback = _https_by_default
