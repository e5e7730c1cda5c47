"""Serve a fake Salesforce org until Ctrl-C: python -m apps.crm.testing.fake_salesforce"""

import argparse
import signal
import sys
import time

from .server import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REFRESH_TOKEN,
    FakeSalesforce,
    RecordedRequest,
)


def request_line(recorded: RecordedRequest) -> str:
    when = recorded.received_at.astimezone().strftime("%H:%M:%S")
    soql = f" q={recorded.query['q']}" if "q" in recorded.query else ""
    return f"{when} {recorded.method} {recorded.path} -> {recorded.status}{soql}"


def contacts_seed(fake: FakeSalesforce, count: int) -> None:
    owner = fake.create("User", FirstName="Sam", LastName="Rep", Email="sam.rep@example.com")
    account = fake.create("Account", Name="Example Corp", OwnerId=owner)
    fake.seed(
        "Contact",
        [
            {
                "FirstName": "Contact",
                "LastName": f"{number:06d}",
                "Email": f"contact{number:06d}@example.com",
                "MobilePhone": f"+1415555{number % 10000:04d}",
                "AccountId": account,
                "OwnerId": owner,
            }
            for number in range(count)
        ],
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m apps.crm.testing.fake_salesforce",
        description="Serve a fake Salesforce org over HTTPS until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--refresh-token", default=DEFAULT_REFRESH_TOKEN)
    parser.add_argument("--batch-size", type=int, default=2000, help="records per query page")
    parser.add_argument("--seed-contacts", type=int, default=0, help="contacts to create")
    args = parser.parse_args(argv)

    fake = FakeSalesforce(
        args.client_id,
        args.client_secret,
        args.refresh_token,
        host=args.host,
        port=args.port,
        batch_size=args.batch_size,
        on_request=lambda recorded: print(request_line(recorded), flush=True),
    )
    if args.seed_contacts:
        contacts_seed(fake, args.seed_contacts)
    signal.signal(signal.SIGTERM, _interrupt)
    fake.start()
    print(
        f"Fake Salesforce serving {fake.base_url}; Ctrl-C to stop. Point Cue at it with:\n"
        f"  export REQUESTS_CA_BUNDLE={fake.ca_path}\n"
        f"  export SALESFORCE_LOGIN_URL={fake.base_url}\n"
        f"  export SALESFORCE_CLIENT_ID={args.client_id}\n"
        f"  export SALESFORCE_CLIENT_SECRET={args.client_secret}\n"
        f"  export SALESFORCE_REFRESH_TOKEN={args.refresh_token}",
        flush=True,
    )
    try:
        while fake.is_running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("Stopping fake Salesforce", flush=True)
    finally:
        fake.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
