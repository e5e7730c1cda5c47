"""The six blueprints: each SMS does one job next to email and sales (see the package).

Stages are named by what they mean, never by Cue's default keys: segments and branches use
the `lifecycle_meaning` rule, and a trigger that needs a key names `LifecycleKeyOf(meaning)`.
"""

from dataclasses import dataclass

from apps.accounts.selectors import brand_current
from apps.contacts.models import LifecycleMeaning
from apps.library.demo import DEMO_SITE, STOP, DemoTemplate


@dataclass(frozen=True)
class LifecycleKeyOf:
    """The customer's lifecycle stage with this meaning, put in when the blueprint is
    loaded: a team that renamed its stages still gets a working journey."""

    meaning: str


@dataclass(frozen=True)
class Blueprint:
    slug: str
    name: str
    summary: str
    fields: dict
    steps: tuple[tuple[str, str, dict], ...]  # (key, kind, config); the first one starts
    segment: str = ""  # an entry segment from SEGMENTS
    limitation: str = ""

    def template_slugs(self) -> list[str]:
        return [
            config["template"][1:]
            for _, _, config in self.steps
            if str(config.get("template", "")).startswith("@")
        ]


SEGMENTS = {
    "High-intent prospects": {
        "all": [
            {"field": "intent_band", "op": "eq", "value": "high"},
            {"field": "kind", "op": "eq", "value": "prospect"},
            {"field": "lifecycle_meaning", "op": "in", "value": ["prospect", "mql", "sql"]},
        ]
    },
    "Churned customers": {"all": [{"field": "lifecycle_meaning", "op": "eq", "value": "churned"}]},
}


def blueprint_templates() -> list[DemoTemplate]:
    """Templates the blueprints need beyond the library's demo set."""
    brand = brand_current().name
    return [
        DemoTemplate(
            "webinar-missed", "Webinar missed: reply for the recording", "progress", "marketing",
            f'{brand}: {{{{ contact.first_name | "Hi" }}}}, sorry we missed you at Route '
            f"planning 101. Reply YES and we'll email you the recording. {STOP}",
            tags="webinar",
        ),
        DemoTemplate(
            "pricing-guide-email", "Pricing guide (email)", "progress", "marketing",
            'Hi {{ contact.first_name | "there" }},\n\nHere is the pricing guide you asked '
            "for: {link:guide}\n\nIt walks through each plan with real fleet sizes, so you "
            "can see what yours would cost. If a quick call is easier, reply to this email."
            f"\n\nThe {brand} team\n\n{brand_current().postal_address}\n"
            "Unsubscribe: {link:unsubscribe}",
            channel="email",
            subject="Your pricing guide",
            links={"guide": {"url": f"{DEMO_SITE}/pricing-guide", "key": True}},
            tags="email first, pricing",
        ),
    ]  # fmt: skip


