"""The CRM data the crm_sync bench reads: one world seeded into the fake HubSpot or the fake
Salesforce, in the fake's own process (bench/fake_process.py), and the changes made to it
for the incremental sync. Every function here runs in that process."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apps.crm.testing.fake_hubspot import DEFAULT_TOKEN, FakeHubSpot
from apps.crm.testing.fake_salesforce import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
    FakeSalesforce,
)

HUBSPOT_TOKEN = DEFAULT_TOKEN
SF_CLIENT_ID, SF_CLIENT_SECRET, SF_REFRESH_TOKEN = (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
)
OWNER_EMAILS = [f"rep{i}@bench.example" for i in range(5)]
CHANGED_NAME = "Changed"
HUBSPOT_LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead")
# (CRM pipeline, CRM stage, Cue stage of the "sales" pipeline), in the order deals move.
DEAL_STAGES = {
    "hubspot": [
        ("default", "appointmentscheduled", "discovery"),
        ("default", "qualifiedtobuy", "demo"),
        ("default", "contractsent", "proposal"),
    ],
    "salesforce": [
        ("opportunity", "Prospecting", "discovery"),
        ("opportunity", "Qualification", "demo"),
        ("opportunity", "Proposal/Price Quote", "proposal"),
    ],
}


@dataclass(frozen=True)
class Sizes:
    contacts: int
    companies: int
    deals: int


def stage_moves(deals: int) -> int:
    """Every deal moves twice; every second one a third time."""
    return 2 * deals + math.ceil(deals / 2)


def _moves(index: int) -> int:
    return 3 if index % 2 == 0 else 2


def _start_time() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


def _phone(index: int) -> str:
    # Exchanges 200–299 of area code 415: valid North American numbers, all distinct.
    return f"+1415{200 + index // 10_000:03d}{index % 10_000:04d}"


def requests_count(fake) -> int:
    return len(fake.requests)


# HubSpot


def hubspot_start() -> FakeHubSpot:
    return FakeHubSpot(HUBSPOT_TOKEN).start()


def hubspot_seed(fake: FakeHubSpot, sizes: Sizes) -> str:
    t0 = _start_time()
    owners = [fake.owner_add(email, "Rep", str(i)) for i, email in enumerate(OWNER_EMAILS)]
    companies = fake.records_seed(
        "companies",
        sizes.companies,
        properties=lambda i: {
            "name": f"Company {i}",
            "domain": f"company{i}.bench.example",
            "industry": "COMPUTER_SOFTWARE",
            "numberofemployees": str(10 + i % 500),
            "state": "CA",
            "country": "US",
        },
        modified_at=t0,
    )
    contacts = fake.records_seed(
        "contacts",
        sizes.contacts,
        properties=lambda i: {
            "firstname": f"First{i}",
            "lastname": f"Last{i}",
            "email": f"person{i}@bench.example",
            "phone": _phone(i),
            "hubspot_owner_id": owners[i % len(owners)],
            "lifecyclestage": HUBSPOT_LIFECYCLE[i % len(HUBSPOT_LIFECYCLE)],
            "state": "CA",
            "country": "US",
        },
        modified_at=t0,
    )
    for index, contact in enumerate(contacts):
        fake.associate("contacts", contact, "companies", companies[index % len(companies)])
    deals = fake.records_seed(
        "deals",
        sizes.deals,
        properties=lambda i: _hubspot_deal(i, t0),
        modified_at=lambda i: _stage_time(t0, i, _moves(i) - 1),
    )
    for index, deal in enumerate(deals):
        fake.associate("deals", deal, "contacts", contacts[(index * 5) % len(contacts)])
        fake.associate("deals", deal, "companies", companies[index % len(companies)])
    fake.bench_contacts = contacts
    return fake.base_url


def _stage_time(t0: datetime, index: int, move: int) -> datetime:
    return t0 + timedelta(days=1 + 2 * move, seconds=index)


def _hubspot_deal(index: int, t0: datetime) -> dict:
    stages = [stage for _, stage, _ in DEAL_STAGES["hubspot"][: _moves(index)]]
    entered = {
        f"hs_date_entered_{stage}": _stage_time(t0, index, move).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for move, stage in enumerate(stages)
    }
    return {
        "dealname": f"Deal {index}",
        "amount": str(1000 + index % 9000),
        "pipeline": "default",
        "dealstage": stages[-1],
        **entered,
    }


def hubspot_change(fake: FakeHubSpot, count: int) -> list[str]:
    """`count` contacts renamed in HubSpot, each at a time of its own, after the full sync."""
    contacts = fake.bench_contacts
    step = max(1, len(contacts) // count)
    changed = contacts[::step][:count]
    start = datetime.now(UTC) - timedelta(hours=1)
    for index, contact in enumerate(changed):
        fake.record_modify(
            "contacts",
            contact,
            {"lastname": f"{CHANGED_NAME}{index}"},
            modified_at=start + timedelta(milliseconds=index),
        )
    return changed


# Salesforce


def salesforce_start() -> FakeSalesforce:
    return FakeSalesforce().start()


def salesforce_seed(fake: FakeSalesforce, sizes: Sizes) -> tuple[str, str]:
    t0 = _start_time()
    users = fake.seed(
        "User",
        [{"FirstName": "Rep", "LastName": str(i), "Email": e} for i, e in enumerate(OWNER_EMAILS)],
        at=t0,
    )
    accounts = fake.seed(
        "Account",
        [
            {
                "Name": f"Company {i}",
                "Website": f"company{i}.bench.example",
                "Industry": "Technology",
                "NumberOfEmployees": 10 + i % 500,
                "BillingState": "CA",
                "BillingCountry": "US",
                "OwnerId": users[i % len(users)],
            }
            for i in range(sizes.companies)
        ],
        at=t0,
    )
    contacts = fake.seed(
        "Contact",
        [
            {
                "FirstName": f"First{i}",
                "LastName": f"Last{i}",
                "Email": f"person{i}@bench.example",
                "MobilePhone": _phone(i),
                "MailingState": "CA",
                "MailingCountry": "US",
                "AccountId": accounts[i % len(accounts)],
                "OwnerId": users[i % len(users)],
            }
            for i in range(sizes.contacts)
        ],
        at=t0,
    )
    _salesforce_deals(fake, sizes, t0, users, accounts, contacts)
    fake.bench_contacts = contacts
    return fake.base_url, fake.ca_path


def _salesforce_deals(fake, sizes: Sizes, t0: datetime, users, accounts, contacts) -> None:
    """Opportunities created in the first stage, then moved: each move an OpportunityHistory
    row at its own time, as Salesforce keeps it."""
    stages = [stage for _, stage, _ in DEAL_STAGES["salesforce"]]
    deals = fake.seed(
        "Opportunity",
        [
            {
                "Name": f"Deal {i}",
                "AccountId": accounts[i % len(accounts)],
                "ContactId": contacts[(i * 5) % len(contacts)],
                "StageName": stages[0],
                "Amount": 1000 + i % 9000,
                "CloseDate": (t0 + timedelta(days=60)).date().isoformat(),
                "OwnerId": users[i % len(users)],
            }
            for i in range(sizes.deals)
        ],
        at=_stage_time(t0, 0, 0),
    )
    for index, deal in enumerate(deals):
        for move in range(1, _moves(index)):
            at = _stage_time(t0, index, move)
            fake.modify("Opportunity", deal, at=at, StageName=stages[move])


def salesforce_change(fake: FakeSalesforce, count: int) -> list[str]:
    contacts = fake.bench_contacts
    step = max(1, len(contacts) // count)
    changed = contacts[::step][:count]
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    for index, contact in enumerate(changed):
        fake.modify("Contact", contact, at=at, LastName=f"{CHANGED_NAME}{index}")
    return changed


CHANGE_FUNCTIONS = {"hubspot": hubspot_change, "salesforce": salesforce_change}
