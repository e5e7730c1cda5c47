"""Forms of the reporting pages: they parse and check what people ask for, nothing more."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.contacts.models import Contact
from apps.contacts.selectors import contacts_search
from apps.journeys.models import Journey
from apps.library.models import MessageTemplate
from apps.reporting.audit.signins import SignInFilters
from apps.reporting.audit.trail import TrailFilters, trail_model_choices
from apps.reporting.selectors import GROUPS, DashboardFilters

MAX_RANGE_DAYS = 400


class DateRangeForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError("The end comes before the start.")
            if (end - start).days > MAX_RANGE_DAYS:
                raise forms.ValidationError(f"Pick at most {MAX_RANGE_DAYS} days.")
        return cleaned

    def moments(self) -> tuple[datetime, datetime]:
        """[start of the first day, start of the day after the last) in the current zone."""
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.cleaned_data["start"], time.min, tzinfo=zone)
        end = datetime.combine(self.cleaned_data["end"] + timedelta(days=1), time.min, tzinfo=zone)
        return start, end


class DashboardFilterForm(DateRangeForm):
    journey = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    template = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    group = forms.ChoiceField(
        choices=[("journey", "Journey"), ("template", "Template"), ("step", "Step")],
        required=False,
    )

    def __init__(self, data=None, **kwargs):
        defaults = DashboardFilters.default()
        initial = {"start": defaults.start, "end": defaults.end, "group": "journey"}
        super().__init__({**initial, **(data or {}).dict()} if data else initial, **kwargs)
        self.fields["journey"].choices = [
            ("", "All journeys"),
            *Journey.objects.order_by("name").values_list("pk", "name"),
        ]
        self.fields["template"].choices = [
            ("", "All templates"),
            *MessageTemplate.objects.order_by("name").values_list("pk", "name"),
        ]

    def filters(self) -> DashboardFilters:
        """What was asked for, or the last 30 days of everything when it does not parse."""
        if not self.is_valid():
            return DashboardFilters.default()
        data = self.cleaned_data
        group = data.get("group") if data.get("group") in GROUPS else "journey"
        return DashboardFilters(
            start=data["start"],
            end=data["end"],
            journey_id=data.get("journey"),
            template_id=data.get("template"),
            group_by=group,
        )


class AuditTrailFilterForm(forms.Form):
    model = forms.ChoiceField(required=False)
    user = forms.ModelChoiceField(queryset=None, required=False, empty_label="Anyone")
    contact = forms.CharField(
        required=False,
        max_length=200,
        label="Contact",
        help_text="A name, email or phone number.",
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "Everything"), *trail_model_choices()]
        self.fields["user"].queryset = get_user_model().objects.order_by("username")
        self.fields["user"].label_from_instance = _user_named

    def clean_contact(self) -> Contact | None:
        """The one contact the words name; none or several is an error to fix."""
        query = self.cleaned_data["contact"].strip()
        if not query:
            return None
        found = contacts_search(query=query, limit=2)
        if not found:
            raise forms.ValidationError(f"No contact matches “{query}”.")
        if len(found) > 1:
            raise forms.ValidationError(
                f"Several contacts match “{query}”: type the full name, email or phone number."
            )
        return found[0]

    def filters(self) -> TrailFilters:
        if not self.is_valid():
            return TrailFilters()
        data = self.cleaned_data
        return TrailFilters(
            model=data.get("model") or "",
            user_id=data["user"].pk if data.get("user") else None,
            contact_id=data["contact"].pk if data.get("contact") else None,
            since=data.get("since"),
            until=data.get("until"),
        )


class SignInFilterForm(forms.Form):
    username = forms.CharField(required=False, max_length=150)
    outcome = forms.ChoiceField(
        required=False,
        choices=[("", "Both"), ("success", "Signed in"), ("failure", "Failed")],
    )
    before = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def filters(self) -> SignInFilters:
        if not self.is_valid():
            return SignInFilters()
        data = self.cleaned_data
        return SignInFilters(
            username=data["username"].strip(), outcome=data["outcome"], before=data["before"]
        )


def _user_named(user) -> str:
    return f"{user.display_name} ({user.username})" if user.get_full_name() else user.username


def last_days(days: int) -> dict[str, date]:
    today = timezone.localdate()
    return {"start": today - timedelta(days=days - 1), "end": today}
