from django.db import migrations

from apps.accounts.roles import RolesSync


class Migration(migrations.Migration):
    """Compliance reads the sign-in logs only, not the lockout counters (access attempts)."""

    dependencies = [
        ("accounts", "0008_retired_token"),
    ]

    operations = [RolesSync()]
