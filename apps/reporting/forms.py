"""Forms of the reporting pages: they parse and check what people ask for, nothing more."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.journeys.models import Journey
from apps.library.models import MessageTemplate
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
    contact = forms.IntegerField(required=False, min_value=1, label="Contact id")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "Everything"), *trail_model_choices()]
        self.fields["user"].queryset = get_user_model().objects.order_by("username")

    def filters(self) -> TrailFilters:
        if not self.is_valid():
            return TrailFilters()
        data = self.cleaned_data
        return TrailFilters(
            model=data.get("model") or "",
            user_id=data["user"].pk if data.get("user") else None,
            contact_id=data.get("contact"),
            since=data.get("since"),
            until=data.get("until"),
        )


def last_days(days: int) -> dict[str, date]:
    today = timezone.localdate()
    return {"start": today - timedelta(days=days - 1), "end": today}