BLUEPRINTS = (
    Blueprint(
        "webinar-reminder",
        "Webinar reminder",
        "Registered for a webinar → a reminder text 1 hour before it starts (the event's "
        "starts_at) → a recording email "
        "for those who attend; those who miss it are asked to reply for the recording.",
        {
            "trigger_event_type": "webinar_registered",
            "exit_event_types": ["meeting_booked"],
            "reentry": "after_days",
            "reentry_days": 1,
            "goal_description": "The registrant attends the webinar (or books a meeting).",
        },
        (
            # Registrations carry the webinar's start, e.g. {"starts_at": "2026-12-03T17:00Z"}.
            (
                "before_start",
                "wait",
                {"until_property": "starts_at", "offset_minutes": -60, "next": "remind"},
            ),
            ("remind", "send_sms", {"template": "@webinar-reminder", "next": "attend"}),
            (
                "attend",
                "wait_until",
                {
                    "events": ["webinar_attended"],
                    "within_hours": 3,
                    "next": "recording",
                    "on_timeout": "missed",
                },
            ),
            ("recording", "send_email", {"template": "@webinar-recording-email"}),
            ("missed", "send_sms", {"template": "@webinar-missed", "next": "confirm"}),
            (
                "confirm",
                "wait_until",
                {"events": ["sms_reply"], "within_hours": 48, "next": "recording"},
            ),
        ),
    ),
    Blueprint(
        "demo-request",
        "Demo request: speed to lead",
        "Requested a demo → a follow-up task for the owner at once, and a confirmation text "
        "that says who will call.",
        {
            "trigger_event_type": "demo_request",
            "exit_event_types": ["meeting_booked"],
            "reentry": "after_days",
            "reentry_days": 30,
            "goal_description": "A meeting is booked.",
        },
        (
            (
                "call",
                "create_task",
                {"reason": "Demo requested: call within 5 minutes.", "next": "confirm"},
            ),
            (
                "confirm",
                "send_sms",
                {"template": "@demo-request-confirmation", "on_deferred": "continue"},
            ),
        ),
    ),
    Blueprint(
        "stalled-high-intent",
        "Stalled high-intent prospect",
        "A high-intent prospect viewed pricing → 3 days later, if no meeting is booked, "
        "one text offering time with their rep.",
        {
            "trigger_event_type": "pricing_view",
            "exit_event_types": ["meeting_booked", "demo_request"],
            "exit_on_opportunity": True,
            "reentry": "after_days",
            "reentry_days": 30,
            "goal_description": "A meeting is booked, a demo requested or an opportunity opened.",
        },
        (
            ("pause", "wait", {"days": 3, "next": "booked"}),
            (
                "booked",
                "branch",
                {
                    "condition": {
                        "rules": {"all": [{"event": "meeting_booked", "within_days": 3}]}
                    },
                    "then": "done",
                    "else": "nudge",
                },
            ),
            ("nudge", "send_sms", {"template": "@stalled-high-intent-nudge"}),
            ("done", "exit", {}),
        ),
        segment="High-intent prospects",
    ),
    Blueprint(
        "email-first",
        "Email first, then SMS",
        "Asked for the pricing guide → the guide by email → 2 days later a short text, only "
        "if the email was not clicked and the contact is still a prospect or MQL.",
        {
            "trigger_event_type": "form_submit",
            "trigger_filters": {"form": "pricing-guide"},
            "exit_event_types": ["meeting_booked", "demo_request"],
            "reentry": "after_days",
            "reentry_days": 30,
            "goal_description": "The contact moves forward: meeting booked or demo requested.",
        },
        (
            ("guide", "send_email", {"template": "@pricing-guide-email", "next": "pause"}),
            ("pause", "wait", {"days": 2, "next": "clicked"}),
            (
                "clicked",
                "branch",
                {
                    "condition": {"step_outcome": {"step": "guide", "is": "clicked"}},
                    "then": "done",
                    "else": "still_early",
                },
            ),
            (
                "still_early",
                "branch",
                {
                    "condition": {
                        "rules": {
                            "all": [
                                {
                                    "field": "lifecycle_meaning",
                                    "op": "in",
                                    "value": ["prospect", "mql"],
                                }
                            ]
                        }
                    },
                    "then": "text",
                    "else": "done",
                },
            ),
            ("text", "send_sms", {"template": "@email-follow-up"}),
            ("done", "exit", {}),
        ),
    ),
    Blueprint(
        "customer-onboarding",
        "Customer onboarding: connect the calendar",
        "Became a customer → if the calendar is not connected within 2 days, one text with "
        "the setup link; 3 days after that, a task for a setup call.",
        {
            "trigger_event_type": "lifecycle_stage_changed",
            "trigger_filters": {"to": LifecycleKeyOf(LifecycleMeaning.CUSTOMER)},
            "exit_event_types": ["calendar_connected"],
            "goal_description": "The new customer connects their calendar.",
        },
        (
            (
                "setup",
                "wait_until",
                {
                    "events": ["calendar_connected"],
                    "within_hours": 48,
                    "next": "done",
                    "on_timeout": "nudge",
                },
            ),
            ("nudge", "send_sms", {"template": "@onboarding-calendar", "next": "after"}),
            (
                "after",
                "wait_until",
                {
                    "events": ["calendar_connected"],
                    "within_hours": 72,
                    "next": "done",
                    "on_timeout": "call",
                },
            ),
            (
                "call",
                "create_task",
                {"reason": "New customer has not connected a calendar: offer a setup call."},
            ),
            ("done", "exit", {}),
        ),
        limitation="Needs the product to send a calendar_connected event.",
    ),
    Blueprint(
        "reactivation",
        "Win back a churned customer",
        "A churned customer clicks an email → a day later, if they have not looked at "
        "pricing, one text on what's new; a look at pricing or a click makes a task for "
        "the owner. 10% are held out to measure the lift.",
        {
            "trigger_event_type": "email_click",
            "exit_event_types": ["meeting_booked"],
            "exit_on_opportunity": True,
            "reentry": "after_days",
            "reentry_days": 90,
            "holdout_percent": 10,
            "goal_description": "A meeting is booked or an opportunity opened.",
        },
        (
            ("pause", "wait", {"days": 1, "next": "returned"}),
            (
                "returned",
                "branch",
                {
                    "condition": {"rules": {"all": [{"event": "pricing_view", "within_days": 2}]}},
                    "then": "call",
                    "else": "nudge",
                },
            ),
            ("nudge", "send_sms", {"template": "@reactivation", "next": "reply"}),
            (
                "reply",
                "wait_until",
                {"events": ["sms_click", "sms_reply"], "within_hours": 72, "next": "call"},
            ),
            (
                "call",
                "create_task",
                {"reason": "A churned customer is looking again: call about coming back."},
            ),
        ),
        segment="Churned customers",
        limitation="Starts on a real action (an email click) by a churned customer, not on "
        "the churn itself.",
    ),
)
