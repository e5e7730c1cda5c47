"""Forms of the task page and the routing admin. They validate input; services do the work."""

import uuid

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from apps.accounts.models import User
from apps.contacts.models import Contact
from apps.routing.board import QUEUE, BoardFilters, GroupBy, SlaState, SortBy
from apps.routing.models import (
    OPEN_STATUSES,
    Intent,
    Outcome,
    Priority,
    RoutingRule,
    SignalType,
    WebhookEndpoint,
    WebhookEvent,
)
from apps.routing.services import Completion
from apps.routing.services.work import REPLY_MAX_CHARS, team_reps


class CompleteForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea({"rows": 2}))
    opt_out_marketing = forms.BooleanField(
        required=False, label="They asked for no more marketing texts: opt them out of marketing"
    )
    topics = forms.CharField(
        required=False,
        max_length=300,
        label="Topics they still want to hear about (comma-separated)",
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") != Outcome.NOT_INTERESTED and (
            data.get("opt_out_marketing") or data.get("topics")
        ):
            raise forms.ValidationError(
                "The opt-out and topics go with the outcome “Not interested”."
            )
        return data

    def completion(self) -> Completion:
        data = self.cleaned_data
        topics = [t.strip() for t in data["topics"].split(",") if t.strip()] or None
        return Completion(
            outcome=data["outcome"],
            note=data["note"],
            opt_out_marketing=data["opt_out_marketing"],
            topics=topics,
        )


class ReplyForm(forms.Form):
    body = forms.CharField(
        max_length=REPLY_MAX_CHARS, widget=forms.Textarea({"rows": 3}), label="Text"
    )
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["nonce"].initial = uuid.uuid4().hex  # one send key per rendered form


class ReassignForm(forms.Form):
    """No rep is preselected: a manager names the rep, then confirms (`confirm`)."""

    owner = forms.ModelChoiceField(
        queryset=None,
        label="Reassign to",
        empty_label="Choose a rep…",
        error_messages={"required": "Choose the rep to give it to."},
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, task, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team_reps(task.team).exclude(pk=task.owner_id or 0)
        self.fields["owner"].label_from_instance = lambda user: user.display_name


# The pages reps and managers work on, and the permission each needs.
REP_PAGES = {"/tasks/": "routing.view_followuptask", "/inbox/": "inbox.view_conversation"}


class TaskSignInForm(AdminAuthenticationForm):
    """The admin's login page is the sign-in page (LOGIN_URL). Reps and managers are not
    staff; they may sign in there when they are on their way to /tasks/ or /inbox/, and
    only then — the admin itself still refuses them on every request."""

    def confirm_login_allowed(self, user):
        request = self.request
        next_url = (request.POST.get("next") or request.GET.get("next") or "") if request else ""
        page = next((p for p in REP_PAGES if next_url.startswith(p)), None)
        if not user.is_staff and page is not None:
            AuthenticationForm.confirm_login_allowed(self, user)
            if user.has_perm(REP_PAGES[page]):
                return
        super().confirm_login_allowed(user)


def _multiple(choices, label: str, help_text: str = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=label,
        help_text=help_text,
    )


RULE_CONDITION_FIELDS = [
    "signal_types", "intents", "min_confidence", "contact_rules", "journey_scope", "journey_id",
]  # fmt: skip
RULE_ACTION_FIELDS = [
    "team", "strategy", "sla_minutes", "sla_clock", "warn_at_percent", "priority",
    "notify_email", "notify_sms", "reassign_on_breach", "dedupe_window_minutes",
]  # fmt: skip


class RoutingRuleForm(forms.ModelForm):
    signal_types = _multiple(SignalType.choices, "Signal types", "None ticked: every kind.")
    intents = _multiple(Intent.choices, "Reply intents", "None ticked: any intent.")

    class Meta:
        model = RoutingRule
        fields = ["name", "position", "is_active", *RULE_CONDITION_FIELDS, *RULE_ACTION_FIELDS]


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", label="URL")
    events = _multiple(WebhookEvent.choices, "Events")

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "events", "is_active"]

    def clean_events(self):
        events = self.cleaned_data["events"]
        if not events:
            raise forms.ValidationError("Choose at least one event.")
        return events


class DryRunForm(forms.Form):
    contact = forms.CharField(help_text="Contact id, external id, email or phone (E.164).")
    signal_type = forms.ChoiceField(choices=SignalType.choices, initial=SignalType.REPLY)
    text = forms.CharField(
        required=False,
        widget=forms.Textarea({"rows": 2}),
        label="Reply text",
        help_text="For a reply: classified exactly as an inbound text would be.",
    )
    journey_id = forms.IntegerField(required=False, min_value=1)
    at = forms.DateTimeField(
        required=False,
        label="At",
        help_text="When the signal arrives (e.g. 2026-03-10 14:00); empty: now.",
    )

    def clean_contact(self) -> Contact:
        value = self.cleaned_data["contact"].strip()
        contacts = Contact.objects.all()
        found = (
            contacts.filter(pk=int(value)).first()
            if value.isdigit()
            else contacts.filter(external_id=value).first()
            or contacts.filter(email__iexact=value).first()
            or contacts.filter(phone=value).first()
        )
        if found is None:
            raise forms.ValidationError("No contact has that id, external id, email or phone.")
        return found


class BoardFilterForm(forms.Form):
    """The manager's board filters; a team or rep outside the manager's teams is an error."""

    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="All teams")
    rep = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    priority = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    sla = forms.ChoiceField(required=False, label="SLA")
    status = forms.ChoiceField(required=False)
    group_by = forms.ChoiceField(required=False, label="Group by", choices=GroupBy.choices)
    sort = forms.ChoiceField(required=False, label="Sort by", choices=SortBy.choices)

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        reps = User.objects.filter(team__in=teams, is_active=True).order_by("first_name")
        self.fields["rep"].choices = [
            ("", "Everyone"),
            (QUEUE, "Team queue (unassigned)"),
            *((rep.pk, rep.display_name) for rep in reps),
        ]
        self.fields["priority"].choices = [("", "Any priority"), *Priority.choices]
        self.fields["sla"].choices = [("", "Any SLA state"), *SlaState.choices]
        open_statuses = [(s.value, s.label) for s in OPEN_STATUSES]
        self.fields["status"].choices = [("", "Open or in progress"), *open_statuses]

    def filters(self) -> BoardFilters:
        if not self.is_bound or not self.is_valid():
            return BoardFilters()
        data = self.cleaned_data
        return BoardFilters(
            team_id=data["team"].pk if data["team"] else None,
            owner_id=data["rep"],
            priority=data["priority"],
            sla=data["sla"],
            status=data["status"],
            group_by=data["group_by"] or GroupBy.REP,
            sort=data["sort"] or SortBy.DUE,
        )
