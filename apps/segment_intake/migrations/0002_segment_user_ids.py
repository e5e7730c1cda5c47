"""Segment's userIds become "segment" source ids.

Until now a userId was looked up as Contact.external_id, so on a deployment that has used
Segment (it has a write key) every existing external id may be a userId some source sends:
each one is also copied as the contact's "segment" id, so that the same userId keeps naming
the same contact. New ids after this are kept apart by source.
"""

from django.db import migrations
from django.utils import timezone

BATCH = 2000


def user_ids_copy(apps, schema_editor):
    if not apps.get_model("segment_intake", "SegmentWriteKey").objects.exists():
        return
    Contact = apps.get_model("contacts", "Contact")
    ContactExternalId = apps.get_model("contacts", "ContactExternalId")
    now = timezone.now()
    rows = (
        Contact.objects.exclude(external_id__isnull=True)
        .exclude(external_id="")
        .values_list("pk", "external_id")
        .order_by("pk")
    )
    batch = []
    for pk, value in rows.iterator(chunk_size=BATCH):
        batch.append(
            ContactExternalId(contact_id=pk, source="segment", value=value, created_at=now)
        )
        if len(batch) >= BATCH:
            ContactExternalId.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    ContactExternalId.objects.bulk_create(batch, ignore_conflicts=True)


def user_ids_remove(apps, schema_editor):
    """Reversed: the "segment" rows go. A userId first seen after the migration was never
    in the external_id column, so the old code no longer finds its contact by it."""
    apps.get_model("contacts", "ContactExternalId").objects.filter(source="segment").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("segment_intake", "0001_segment_write_keys_rejections_anonymous_ids"),
        ("contacts", "0010_contact_external_ids"),
    ]

    operations = [migrations.RunPython(user_ids_copy, user_ids_remove)]
