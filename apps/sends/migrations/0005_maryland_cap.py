from django.db import migrations

from apps.sends.caps import caps_defaults_ensure


def caps_create(apps, schema_editor):
    caps_defaults_ensure(apps.get_model("sends", "FrequencyCap"))


class Migration(migrations.Migration):
    """Maryland's cap (Stop the Spam Calls Act of 2023): three a day, like Florida's."""

    dependencies = [("sends", "0004_inbound_handled_at")]

    operations = [migrations.RunPython(caps_create, migrations.RunPython.noop)]
