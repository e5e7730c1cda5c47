from django.db import migrations

from apps.accounts.roles import RolesSync


class Migration(migrations.Migration):
    """Compliance reads the beat schedules too."""

    dependencies = [
        ("accounts", "0003_phone_verification"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [RolesSync()]
