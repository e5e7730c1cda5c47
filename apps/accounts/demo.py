"""Demo users for every role, a sales team and its working hours."""

from datetime import time

from apps.accounts import roles
from apps.accounts.models import Team, User
from apps.accounts.services import brand_save, user_create, user_role_set, working_hours_set

DEMO_PASSWORD = "cue-demo-2026"

DEMO_USERS = [
    ("admin", roles.ADMIN, "Ada", "Admin", "+12025550101"),
    ("maria", roles.MARKETER, "Maria", "Marketer", "+12025550102"),
    ("alex", roles.APPROVER, "Alex", "Approver", "+12025550103"),
    ("carol", roles.COMPLIANCE, "Carol", "Compliance", "+12025550104"),
    ("sam", roles.SALES_REP, "Sam", "Rep", "+12025550105"),
    ("riley", roles.SALES_REP, "Riley", "Rep", "+12025550106"),
    ("morgan", roles.SALES_MANAGER, "Morgan", "Manager", "+12025550107"),
]

WEEKDAYS_NINE_TO_FIVE = {day: (time(9), time(17)) for day in range(5)}

DEMO_BRAND = {
    "name": "Cue Demo",
    "help_reply": "{brand}: Help at {support}. Msg & data rates may apply. Reply STOP to opt out.",
    "support_email": "support@example.com",
    "support_phone": "1-800-555-0100",
    "optin_message_frequency": "Up to 4 msgs/month",
    "postal_address": "Cue Demo Inc., 100 Market Street, Suite 300, Springfield, IL 62701",
}


def brand_seed_demo() -> None:
    """The demo brand, which the demo templates name (and the tests expect)."""
    brand_save(reason="Demo brand", **DEMO_BRAND)


def seed(workspace: dict) -> None:
    brand_seed_demo()
    team, _ = Team.objects.get_or_create(name="East Coast Sales")
    users = {}
    for username, role, first, last, phone in DEMO_USERS:
        users[username] = _demo_user(username, role, first, last, phone, team)
        workspace["logins"].append({"role": role, "username": username, "password": DEMO_PASSWORD})
    if team.manager_id != users["morgan"].pk:
        team.manager = users["morgan"]
        team.save(update_fields=["manager"])
    for rep in ("sam", "riley"):
        working_hours_set(user=users[rep], windows=WEEKDAYS_NINE_TO_FIVE)
    workspace["users"] = users
    workspace["team"] = team


def _demo_user(username, role, first, last, phone, team) -> User:
    user = User.objects.filter(username=username).first()
    in_team = team if role in (roles.SALES_REP, roles.SALES_MANAGER) else None
    if user is None:
        return user_create(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            email=f"{username}@demo.cue.example",
            first_name=first,
            last_name=last,
            team=in_team,
            phone=phone,
        )
    return user_role_set(user=user, role=role)
