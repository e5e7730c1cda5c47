"""python -m apps.crm.testing.fake_hubspot: serve the fake HubSpot until Ctrl-C."""

import argparse
import signal
import sys
import time

from .fake import DEFAULT_TOKEN, DEFAULT_WEBHOOK_SECRET, FakeHubSpot
from .http import RecordedRequest


def request_line(recorded: RecordedRequest) -> str:
    """One log line per request: never the token, never property values."""
    when = recorded.received_at.strftime("%H:%M:%S")
    return f"{when} {recorded.method} {recorded.path} -> {recorded.status}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _demo_seed(fake: FakeHubSpot, contacts: int) -> None:
    owner = fake.owner_add("owner@example.com", "Olive", "Owner")
    company = fake.record_add("companies", {"name": "Example Inc", "domain": "example.com"})
    ids = fake.records_seed(
        "contacts",
        contacts,
        properties=lambda i: {
            "email": f"contact{i}@example.com",
            "firstname": f"Contact{i}",
            "phone": f"+1555{i:07d}",
            "hubspot_owner_id": owner,
            "lifecyclestage": "lead",
        },
    )
    for contact_id in ids[:100]:
        fake.associate("contacts", contact_id, "companies", company)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m apps.crm.testing.fake_hubspot",
        description="Serve a fake HubSpot CRM API until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    parser.add_argument("--seed-contacts", type=int, default=0, help="contacts to create")
    args = parser.parse_args(argv)

    fake = FakeHubSpot(
        args.token,
        webhook_secret=args.webhook_secret,
        host=args.host,
        port=args.port,
        on_request=lambda recorded: print(request_line(recorded), flush=True),
    )
    if args.seed_contacts:
        _demo_seed(fake, args.seed_contacts)
    # Process managers (honcho, docker) stop services with SIGTERM; shut down as for Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    fake.start()
    print(f"Fake HubSpot serving {fake.base_url}; Ctrl-C to stop", flush=True)
    try:
        while fake.is_running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Stopping fake HubSpot", flush=True)
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
