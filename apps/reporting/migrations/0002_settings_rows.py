from django.db import migrations


def settings_rows_create(apps, schema_editor):
    """The one row of each settings table exists from the start: people edit it, never add it."""
    for name in ("AttributionSettings", "FatigueSettings"):
        apps.get_model("reporting", name).objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_initial")]

    operations = [migrations.RunPython(settings_rows_create, migrations.RunPython.noop)]
