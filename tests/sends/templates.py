"""Template versions for send tests, made through the library's own workflow."""

from apps.accounts import roles
from apps.library.services import template_create, version_approve, version_submit
from tests.factories import UserFactory

SMS_BODY = (
    'Cue Demo: hi {{ contact.first_name | "there" }}, your demo is booked. '
    "Details: {link:details} Reply STOP to opt out."
)
LINKS = {"details": {"url": "https://www.example.com/demo", "key": True}}


def draft_sms_version(name: str = "Demo confirmation", body: str = SMS_BODY):
    author = UserFactory(role=roles.MARKETER)
    template = template_create(
        actor=author,
        name=name,
        channel="sms",
        purpose="confirm",
        category="marketing",
        body=body,
        links=LINKS,
    )
    return template.versions.get()


def approved_sms_version(name: str = "Demo confirmation", body: str = SMS_BODY):
    version = draft_sms_version(name, body)
    version_submit(actor=version.author, version=version, notify=False)
    version = version_approve(actor=UserFactory(role=roles.APPROVER), version=version, notify=False)
    if version.status != "approved":
        version_approve(actor=UserFactory(role=roles.COMPLIANCE), version=version, notify=False)
    version.refresh_from_db()
    return version
