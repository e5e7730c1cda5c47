"""What the journey scenarios build: journeys with their steps, and approved text templates."""

from django.contrib.auth import get_user_model

from apps.accounts import roles
from apps.accounts.services import user_role_set
from apps.journeys.models import Journey, JourneyStatus, Step
from apps.library.services import template_create, version_approve, version_submit


def journey_make(name: str, *, steps=None, **fields) -> Journey:
    """An active journey with these (key, kind, config) steps, the first one its start."""
    journey = Journey.objects.create(name=name, status=JourneyStatus.ACTIVE, **fields)
    made = [
        Step.objects.create(journey=journey, key=key, kind=kind, config=config, position=i)
        for i, (key, kind, config) in enumerate(steps or [("done", "exit", {})])
    ]
    journey.first_step = made[0]
    journey.save(update_fields=["first_step"])
    return journey


def sms_template_approved(name: str):
    """A marketing text template whose one version went through review and is sendable."""
    author, approver = (
        _user("bench-marketer", roles.MARKETER),
        _user("bench-approver", roles.APPROVER),
    )
    template = template_create(
        actor=author,
        name=name,
        channel="sms",
        purpose="onboard",
        category="marketing",
        body='Cue Demo: welcome aboard, {{ contact.first_name | "there" }}. Reply STOP to opt out.',
    )
    version = template.versions.get()
    version_submit(actor=author, version=version, notify=False)
    version_approve(actor=approver, version=version, notify=False)
    if template.needs_compliance_approval:
        version_approve(
            actor=_user("bench-compliance", roles.COMPLIANCE), version=version, notify=False
        )
    return template


def _user(username: str, role: str):
    user, created = get_user_model().objects.get_or_create(username=username)
    return user_role_set(user=user, role=role) if created else user
