import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("journeys", "0005_journey_versions_from_steps")]

    operations = [
        migrations.AlterField(
            model_name="step",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="steps",
                to="journeys.journeyversion",
            ),
        ),
        migrations.AddConstraint(
            model_name="step",
            constraint=models.UniqueConstraint(
                fields=("version", "key"),
                name="step_key_unique_in_version",
                violation_error_message="Another step of this version has this key.",
            ),
        ),
    ]
