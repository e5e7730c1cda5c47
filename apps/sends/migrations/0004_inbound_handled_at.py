from django.db import migrations, models
from django.db.models import F


def texts_received_so_far_handled(apps, schema_editor):
    """Every text stored before this field existed was handled in its own request."""
    inbound = apps.get_model("sends", "InboundMessage")
    inbound.objects.filter(handled_at=None).update(handled_at=F("received_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("sends", "0003_message_time_and_reason_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="inboundmessage",
            name="handled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(texts_received_so_far_handled, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="inboundmessage",
            index=models.Index(
                condition=models.Q(("handled_at", None)),
                fields=["received_at"],
                name="inbound_unhandled",
            ),
        ),
    ]
