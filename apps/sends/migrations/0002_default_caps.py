from django.db import migrations

from apps.sends.caps import caps_defaults_ensure


def caps_create(apps, schema_editor):
    caps_defaults_ensure(apps.get_model("sends", "FrequencyCap"))


class Migration(migrations.Migration):
    """The frequency caps Cue starts with."""

    dependencies = [("sends", "0001_initial")]

    operations = [migrations.RunPython(caps_create, migrations.RunPython.noop)]
