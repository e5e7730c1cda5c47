from django.db import migrations

from apps.accounts.roles import RolesSync


class Migration(migrations.Migration):
    """Compliance reads the sign-in logs (django-axes' access and failure logs)."""

    dependencies = [
        ("accounts", "0005_token_lifetime"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [RolesSync()]
