"""Approved templates for the journeys in the source articles: each SMS does one job
(confirm, remind, progress, decide, reactivate, onboard) next to the email that tells the
story. Written by Maria, approved by Alex (and Carol where compliance must approve)."""

from dataclasses import dataclass, field

from apps.accounts.selectors import brand_current
from apps.library.models import MessageTemplate, VersionStatus
from apps.library.selectors import open_version
from apps.library.services import (
    template_content_edit,
    template_create,
    template_update,
    version_approve,
    version_submit,
)

DEMO_SITE = "https://demo.cue.example"
STOP = "Reply STOP to opt out."


@dataclass(frozen=True)
class DemoTemplate:
    slug: str
    name: str
    purpose: str
    category: str
    body: str
    channel: str = "sms"
    subject: str = ""
    links: dict = field(default_factory=dict)
    tags: str = ""
    html: str = ""

    def content(self) -> dict:
        return {
            "body": self.body, "html": self.html, "subject": self.subject, "links": self.links,
            "defaults": {},
        }  # fmt: skip


def _link(path: str, key: bool = False) -> dict:
    return {"url": f"{DEMO_SITE}{path}", "key": key}


def demo_templates() -> list[DemoTemplate]:
    brand, address = brand_current().name, brand_current().postal_address
    return [
        DemoTemplate(
            "webinar-reminder", "Webinar reminder, 1 hour before", "remind", "marketing",
            f'{brand}: {{{{ contact.first_name | "Hi" }}}}, the webinar starts in 1 hour. '
            f"Join here: {{link:join}} {STOP}",
            links={"join": _link("/webinars/route-planning-101/join")}, tags="webinar",
        ),
        DemoTemplate(
            "demo-request-confirmation", "Demo request confirmation", "confirm", "transactional",
            'Thanks {{ contact.first_name | "there" }}, your demo request is in. '
            '{{ owner.first_name | "Your account rep" }} will call you within one business '
            f"day. - {brand}",
            tags="demo request",
        ),
        DemoTemplate(
            "stalled-high-intent-nudge", "Stalled high-intent nudge", "decide", "marketing",
            f'{brand}: {{{{ contact.first_name | "Hi" }}}}, still weighing options for '
            '{{ contact.company | "your team" }}? Pick a time with '
            f'{{{{ owner.first_name | "our team" }}}}: {{link:book}} {STOP}',
            links={"book": _link("/book-a-meeting", key=True)}, tags="high intent, pricing",
        ),
        DemoTemplate(
            "email-follow-up", "Follow-up to the pricing guide email", "progress", "marketing",
            f'{brand}: {{{{ contact.first_name | "Hi" }}}}, we emailed you the pricing guide. '
            f"Want the 2-minute version? {{link:guide}} {STOP}",
            links={"guide": _link("/pricing-guide/summary")}, tags="email first, pricing",
        ),
        DemoTemplate(
            "onboarding-calendar", "Onboarding step 2: connect your calendar", "onboard",
            "transactional",
            'Welcome aboard, {{ contact.first_name | "there" }}! Step 2 of setup: connect your '
            f"calendar so meetings sync: {{link:setup}} - {brand}",
            links={"setup": _link("/app/setup/calendar")}, tags="onboarding",
        ),
        DemoTemplate(
            "reactivation", "Reactivation: what's new", "reactivate", "marketing",
            f'{brand}: {{{{ contact.first_name | "Hi" }}}}, a lot has changed since your last '
            f"visit. See what's new in 2 minutes: {{link:whats_new}} {STOP}",
            links={"whats_new": _link("/whats-new")}, tags="reactivation",
        ),
        DemoTemplate(
            "webinar-recording-email", "Webinar recording (email)", "progress", "marketing",
            "",  # the text part is derived from the HTML
            html=_recording_html(brand, address),
            channel="email",
            subject='Your webinar recording, {{ contact.first_name | "there" }}',
            links={"recording": _link("/webinars/route-planning-101/recording")},
            tags="webinar",
        ),
    ]  # fmt: skip


def seed(workspace: dict) -> None:
    users = workspace["users"]
    people = (users["maria"], users["alex"], users["carol"])
    workspace["templates"] = {spec.slug: _template(spec, *people) for spec in demo_templates()}


def _template(spec: DemoTemplate, author, approver, compliance) -> MessageTemplate:
    template = MessageTemplate.objects.filter(name=spec.name).first()
    if template is None:
        template = template_create(
            actor=author, name=spec.name, channel=spec.channel, purpose=spec.purpose,
            category=spec.category, tags=spec.tags, **spec.content(),
        )  # fmt: skip
    fields = {"purpose": spec.purpose, "tags": spec.tags}
    template = template_update(actor=author, template=template, fields=fields)
    if not _is_live(template, spec):
        _make_live(template, spec, author, approver, compliance)
    return template


def _is_live(template: MessageTemplate, spec: DemoTemplate) -> bool:
    current = template.current_version
    return current is not None and all(
        getattr(current, name) == value for name, value in spec.content().items()
    )


def _make_live(template, spec: DemoTemplate, author, approver, compliance) -> None:
    waiting = open_version(template)
    if waiting is not None and waiting.status == VersionStatus.SUBMITTED:
        return  # someone is reviewing it in the demo: leave their work alone
    draft = template_content_edit(actor=author, template=template, **spec.content())
    draft = draft or open_version(template)
    version_submit(actor=author, version=draft, notify=False)
    version_approve(actor=approver, version=draft, notify=False)
    if template.needs_compliance_approval:
        version_approve(actor=compliance, version=draft, notify=False)
    template.refresh_from_db()


def _recording_html(brand: str, address: str) -> str:
    return (
        "<style>h1 { color: #1f4e79; font-size: 22px; } .foot { color: #666; "
        "font-size: 12px; }</style>"
        '<h1>Your recording of "Route planning 101"</h1>'
        '<p>Hi {{ contact.first_name | "there" }},</p>'
        '<p>Thanks for joining. <a href="{link:recording}">Watch the recording and get the '
        "slides</a>.</p>"
        "<p>When you are ready to map it to your own fleet, reply to this email and we will "
        f"set up a working session.</p><p>The {brand} team</p>"
        f'<p class="foot">{brand}, {address}<br>'
        '<a href="{link:unsubscribe}">Unsubscribe</a> from these emails.</p>'
    )
