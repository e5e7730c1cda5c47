from django.db import migrations

from apps.accounts.roles import RolesSync


class Migration(migrations.Migration):
    """Creates the six role groups of Cue with their permissions."""

    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [RolesSync()]
