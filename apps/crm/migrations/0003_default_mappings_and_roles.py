from django.db import migrations

from apps.accounts.roles import RolesSync
from apps.crm.mapping_defaults import mappings_seed


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_outbox"),
        ("contacts", "0007_customer_stages_and_pipelines"),
    ]

    operations = [
        # The default field mappings of each CRM and HubSpot's lifecycle stages.
        migrations.RunPython(mappings_seed, migrations.RunPython.noop),
        RolesSync(),  # staff read the CRM connection pages; an admin edits the mappings
    ]
