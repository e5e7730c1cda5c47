from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sends", "0011_inbound_messaging_service"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundmessage",
            name="html",
            field=models.TextField(blank=True, default=""),
            preserve_default=False,
        ),
    ]
