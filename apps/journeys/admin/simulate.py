"""The Simulate page's form: a contact from the CRM found by name, email or phone (or one
described in a few fields), and the event to try with a field per property it is known to
carry (JSON only as an option), and whether to follow every way the path divides or one way,
the outcome at each step that asks chosen by the marketer."""

import json
import math

from django import forms
from django.core.exceptions import ValidationError
from phonenumber_field.formfields import PhoneNumberField

from apps.consent.models import ConsentStatus
from apps.contacts.errors import ContactsError
from apps.contacts.models import (
    Contact,
    ContactKind,
    IntentBand,
    validate_event_type,
    validate_time_zone,
)
from apps.contacts.regions import region_normalize
from apps.contacts.selectors import contacts_search
from apps.contacts.stages import lifecycle_choices
from apps.journeys.admin.forms import JSONTextField
from apps.journeys.simulator import ContactDescription

PROPERTY_PREFIX = "property__"
CHOICE_PREFIX = "choose__"  # choose__<step key>=<the edge to follow there>
MAX_MATCHES = 10
FOLLOW_EVERY, FOLLOW_CHOSEN = "every", "chosen"


class SimulateForm(forms.Form):
    contact_search = forms.CharField(
        required=False,
        max_length=200,
        label="Contact",
        help_text="A contact in the CRM: a name, an email address or a phone number. Leave it "
        "empty to describe one below instead.",
    )
    # Chosen from the matches of a search (rendered as one radio button per match).
    contact = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    event_type = forms.CharField(
        required=False, max_length=64, validators=[validate_event_type], label="Event"
    )
    event_properties = JSONTextField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 50}),
        label="Or all the properties as JSON",
        help_text='e.g. {"form": "pricing-guide"}; a property field above wins over the same key.',
    )
    follow = forms.ChoiceField(
        required=False,
        choices=[
            (FOLLOW_EVERY, "Every way the path can go"),
            (FOLLOW_CHOSEN, "One way: I choose what happens at each step that asks"),
        ],
        initial=FOLLOW_EVERY,
        widget=forms.RadioSelect,
        label="Follow",
    )
    lifecycle_stage = forms.ChoiceField(required=False, choices=lifecycle_choices, initial="lead")
    kind = forms.ChoiceField(required=False, choices=ContactKind.choices, initial="prospect")
    intent_band = forms.ChoiceField(required=False, choices=IntentBand.choices, initial="high")
    time_zone = forms.CharField(
        required=False, initial="America/Chicago", validators=[validate_time_zone]
    )
    region = forms.CharField(
        required=False, max_length=64, initial="IL", help_text="A US state: IL or Illinois."
    )
    phone = PhoneNumberField(required=False, initial="+13125550100")
    email = forms.EmailField(required=False, initial="jordan@example.com")
    sms_consent = forms.ChoiceField(
        required=False,
        choices=ConsentStatus.choices,
        initial="opted_in",
        label="SMS marketing consent",
    )
    email_consent = forms.ChoiceField(
        required=False,
        choices=ConsentStatus.choices,
        initial="none",
        label="Email marketing consent",
    )

    DESCRIBED = [
        "lifecycle_stage", "kind", "intent_band", "time_zone", "region", "phone", "email",
        "sms_consent", "email_consent",
    ]  # fmt: skip

    def __init__(
        self, *args, may_pick_contact: bool = True, property_names: list[str] = (), **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.may_pick_contact = may_pick_contact
        self.matches: list[Contact] = []  # a search that found several: the user picks one
        for name in property_names:
            self.fields[PROPERTY_PREFIX + name] = forms.CharField(
                required=False, max_length=500, label=name, strip=True
            )

    def property_fields(self) -> list:
        return [field for field in self if field.name.startswith(PROPERTY_PREFIX)]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("contact") is None and cleaned.get("contact_search"):
            cleaned["contact"] = self._searched(cleaned["contact_search"])
        return cleaned

    def _searched(self, query: str) -> Contact | None:
        if not self.may_pick_contact:
            self.add_error("contact_search", "You may not look up contacts; describe one instead.")
            return None
        found = contacts_search(query=query, limit=MAX_MATCHES + 1)
        if len(found) == 1:
            return found[0]
        if not found:
            self.add_error("contact_search", f"No contact matches “{query}”.")
        else:
            self.matches = found[:MAX_MATCHES]
            more = "more than " if len(found) > MAX_MATCHES else ""
            self.add_error("contact_search", f"{more}{len(self.matches)} contacts match: pick one.")
        return None

    def clean_region(self) -> str:
        """As a stored contact's: the postal code, so the state's rules apply as they would."""
        try:
            return region_normalize(self.cleaned_data["region"], "US")
        except ContactsError as error:
            raise ValidationError(error.message) from error

    def clean_contact(self):
        contact_id = self.cleaned_data.get("contact")
        if contact_id is None:
            return None
        if not self.may_pick_contact:
            raise ValidationError("You may not look up contacts; describe one instead.")
        contact = Contact.objects.select_related("owner", "company").filter(pk=contact_id).first()
        if contact is None:
            raise ValidationError(f"There is no contact {contact_id}.")
        return contact

    def clean_event_properties(self):
        value = self.cleaned_data.get("event_properties")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise ValidationError('Give an object, e.g. {"form": "demo"}.')
        return value

    def description(self) -> ContactDescription:
        """The described contact; a choice left empty takes ContactDescription's default."""
        data = {name: self.cleaned_data.get(name) for name in self.DESCRIBED}
        data["phone"] = str(data["phone"]) if data["phone"] else ""
        for name in ("lifecycle_stage", "kind", "intent_band", "sms_consent", "email_consent"):
            if not data[name]:
                del data[name]
        return ContactDescription(**{k: v or "" for k, v in data.items()})

    def properties_given(self) -> dict:
        """The JSON, then each property field given (a number or true/false is read as one)."""
        properties = dict(self.cleaned_data.get("event_properties") or {})
        for field in self.property_fields():
            value = self.cleaned_data.get(field.name)
            if value:
                properties[field.name.removeprefix(PROPERTY_PREFIX)] = _typed(value)
        return properties

    def choices_given(self) -> dict[str, str] | None:
        """{step key: edge} when one way is followed (a choice naming no step or edge of
        the journey is ignored by the walk); None when every way is."""
        if self.cleaned_data.get("follow") != FOLLOW_CHOSEN:
            return None
        return {
            name.removeprefix(CHOICE_PREFIX)[:64]: value[:64]
            for name, value in self.data.items()
            if name.startswith(CHOICE_PREFIX) and isinstance(value, str)
        }

    def simulation_kwargs(self) -> dict:
        contact = self.cleaned_data.get("contact")
        return {
            "contact": contact,
            "description": None if contact is not None else self.description(),
            "event_type": self.cleaned_data.get("event_type") or "",
            "event_properties": self.properties_given(),
            "choices": self.choices_given(),
        }


def _typed(value: str):
    """'3' is 3 and 'true' is True, as in the JSON an API client sends; '02139' stays text."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    if isinstance(parsed, bool | int) or (isinstance(parsed, float) and math.isfinite(parsed)):
        return parsed
    return value
