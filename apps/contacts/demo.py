"""A believable CRM: companies, contacts at every stage, their recent behaviour and deals."""

from datetime import timedelta

from django.utils import timezone

from apps.contacts.events import EventInput, record_events
from apps.contacts.models import Contact, EventWeight
from apps.contacts.services import company_upsert, contact_upsert, opportunity_upsert

EVENT_WEIGHTS = {
    "demo_request": (40, 14),
    "pricing_view": (12, 7),
    "meeting_booked": (30, 21),
    "webinar_attended": (15, 14),
    "webinar_registered": (6, 14),
    "email_click": (5, 7),
    "sms_click": (8, 7),
    "sms_reply": (10, 7),
    "form_submit": (8, 14),
    "email_open": (1, 3),
}

COMPANIES = [
    ("acme", "Acme Logistics", "acme.example", "Logistics", 1200, "IL"),
    ("northwind", "Northwind Health", "northwind.example", "Healthcare", 300, "FL"),
    ("globex", "Globex Manufacturing", "globex.example", "Manufacturing", 5400, "TX"),
    ("initech", "Initech Software", "initech.example", "Software", 80, "CA"),
]

# external id, first, last, company, stage, kind, role, phone, zone, region, owner
CONTACTS = [
    (
        "demo-1",
        "Dana",
        "Reyes",
        "acme",
        "lead",
        "prospect",
        "evaluator",
        "+13125550141",
        "America/Chicago",
        "IL",
        "sam",
    ),
    (
        "demo-2",
        "Priya",
        "Natarajan",
        "acme",
        "mql",
        "prospect",
        "decision_maker",
        "+13125550142",
        "America/Chicago",
        "IL",
        "sam",
    ),
    (
        "demo-3",
        "Tom",
        "Becker",
        "northwind",
        "sql",
        "prospect",
        "champion",
        "+13055550143",
        "America/New_York",
        "FL",
        "riley",
    ),
    (
        "demo-4",
        "Lena",
        "Fischer",
        "northwind",
        "opportunity",
        "prospect",
        "decision_maker",
        "+13055550144",
        "",
        "FL",
        "riley",
    ),
    (
        "demo-5",
        "Marcus",
        "Hill",
        "globex",
        "customer",
        "customer",
        "user",
        "+12145550145",
        "America/Chicago",
        "TX",
        "sam",
    ),
    (
        "demo-6",
        "Aiko",
        "Tanaka",
        "initech",
        "subscriber",
        "prospect",
        "influencer",
        "+14155550146",
        "America/Los_Angeles",
        "CA",
        "",
    ),
    (
        "demo-7",
        "Sofia",
        "Alvarez",
        "globex",
        "churned",
        "customer",
        "champion",
        "+12145550147",
        "",
        "TX",
        "riley",
    ),
    ("demo-8", "Noah", "Kim", "initech", "lead", "prospect", "user", "+12085550148", "", "", ""),
]

# external id, event type, hours ago, properties (a timedelta is a time that far from now)
EVENTS = [
    (
        "demo-1",
        "webinar_registered",
        30,
        {"webinar": "Route planning 101", "starts_at": timedelta(days=2)},
    ),
    ("demo-1", "email_click", 20, {"campaign": "webinar-reminder"}),
    ("demo-2", "pricing_view", 5, {"page": "/pricing"}),
    ("demo-2", "pricing_view", 3, {"page": "/pricing/enterprise"}),
    ("demo-2", "demo_request", 1, {"form": "contact-sales"}),
    ("demo-3", "webinar_attended", 50, {"webinar": "Route planning 101"}),
    ("demo-3", "meeting_booked", 10, {"with": "riley"}),
    ("demo-4", "pricing_view", 70, {"page": "/pricing"}),
    ("demo-6", "form_submit", 2, {"form": "newsletter"}),
    ("demo-8", "pricing_view", 4, {"page": "/pricing"}),
]


def seed(workspace: dict) -> None:
    for event_type, (weight, half_life) in EVENT_WEIGHTS.items():
        EventWeight.objects.get_or_create(
            type=event_type, defaults={"weight": weight, "half_life_days": half_life}
        )
    companies = {key: _company(*row) for key, *row in COMPANIES}
    users = workspace.get("users", {})
    contacts = {row[0]: _contact(row, companies, users) for row in CONTACTS}
    _events(contacts)
    opportunity_upsert(
        external_id="demo-opp-1",
        name="Northwind fleet rollout",
        stage="proposal",
        contact=contacts["demo-4"],
        company=companies["northwind"],
        amount=48000,
    )
    workspace["contacts"] = contacts
    workspace["companies"] = companies


def _company(name, domain, industry, employees, region):
    return company_upsert(
        name=name,
        external_id=f"demo-{domain}",
        domain=domain,
        industry=industry,
        employee_count=employees,
        region=region,
    )


def _contact(row, companies, users) -> Contact:
    external_id, first, last, company, stage, kind, role, phone, zone, region, owner = row
    fields = {
        "external_id": external_id,
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}@{companies[company].domain}",
        "phone": phone,
        "time_zone": zone,
        "region": region,
        "company": companies[company],
        "lifecycle_stage": stage,
        "kind": kind,
        "buying_role": role,
        "source": "demo",
        "owner": users.get(owner),
    }
    return contact_upsert(fields=fields).contact


def _events(contacts: dict) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    record_events(
        [
            EventInput(
                contacts[ext],
                event_type,
                now - timedelta(hours=hours),
                f"demo:{ext}:{event_type}:{hours}",
                _times_resolved(properties, now),
                "demo",
            )
            for ext, event_type, hours, properties in EVENTS
        ]
    )


def _times_resolved(properties: dict, now) -> dict:
    return {
        key: (now + value).isoformat() if isinstance(value, timedelta) else value
        for key, value in properties.items()
    }
