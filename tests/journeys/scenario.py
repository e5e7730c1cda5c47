"""Building blocks for journey scenarios: events as they happen, the beat's advance, email
templates made through the library's workflow, and email consent."""

from datetime import UTC, datetime

from django.utils import timezone

from apps.accounts import roles
from apps.consent.models import Channel, ConsentSource, Purpose
from apps.consent.services import Evidence, consent_opt_in
from apps.contacts.events import record_event
from apps.journeys.engine.advance import enrollments_advance_due
from apps.library.services import template_create, version_approve, version_submit
from tests.factories import UserFactory

# 23:00 on Monday in Chicago (the contacts' zone); quiet hours end at 08:00, 13:00 UTC.
NIGHT = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
MORNING = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)

EMAIL_BODY = (
    'Hi {{ contact.first_name | "there" }}, here is 20% off your first year: {link:offer}\nCue Demo'
    "\nCue Demo Inc., 100 Market Street, Suite 300, Springfield, IL 62701"
    "\nUnsubscribe: {link:unsubscribe}"
)
EMAIL_LINKS = {"offer": {"url": "https://www.example.com/offer", "key": True}}


def happen(contact, event_type: str, key: str, **properties):
    """The contact does something now; its hand-off runs only inside a captured commit."""
    return record_event(
        contact=contact,
        type=event_type,
        occurred_at=timezone.now(),
        idempotency_key=key,
        properties=properties,
    )


def advance(capture) -> int:
    """One beat of the engine, with what it enqueues after commit (dispatch) run eagerly."""
    with capture(execute=True):
        return enrollments_advance_due()


def email_template(name: str = "Offer email", subject: str = "Your offer", body: str = EMAIL_BODY):
    author = UserFactory(role=roles.MARKETER)
    template = template_create(
        actor=author,
        name=name,
        channel="email",
        purpose="progress",
        category="marketing",
        subject=subject,
        body=body,
        links=EMAIL_LINKS,
    )
    version = template.versions.get()
    version_submit(actor=author, version=version, notify=False)
    version_approve(actor=UserFactory(role=roles.APPROVER), version=version, notify=False)
    template.refresh_from_db()
    assert template.current_version.status == "approved"
    return template


def email_opt_in(contact):
    consent_opt_in(
        contact=contact,
        channel=Channel.EMAIL,
        purpose=Purpose.MARKETING,
        source=ConsentSource.API,
        evidence=Evidence(note="test"),
    )
    return contact
